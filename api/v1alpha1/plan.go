package v1alpha1

import (
	"context"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/plan"
)

// Credentials are the secrets a plan's providers need, read from the Secrets the spec
// names; empty when the spec names none.
//
// +kubebuilder:object:generate=false
type Credentials struct {
	ProxyToken      string
	PrometheusToken string
	DatadogAPIKey   string
	DatadogAppKey   string
}

// Plan converts the Migration to the plan the migrate engine runs, reading the
// Secrets it names with secret (a Secret in the Migration's namespace), and validates it with the plan's own rules (plan.Parse): the API
// server's rules catch most mistakes, this catches the rest. Namespaced routers
// default to the Migration's namespace.
func (m *Migration) Plan(ctx context.Context, secret func(context.Context, SecretKeyRef) (string, error)) (*plan.Plan, Credentials, error) {
	var creds Credentials
	read := func(field string, ref *SecretKeyRef) (string, error) {
		if ref == nil {
			return "", nil
		}
		v, err := secret(ctx, *ref)
		if err != nil {
			return "", fmt.Errorf("%s: secret %s key %s: %w", field, ref.Name, ref.Key, err)
		}
		return v, nil
	}
	s := m.Spec
	p := plan.Plan{
		Name: m.Name, Deadline: dur(s.Deadline), Interval: dur(s.Interval), Warmup: dur(s.Warmup),
		Gates: plan.GatesConfig{Disable: s.Gates.Disable}, Final: plan.FinalConfig{Control: s.Final.Control},
		Guard: plan.GuardConfig{LegacyCapacity: s.Guard.LegacyCapacity},
	}
	if g := s.Gates.Endpoints; g != nil {
		p.Gates.Endpoints = &plan.EndpointsConfig{Critical: g.Critical, Ignore: g.Ignore, MaxEndpoints: g.MaxEndpoints}
	}
	for _, st := range s.Steps {
		p.Steps = append(p.Steps, plan.Step{Weight: st.Weight, Hold: dur(st.Hold), MinRequests: st.MinRequests})
	}
	var err error
	switch r := s.Router; {
	case r.Proxy != nil:
		p.Router.Proxy = &plan.ProxyConfig{Admin: r.Proxy.Admin}
		if creds.ProxyToken, err = read("spec.router.proxy.tokenSecretRef", r.Proxy.TokenSecretRef); err != nil {
			return nil, creds, err
		}
	case r.ProxyFleet != nil:
		c := r.ProxyFleet
		p.Router.ProxyFleet = &plan.ProxyFleetConfig{Namespace: or(c.Namespace, m.Namespace), Service: c.Service, AdminPort: c.AdminPort}
		if ref := c.TokenSecretRef; ref != nil {
			p.Router.ProxyFleet.TokenSecretRef = &plan.SecretKeyRef{Name: ref.Name, Key: ref.Key}
		}
		if creds.ProxyToken, err = read("spec.router.proxyFleet.tokenSecretRef", c.TokenSecretRef); err != nil {
			return nil, creds, err
		}
	case r.Route53 != nil:
		c := r.Route53
		p.Router.Route53 = &plan.Route53Config{HostedZoneID: c.HostedZoneID, Name: c.Name, Type: c.Type,
			LegacySetIdentifier: c.LegacySetIdentifier, KubernetesSetIdentifier: c.KubernetesSetIdentifier,
			Region: c.Region, Endpoint: c.Endpoint, Settle: dur(c.Settle), SyncTimeout: dur(c.SyncTimeout)}
	case r.Gateway != nil:
		c := r.Gateway
		p.Router.Gateway = &plan.GatewayConfig{Namespace: or(c.Namespace, m.Namespace), HTTPRoute: c.HTTPRoute,
			LegacyService: c.LegacyService, KubernetesService: c.KubernetesService}
	case r.ALB != nil:
		c := r.ALB
		p.Router.ALB = &plan.ALBConfig{Namespace: or(c.Namespace, m.Namespace), Ingress: c.Ingress, Action: c.Action,
			LegacyTargetGroupARN: c.LegacyTargetGroupARN, KubernetesService: c.KubernetesService, Endpoint: c.Endpoint}
	}
	switch mt := s.Metrics; {
	case mt.Proxy != nil:
		p.Metrics.Proxy = &struct{}{}
	case mt.Prometheus != nil:
		c := mt.Prometheus
		p.Metrics.Prometheus = &plan.PrometheusConfig{Address: c.Address, Legacy: c.Legacy, Kubernetes: c.Kubernetes,
			Queries: plan.PrometheusQueries(c.Queries)}
		if creds.PrometheusToken, err = read("spec.metrics.prometheus.bearerTokenSecretRef", c.BearerTokenSecretRef); err != nil {
			return nil, creds, err
		}
	case mt.Datadog != nil:
		c := mt.Datadog
		p.Metrics.Datadog = &plan.DatadogConfig{Site: c.Site, Legacy: c.Legacy, Kubernetes: c.Kubernetes,
			LatencyUnit: c.LatencyUnit, MinInterval: dur(c.MinInterval),
			Queries: plan.DatadogQueries{Requests: c.Queries.Requests, Errors: c.Queries.Errors, Latency: c.Queries.Latency}}
		if creds.DatadogAPIKey, err = read("spec.metrics.datadog.apiKeySecretRef", &c.APIKeySecretRef); err != nil {
			return nil, creds, err
		}
		if creds.DatadogAppKey, err = read("spec.metrics.datadog.appKeySecretRef", &c.AppKeySecretRef); err != nil {
			return nil, creds, err
		}
	}
	if g := s.Gates.ErrorRate; g != nil {
		p.Gates.ErrorRate = &plan.ErrorRateConfig{Alpha: g.Alpha, MinAbsolute: g.MinAbsolute, MinRelative: g.MinRelative, MaxRate: g.MaxRate}
	}
	if g := s.Gates.Latency; g != nil {
		p.Gates.Latency = &plan.LatencyConfig{Alpha: g.Alpha, MaxP50Ratio: g.MaxP50Ratio, MaxP99Ratio: g.MaxP99Ratio, MaxRatio: g.MaxRatio, MinRequests: g.MinRequests}
	}
	for i, n := range s.Notify {
		var to plan.Notify
		if to.Slack, err = read(fmt.Sprintf("spec.notify[%d].slack", i), n.Slack); err != nil {
			return nil, creds, err
		}
		if to.Webhook, err = read(fmt.Sprintf("spec.notify[%d].webhook", i), n.Webhook); err != nil {
			return nil, creds, err
		}
		p.Notify = append(p.Notify, to)
	}
	return validate(&p, creds)
}

// validate runs the plan's own validation by the one way it offers, plan.Parse, on
// the plan written as a plan file would be (durations as "30s").
func validate(p *plan.Plan, creds Credentials) (*plan.Plan, Credentials, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, creds, fmt.Errorf("encode the plan: %w", err)
	}
	out, err := plan.Parse(data, "/")
	if err != nil {
		return nil, creds, err
	}
	return out, creds, nil
}

func dur(d *metav1.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.Duration
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
