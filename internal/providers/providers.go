// Package providers builds the router and the metric source a migration plan names,
// from the provider sub-packages. It is the one place that knows them all; the
// migrate package only sees its own interfaces.
package providers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/metrics/proxystats"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// Hook is a migration hook (migrate.Config's OnStart and OnComplete).
type Hook = func(ctx context.Context, logf func(format string, args ...any)) error

// Options are what ForPlan needs besides the plan.
type Options struct {
	// Kube reaches the cluster for the gateway and alb routers and for cronJobs; the
	// client is built only when the plan needs one.
	Kube kube.Options
}

// Set is what a plan's providers amount to.
type Set struct {
	Router  traffic.Router
	Metrics migrate.MetricSource
	// OnStart and OnComplete are nil when the plan needs none.
	OnStart, OnComplete Hook
}

// ForPlan returns the plan's router, metric source and hooks. It checks settings and
// reads files, but calls no provider: the migration's preflight does.
func ForPlan(ctx context.Context, plan *migrate.Plan, opts Options) (*Set, error) {
	b := &builder{plan: plan, opts: opts}
	set := &Set{}
	var err error
	if set.Router, err = b.router(ctx); err != nil {
		return nil, err
	}
	if set.Metrics, err = b.metrics(); err != nil {
		return nil, err
	}
	if err := b.hooks(set); err != nil {
		return nil, err
	}
	return set, nil
}

// builder builds one plan's providers, connecting to the cluster once if needed.
type builder struct {
	plan  *migrate.Plan
	opts  Options
	admin *proxy.AdminClient
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
		b.admin = &proxy.AdminClient{BaseURL: strings.TrimRight(r.Proxy.Admin, "/"), Token: token}
		return b.admin, nil
	case r.Route53 != nil:
		return b.route53(ctx, r.Route53)
	case r.Gateway != nil:
		return b.gateway(r.Gateway)
	case r.ALB != nil:
		return b.alb(r.ALB)
	}
	return nil, errors.New("the plan names no router")
}

func (b *builder) metrics() (migrate.MetricSource, error) {
	m := b.plan.Metrics
	switch {
	case m.Proxy != nil:
		if b.admin == nil {
			return nil, errors.New("metrics.proxy needs router.proxy: the statistics come from the proxy's admin API")
		}
		return proxystats.FromAdmin(b.admin), nil
	case m.Prometheus != nil:
		return prometheusSource(m.Prometheus)
	case m.Datadog != nil:
		return datadogSource(m.Datadog)
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
