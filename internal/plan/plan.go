package plan

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/strictyaml"
	"ferry.dev/ferry/internal/traffic"
)

// ErrInvalid marks every validation error of a plan.
var ErrInvalid = errors.New("invalid migration plan")

// Defaults of a plan.
const (
	DefaultHold     = 5 * time.Minute
	DefaultDeadline = 30 * time.Minute
	DefaultInterval = 5 * time.Second
	DefaultWarmup   = 30 * time.Second
)

// DefaultWeights are the steps of a plan that names none, in percent.
var DefaultWeights = []string{"1", "5", "10", "50", "100"}

// Plan is a migration: the steps, where traffic is split, where metrics come from,
// the gates, and whom to tell.
type Plan struct {
	// Name identifies the migration; its state is kept under it.
	Name  string `json:"name" yaml:"name"`
	Steps []Step `json:"steps" yaml:"steps"`
	// Router says which traffic.Router shifts the weights.
	Router RouterConfig `json:"router" yaml:"router"`
	// Metrics says where per-side request statistics come from.
	Metrics MetricsConfig `json:"metrics" yaml:"metrics"`
	Gates   GatesConfig   `json:"gates" yaml:"gates"`
	// Deadline fails a step that could not gather enough data within it.
	Deadline time.Duration `json:"deadline" yaml:"deadline"`
	// Interval between evaluations.
	Interval time.Duration `json:"interval" yaml:"interval"`
	// Warmup is left out of each step's window: requests just after a weight change
	// see cold connections and caches on the side that gained traffic.
	Warmup time.Duration `json:"warmup" yaml:"warmup"`
	Notify []Notify      `json:"notify" yaml:"notify"`
	// CronJobs, when set, keeps the app's CronJobs suspended until the migration
	// completes, then resumes them.
	CronJobs *CronJobsConfig `json:"cronJobs,omitempty" yaml:"cronJobs,omitempty"`
	// Final says how the last step (100 %) is judged.
	Final FinalConfig `json:"final" yaml:"final"`
	// Guard says what is checked before a step up and before an abort.
	Guard GuardConfig `json:"guard" yaml:"guard"`
	// State is the local state file (embedded mode); default .ferry/migration-NAME.json
	// beside the plan.
	State string `json:"state" yaml:"state"`
}

// DefaultControl is the legacy share kept while the last step is judged.
const DefaultControl = "1%"

// FinalConfig says how the last step is judged. At 100 % there is no concurrent
// control: the new side can only be compared with an earlier reference, and latency
// then moves with load and time of day as much as with the code. With a control, the
// last step is judged at 100 % minus the control's share beside legacy, and goes to
// 100 % only once every gate passed there.
type FinalConfig struct {
	// Control is the legacy share while the last step is judged ("1%", the default);
	// "0" judges the last step at 100 % against the previous step's new side.
	Control string `json:"control,omitempty" yaml:"control,omitempty"`

	// ControlBasisPoints is Control parsed.
	ControlBasisPoints int `json:"-" yaml:"-"`
}

// GuardConfig turns the checks made before a step up and before an abort on or off.
type GuardConfig struct {
	// LegacyCapacity, on unless set to false, checks that legacy can take the traffic
	// an abort would send it: a step up holds while it could not take all of it, and
	// an abort sends it only as much as it can take, the rest following as it
	// recovers. The router tells: the proxy by its healthy servers and their load,
	// Route 53 and ALB by the health AWS reports; the Gateway API router cannot tell,
	// and the guard then does not hold.
	LegacyCapacity *bool `json:"legacyCapacity,omitempty" yaml:"legacyCapacity,omitempty"`
}

// LegacyCapacityGuard says whether the legacy-capacity guard is on.
func (p *Plan) LegacyCapacityGuard() bool {
	return p.Guard.LegacyCapacity == nil || *p.Guard.LegacyCapacity
}

// MaxControl bounds the final step's control share.
const MaxControl = traffic.Total / 2

