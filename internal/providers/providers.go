package providers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/baseline"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/metrics/proxystats"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/fleet"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// hook is a migration hook (migrate.Config's OnStart and OnComplete).
type hook = func(ctx context.Context, logf func(format string, args ...any)) error

// Options are what Config needs besides the plan.
type Options struct {
	// Kube reaches the cluster for the gateway and alb routers and for cronJobs; the
	// client is built only when the plan needs one.
	Kube kube.Options
	// Store keeps the migration's state; nil means a migrate.FileStore at the plan's
	// State path.
	Store migrate.Store
	// Secrets, when set, are the credentials the controller read from the Secrets a
	// Migration names; they take the place of the plan's token files and environment
	// variables.
	Secrets *Secrets
}

// Secrets are a plan's credentials, read by the caller.
type Secrets struct {
	ProxyToken      string
	PrometheusToken string
	DatadogAPIKey   string
	DatadogAppKey   string
}

// Config returns everything a run of plan needs: its router, metric source, hooks,
// gates (the latency gate with the limits of gates.latency.baseline, if named), store
// and notifier. It checks settings and reads files, but calls no provider: the
// migration's preflight does. Every run of a plan starts here.
func Config(ctx context.Context, p *plan.Plan, opts Options) (migrate.Config, error) {
	limits, err := baselineLimits(p.Gates.Latency)
	if err != nil {
		return migrate.Config{}, err
	}
	set, err := forPlan(ctx, p, opts)
	if err != nil {
		return migrate.Config{}, err
	}
	var store migrate.Store = &migrate.FileStore{Path: p.State}
	if opts.Store != nil {
		store = opts.Store
	}
	return migrate.Config{
		Plan: p, Router: set.router, Metrics: set.metrics, Gates: p.BuildGates(limits),
		OnStart: set.onStart, OnComplete: set.onComplete,
		Store:    store,
		Notify:   &migrate.Notifier{Targets: p.Notify},
		Capacity: capacity(p, set.router),
	}, nil
}

// capacity is the legacy-capacity guard's source: the router, when it can tell, and
// nil when the plan turns the guard off. A router that cannot tell gets a source
// that says so, so that the migration logs that the guard does not hold.
func capacity(p *plan.Plan, r traffic.Router) migrate.CapacitySource {
	if !p.LegacyCapacityGuard() {
		return nil
	}
	if c, ok := r.(traffic.CapacityReporter); ok {
		return c
	}
	return noCapacity{"the router knows no health of the legacy side"}
}

// noCapacity is the capacity source of a router that cannot tell (Gateway API).
type noCapacity struct{ why string }

func (n noCapacity) LegacyCapacity(context.Context) (traffic.Capacity, error) {
	return traffic.Capacity{}, fmt.Errorf("%w: %s", traffic.ErrNoCapacity, n.why)
}

// baselineLimits turns the APM baseline's overall row (or the aggregate of its
// endpoints when it has none) into absolute latency limits; nil when the plan names
// no baseline.
func baselineLimits(c *plan.LatencyConfig) (*analysis.Limits, error) {
	if c == nil || c.Baseline == "" {
		return nil, nil
	}
	b, err := baseline.Load(c.Baseline)
	if err != nil {
		return nil, fmt.Errorf("gates.latency.baseline: %w", err)
	}
	e, ok := b.Overall()
	if !ok {
		return nil, fmt.Errorf("gates.latency.baseline %s: no endpoint rows", c.Baseline)
	}
	return &analysis.Limits{Mean: e.Mean, P95: e.P95, P99: e.P99, Max: e.Max, Tolerance: c.Tolerance}, nil
}

// set is what a plan's providers amount to.
type set struct {
	router  traffic.Router
	metrics migrate.MetricSource
	// onStart and onComplete are nil when the plan needs none.
	onStart, onComplete hook
}

// forPlan returns the plan's router, metric source and hooks.
func forPlan(ctx context.Context, p *plan.Plan, opts Options) (*set, error) {
	b := &builder{plan: p, opts: opts}
	s := &set{}
	var err error
	if s.router, err = b.router(ctx); err != nil {
		return nil, err
	}
	if s.metrics, err = b.metrics(); err != nil {
		return nil, err
	}
	if err := b.hooks(s); err != nil {
		return nil, err
	}
	return s, nil
}

// builder builds one plan's providers, connecting to the cluster once if needed.
type builder struct {
	plan  *plan.Plan
	opts  Options
	admin *proxy.AdminClient
	fleet *fleet.Router
	kc    *kube.Client
}

func (b *builder) kube() (*kube.Client, error) {
	if b.kc == nil {
		kc, err := kube.New(b.opts.Kube)
		if err != nil {
			return nil, err
		}
		b.kc = kc
	}
	return b.kc, nil
}

// namespace returns the cluster client and the configured namespace, or the
// kubeconfig's.
func (b *builder) namespace(configured string) (*kube.Client, string, error) {
	kc, err := b.kube()
	if err != nil {
		return nil, "", err
	}
	if configured != "" {
		return kc, configured, nil
	}
	return kc, kc.Namespace, nil
}

func (b *builder) router(ctx context.Context) (traffic.Router, error) {
	r := b.plan.Router
	switch {
	case r.Proxy != nil:
		token, err := readSecret(r.Proxy.TokenFile, "FERRY_PROXY_TOKEN", "router.proxy.tokenFile")
		if err != nil {
			return nil, err
		}
		if b.opts.Secrets != nil {
			token = b.opts.Secrets.ProxyToken
		}
		b.admin = &proxy.AdminClient{BaseURL: strings.TrimRight(r.Proxy.Admin, "/"), Token: token}
		return b.admin, nil
	case r.ProxyFleet != nil:
		return b.proxyFleet(ctx, r.ProxyFleet)
	case r.Route53 != nil:
		return b.route53(ctx, r.Route53)
	case r.Gateway != nil:
		return b.gateway(r.Gateway)
	case r.ALB != nil:
		return b.alb(ctx, r.ALB)
	}
	return nil, errors.New("the plan names no router")
}

func (b *builder) metrics() (migrate.MetricSource, error) {
	m := b.plan.Metrics
	switch {
	case m.Proxy != nil && b.fleet != nil:
		return fleetSource(b.fleet, b.plan.EndpointsOn()), nil
	case m.Proxy != nil:
		if b.admin == nil {
			return nil, errors.New("metrics.proxy needs router.proxy or router.proxyFleet: the statistics come from the proxy's admin API")
		}
		src := proxystats.FromAdmin(b.admin)
		src.ByEndpoint = b.plan.EndpointsOn()
		return src, nil
	case m.Prometheus != nil:
		return prometheusSource(m.Prometheus, b.opts.Secrets, b.plan.EndpointsOn())
	case m.Datadog != nil:
		return datadogSource(m.Datadog, b.opts.Secrets)
	}
	return nil, errors.New("the plan names no metric source")
}

// readSecret reads a token file, or the environment variable when no file is named.
func readSecret(file, env, key string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return strings.TrimSpace(string(data)), nil
}
