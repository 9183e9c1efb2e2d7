package plan

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"ferry.dev/ferry/internal/strictyaml"
)

// problems collects a plan's mistakes, each at a field's dotted path, so that a plan
// reports all of them in one run, with those of its YAML.
type problems struct{ *strictyaml.Problems }

func (ps problems) add(path, format string, args ...any) { ps.Add(path, format, args...) }

// number checks a float setting: finite, and in range by ok. Zero, a setting left out
// (its default), always passes.
func (ps problems) number(path string, v float64, ok func(float64) bool, want string) {
	switch {
	case v == 0:
	case math.IsNaN(v):
		ps.add(path, "NaN is not a number: want %s", want)
	case math.IsInf(v, 0):
		ps.add(path, "%+g is not finite: want %s", v, want)
	case !ok(v):
		ps.add(path, "%g is out of range: want %s", v, want)
	}
}

// count checks an integer setting is not negative.
func (ps problems) count(path string, v int64) {
	if v < 0 {
		ps.add(path, "%d is out of range: want 0 or more", v)
	}
}

// duration checks a duration setting is not negative.
func (ps problems) duration(path string, d time.Duration) {
	if d < 0 {
		ps.add(path, "%s is negative: want a duration such as 30s or 5m", d)
	}
}

// httpURL checks an absolute http(s) URL with a host. The URL is not shown: a webhook
// URL is its own credential.
func (ps problems) httpURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		ps.add(path, "not an absolute http:// or https:// URL with a host")
	}
}

const (
	wantAlpha = "a false-alarm bound in (0, 0.5], e.g. 0.0005 (0 or unset: the default)"
	wantShare = "a share in [0, 1], e.g. 0.005 for half a percentage point (0 or unset: the default)"
	wantRatio = "a ratio of at least 1, e.g. 1.2 for 20 % slower (0 or unset: the default)"
)

// validateGates range-checks every gate setting: an out-of-range one (minAbsolute: 5
// meant as 5 %, a NaN) would make a gate pass what it must fail.
func (p *Plan) validateGates(ps problems) {
	isAlpha := func(v float64) bool { return v > 0 && v <= 0.5 }
	isShare := func(v float64) bool { return v >= 0 && v <= 1 }
	isRatio := func(v float64) bool { return v >= 1 }
	nonNegative := func(v float64) bool { return v >= 0 }
	if c := p.Gates.ErrorRate; c != nil {
		const at = "gates.errorRate."
		ps.number(at+"alpha", c.Alpha, isAlpha, wantAlpha)
		ps.number(at+"minAbsolute", c.MinAbsolute, isShare, wantShare)
		ps.number(at+"minRelative", c.MinRelative, nonNegative, "a relative increase of 0 or more, e.g. 1.0 for double the legacy rate")
		ps.number(at+"maxRate", c.MaxRate, isShare, "an error rate in [0, 1], e.g. 0.05 for 5 % (0 or unset: no limit)")
	}
	if c := p.Gates.Latency; c != nil {
		const at = "gates.latency."
		ps.number(at+"alpha", c.Alpha, isAlpha, wantAlpha)
		ps.number(at+"maxP50Ratio", c.MaxP50Ratio, isRatio, wantRatio)
		ps.number(at+"maxP99Ratio", c.MaxP99Ratio, isRatio, wantRatio)
		ps.number(at+"maxRatio", c.MaxRatio, isRatio, "a ratio of at least 1 (0 or unset: no limit)")
		ps.count(at+"minRequests", c.MinRequests)
		ps.number(at+"tolerance", c.Tolerance, nonNegative, "a ratio of 0 or more, e.g. 1.2 (0 or unset: the default)")
	}
	// A copy: the list may be a Migration resource's own, which keeps its spelling.
	p.Gates.Disable = slices.Clone(p.Gates.Disable)
	for i, name := range p.Gates.Disable {
		if canonical, ok := gateSpellings[name]; ok {
			p.Gates.Disable[i] = canonical
		} else if name != GateErrorRate && name != GateLatency && name != GateEndpoints {
			ps.add(fmt.Sprintf("gates.disable[%d]", i), "unknown gate %q: want %s, %s or %s", name, GateErrorRate, GateLatency, GateEndpoints)
		}
	}
	if slices.Contains(p.Gates.Disable, GateErrorRate) && slices.Contains(p.Gates.Disable, GateLatency) {
		ps.add("gates.disable", "%s or %s must stay on", GateErrorRate, GateLatency)
	}
	p.validateEndpoints(ps)
}

// validateEndpoints checks the per-endpoint settings: names an endpoint can have, a
// cap in range, and a metric source that gives endpoints.
func (p *Plan) validateEndpoints(ps problems) {
	c := p.Gates.Endpoints
	if c == nil {
		return
	}
	const at = "gates.endpoints."
	if p.Metrics.Datadog != nil && !slices.Contains(p.Gates.Disable, GateEndpoints) {
		ps.add("gates.endpoints", "metrics.datadog gives no per-endpoint numbers: use the proxy's or Prometheus' metrics, or add endpoints to gates.disable")
	}
	if c.MaxEndpoints < 0 || c.MaxEndpoints > MaxMaxEndpoints {
		ps.add(at+"maxEndpoints", "%d is out of range: want 1 to %d (0 or unset: %d)", c.MaxEndpoints, MaxMaxEndpoints, DefaultMaxEndpoints)
	}
	for _, list := range []struct {
		name  string
		names []string
	}{{"critical", c.Critical}, {"ignore", c.Ignore}} {
		for i, name := range list.names {
			if !validEndpoint(name) {
				ps.add(fmt.Sprintf("%s%s[%d]", at, list.name, i), "%q is not an endpoint: want \"METHOD /template\" such as \"POST /payroll/{id}/run\", or a template alone such as \"/healthz\"", name)
			}
		}
	}
	for _, name := range c.Critical {
		if slices.Contains(c.Ignore, name) {
			ps.add(at+"critical", "%q is both critical and ignored", name)
		}
	}
}

// validEndpoint says whether name is "METHOD /template" or "/template".
func validEndpoint(name string) bool {
	if strings.HasPrefix(name, "/") {
		return !strings.ContainsAny(name, " ?#")
	}
	method, template, ok := strings.Cut(name, " ")
	return ok && method != "" && strings.ToUpper(method) == method && strings.HasPrefix(template, "/") && !strings.ContainsAny(template, " ?#")
}

// validateNotify checks each receiver names one absolute http(s) URL.
func (p *Plan) validateNotify(ps problems) {
	for i, n := range p.Notify {
		at := fmt.Sprintf("notify[%d]", i)
		switch {
		case (n.Slack == "") == (n.Webhook == ""):
			ps.add(at, "name exactly one of slack or webhook")
		case n.Slack != "":
			ps.httpURL(at+".slack", n.Slack)
		default:
			ps.httpURL(at+".webhook", n.Webhook)
		}
	}
}