// Judged returns the Kubernetes share at which step i is judged: its weight, but for
// the last step with a control, 100 % minus the control.
func (p *Plan) Judged(i int) int {
	if i == len(p.Steps)-1 && p.Steps[i].BasisPoints == traffic.Total {
		return traffic.Total - p.Final.ControlBasisPoints
	}
	return p.Steps[i].BasisPoints
}

// Step is one weight to hold until the gates pass.
type Step struct {
	// Weight is the Kubernetes share, e.g. "5" or "0.5%".
	Weight string `json:"weight" yaml:"weight"`
	// Hold is the minimum time at this weight.
	Hold time.Duration `json:"hold" yaml:"hold"`
	// MinRequests is the minimum number of requests on the Kubernetes side.
	MinRequests int64 `json:"minRequests" yaml:"minRequests"`

	// BasisPoints is Weight parsed.
	BasisPoints int `json:"-" yaml:"-"`
}

// RouterConfig names exactly one router.
type RouterConfig struct {
	Proxy *ProxyConfig `json:"proxy,omitempty" yaml:"proxy,omitempty"`
	// ProxyFleet sets the weights on every replica of the proxy behind a Service.
	ProxyFleet *ProxyFleetConfig `json:"proxyFleet,omitempty" yaml:"proxyFleet,omitempty"`
	Route53    *Route53Config    `json:"route53,omitempty" yaml:"route53,omitempty"`
	Gateway    *GatewayConfig    `json:"gateway,omitempty" yaml:"gateway,omitempty"`
	ALB        *ALBConfig        `json:"alb,omitempty" yaml:"alb,omitempty"`
}

// ProxyConfig points at a running ferry proxy's admin API.
type ProxyConfig struct {
	// Admin is the admin API's base URL, e.g. http://127.0.0.1:9901.
	Admin string `json:"admin" yaml:"admin"`
	// TokenFile holds the admin bearer token; $FERRY_PROXY_TOKEN is used when empty.
	TokenFile string `json:"tokenFile,omitempty" yaml:"tokenFile,omitempty"`
}

// MetricsConfig names exactly one metric source.
type MetricsConfig struct {
	// Proxy uses the proxy's own per-side statistics (the router's admin API; for a
	// fleet, every replica's, merged).
	Proxy      *struct{}         `json:"proxy,omitempty" yaml:"proxy,omitempty"`
	Prometheus *PrometheusConfig `json:"prometheus,omitempty" yaml:"prometheus,omitempty"`
	Datadog    *DatadogConfig    `json:"datadog,omitempty" yaml:"datadog,omitempty"`
}

// GatesConfig configures the analysis gates; a missing section uses defaults.
type GatesConfig struct {
	ErrorRate *ErrorRateConfig `json:"errorRate,omitempty" yaml:"errorRate,omitempty"`
	Latency   *LatencyConfig   `json:"latency,omitempty" yaml:"latency,omitempty"`
	// Endpoints tunes the per-endpoint gates: the error-rate and latency gates run on
	// each endpoint too, with the metrics of the proxy or Prometheus.
	Endpoints *EndpointsConfig `json:"endpoints,omitempty" yaml:"endpoints,omitempty"`
	// Disable turns gates off by the names of their sections ("errorRate", "latency",
	// "endpoints"); one of errorRate and latency must stay. The older spelling
	// "error-rate" is still taken, as errorRate.
	Disable []string `json:"disable,omitempty" yaml:"disable,omitempty"`
}

// EndpointsConfig tunes analysis.EndpointGate. Endpoints are named as the proxy
// names them, "GET /users/{id}"; a template alone ("/healthz") names it for every
// method.
type EndpointsConfig struct {
	// Critical endpoints must have enough data, and pass, before a step passes.
	Critical []string `json:"critical,omitempty" yaml:"critical,omitempty"`
	// Ignore leaves endpoints out of the per-endpoint gates.
	Ignore []string `json:"ignore,omitempty" yaml:"ignore,omitempty"`
	// MaxEndpoints judges the busiest endpoints (on legacy) apart, up to this many
	// (default 100, at most 2000); the rest are judged together as "other". Fewer
	// endpoints leave each a larger share of the false-alarm bound.
	MaxEndpoints int `json:"maxEndpoints,omitempty" yaml:"maxEndpoints,omitempty"`
}

