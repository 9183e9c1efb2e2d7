package providers

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/metrics/proxystats"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/fleet"
)

// proxyFleet builds the router over every ready proxy replica behind a Service. The
// admin token is the controller's (Options.Secrets) or, from the CLI, read from the
// Secret the plan names in the Service's namespace.
func (b *builder) proxyFleet(ctx context.Context, c *plan.ProxyFleetConfig) (traffic.Router, error) {
	kc, ns, err := b.namespace(c.Namespace)
	if err != nil {
		return nil, fmt.Errorf("router.proxyFleet: %w", err)
	}
	var token string
	switch ref := c.TokenSecretRef; {
	case b.opts.Secrets != nil:
		token = b.opts.Secrets.ProxyToken
	case ref != nil:
		s, err := kc.Clientset.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("router.proxyFleet.tokenSecretRef: read Secret %s/%s: %w", ns, ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return nil, fmt.Errorf("router.proxyFleet.tokenSecretRef: Secret %s/%s has no key %s", ns, ref.Name, ref.Key)
		}
		token = strings.TrimSpace(string(v))
	}
	r, err := fleet.New(fleet.Config{Kube: kc.Clientset, Namespace: ns, Service: c.Service, AdminPort: c.AdminPort, Token: token})
	if err != nil {
		return nil, fmt.Errorf("router.proxyFleet: %w", err)
	}
	b.fleet = r
	return r, nil
}

// fleetSource merges the statistics of every ready replica of the fleet, by
// endpoint too when the per-endpoint gates are on.
func fleetSource(r *fleet.Router, byEndpoint bool) migrate.MetricSource {
	src := proxystats.FromFleet(r.Stats, r.StatsByRoute)
	src.ByEndpoint = byEndpoint
	return src
}