// Gate names, as gates.disable takes them: the names of the gates' own sections.
const (
	GateErrorRate = "errorRate"
	GateLatency   = "latency"
	GateEndpoints = "endpoints"
)

// gateSpellings are other names gates.disable takes for a gate: error-rate, from
// before gates.disable used the sections' names (and the Migration resource's).
var gateSpellings = map[string]string{"error-rate": GateErrorRate}

// Per-endpoint defaults and limits.
const (
	DefaultMaxEndpoints = 100
	MaxMaxEndpoints     = 2000
)

// EndpointsOn says whether the per-endpoint gates run: not disabled, and the metric
// source gives endpoints (the proxy or Prometheus; Datadog does not).
func (p *Plan) EndpointsOn() bool {
	return !slices.Contains(p.Gates.Disable, GateEndpoints) && p.Metrics.Datadog == nil
}

// ErrorRateConfig tunes analysis.ErrorRateGate.
type ErrorRateConfig struct {
	Alpha       float64 `json:"alpha" yaml:"alpha"`
	MinAbsolute float64 `json:"minAbsolute" yaml:"minAbsolute"`
	MinRelative float64 `json:"minRelative" yaml:"minRelative"`
	MaxRate     float64 `json:"maxRate" yaml:"maxRate"`
}

// LatencyConfig tunes analysis.LatencyGate.
type LatencyConfig struct {
	Alpha       float64 `json:"alpha" yaml:"alpha"`
	MaxP50Ratio float64 `json:"maxP50Ratio" yaml:"maxP50Ratio"`
	MaxP99Ratio float64 `json:"maxP99Ratio" yaml:"maxP99Ratio"`
	MaxRatio    float64 `json:"maxRatio" yaml:"maxRatio"`
	MinRequests int64   `json:"minRequests" yaml:"minRequests"`
	// Baseline is an APM baseline file whose overall row gives absolute limits.
	Baseline  string  `json:"baseline" yaml:"baseline"`
	Tolerance float64 `json:"tolerance" yaml:"tolerance"`
}

// Notify is one receiver of abort and completion messages.
type Notify struct {
	// Slack is a Slack-compatible incoming webhook URL ({"text": …}).
	Slack string `json:"slack,omitempty" yaml:"slack,omitempty"`
	// Webhook receives the event as JSON.
	Webhook string `json:"webhook,omitempty" yaml:"webhook,omitempty"`
}

// Load reads and validates a plan file.
func Load(path string) (*Plan, error) {
	data, dir, err := strictyaml.ReadFile(path, "migration plan")
	if err != nil {
		return nil, err
	}
	p, err := Parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse validates a plan whose relative paths are relative to dir. Its error wraps
// ErrInvalid and names every mistake, each with its field and line.
func Parse(data []byte, dir string) (*Plan, error) {
	var p Plan
	ps := problems{strictyaml.NewProblems(data)}
	if ps.Decode(&p) {
		p.complete(dir, ps)
	}
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &p, nil
}

// complete checks the plan, adding each mistake to ps, and fills in the defaults.
func (p *Plan) complete(dir string, ps problems) {
	if p.Name == "" {
		ps.add("name", "required: the migration's name, under which its state is kept")
	}
	p.completeSteps(ps)
	p.validateProviders(ps)
	p.validateGates(ps)
	p.validateNotify(ps)
	abs := func(path string) string {
		if path == "" || filepath.IsAbs(path) {
			return path
		}
		return filepath.Join(dir, path)
	}
	ps.duration("deadline", p.Deadline)
	ps.duration("interval", p.Interval)
	ps.duration("warmup", p.Warmup)
	if p.Deadline == 0 {
		p.Deadline = DefaultDeadline
	}
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if p.Warmup == 0 {
		p.Warmup = DefaultWarmup
	}
	if p.State == "" {
		p.State = filepath.Join(".ferry", "migration-"+p.Name+".json")
	}
	p.State = abs(p.State)
	p.absProviderPaths(abs)
	if p.Gates.Latency != nil {
		p.Gates.Latency.Baseline = abs(p.Gates.Latency.Baseline)
	}
}

// completeSteps parses the steps' weights (the defaults when there are none) and
// checks they rise to 100 %.
func (p *Plan) completeSteps(ps problems) {
	if len(p.Steps) == 0 {
		for _, w := range DefaultWeights {
			p.Steps = append(p.Steps, Step{Weight: w})
		}
	}
	prev, parsed := 0, true
	for i := range p.Steps {
		s := &p.Steps[i]
		at := fmt.Sprintf("steps[%d]", i)
		bp, err := traffic.ParsePercent(s.Weight)
		switch {
		case err != nil:
			ps.add(at+".weight", "%s", err.Error())
			parsed = false
		case bp <= prev && parsed:
			ps.add(at+".weight", "%s is not above the previous step's %s: weights must rise", traffic.FormatPercent(bp), traffic.FormatPercent(prev))
		}
		ps.duration(at+".hold", s.Hold)
		ps.count(at+".minRequests", s.MinRequests)
		if s.Hold == 0 {
			s.Hold = DefaultHold
		}
		s.BasisPoints, prev = bp, bp
	}
	if parsed && prev != traffic.Total {
		ps.add("steps", "the last step must send 100%% to Kubernetes, not %s", traffic.FormatPercent(prev))
	}
	p.completeFinal(ps, parsed)
}

// completeFinal parses the final step's control share and checks that the last step
// is still judged above the step before it.
func (p *Plan) completeFinal(ps problems, stepsParsed bool) {
	c := p.Final.Control
	if c == "" {
		c = DefaultControl
	}
	bp, err := traffic.ParsePercent(c)
	switch {
	case err != nil:
		ps.add("final.control", "%s", err.Error())
		return
	case bp > MaxControl:
		ps.add("final.control", "%s is more than the %s a control may keep", traffic.FormatPercent(bp), traffic.FormatPercent(MaxControl))
		return
	}
	if n := len(p.Steps); stepsParsed && n > 1 && traffic.Total-bp <= p.Steps[n-2].BasisPoints {
		if p.Final.Control != "" {
			ps.add("final.control", "%s would judge the last step at %s, not above the previous step's %s", traffic.FormatPercent(bp), traffic.FormatPercent(traffic.Total-bp), traffic.FormatPercent(p.Steps[n-2].BasisPoints))
			return
		}
		bp = 0 // the default control does not fit above a previous step of 99 % or more
	}
	p.Final.ControlBasisPoints = bp
}

// BuildGates returns the enabled gates with the plan's settings.
func (p *Plan) BuildGates(limits *analysis.Limits) []analysis.Gate {
	disabled := map[string]bool{}
	for _, d := range p.Gates.Disable {
		disabled[d] = true
	}
	var gates []analysis.Gate
	var perEndpoint analysis.EndpointGate
	if !disabled[GateErrorRate] {
		g := analysis.ErrorRateGate{}
		if c := p.Gates.ErrorRate; c != nil {
			g = analysis.ErrorRateGate{Alpha: c.Alpha, MinAbsolute: c.MinAbsolute, MinRelative: c.MinRelative, MaxRate: c.MaxRate}
		}
		gates = append(gates, g)
		perEndpoint.ErrorRate = &g
	}
	if !disabled[GateLatency] {
		g := analysis.LatencyGate{Limits: limits}
		if c := p.Gates.Latency; c != nil {
			g = analysis.LatencyGate{Alpha: c.Alpha, MaxP50Ratio: c.MaxP50Ratio, MaxP99Ratio: c.MaxP99Ratio, MaxRatio: c.MaxRatio, MinRequests: c.MinRequests, Limits: limits}
		}
		gates = append(gates, g)
		perEndpoint.Latency = &g
	}
	if p.EndpointsOn() {
		perEndpoint.MaxEndpoints = DefaultMaxEndpoints
		if c := p.Gates.Endpoints; c != nil {
			perEndpoint.Critical, perEndpoint.Ignore = c.Critical, c.Ignore
			if c.MaxEndpoints > 0 {
				perEndpoint.MaxEndpoints = c.MaxEndpoints
			}
		}
		gates = append(gates, perEndpoint)
	}
	return gates
}
