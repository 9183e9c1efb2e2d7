package providers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/migrate"
)

// Bad provider settings are refused by the migration's preflight, before any weight
// changes: one line that says what is wrong, no state recorded, nothing touched.
func TestBadProviderSettingsAreRefusedBeforeAnyWeightChange(t *testing.T) {
	c := newShopCluster(t)
	w := newWorld(t, 0)
	srv, route53YAML := route53World(t, nil)
	routeVersion := func() string {
		r, err := c.gw.GatewayV1().HTTPRoutes(c.ns).Get(context.Background(), "shop", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.ResourceVersion
	}
	before := routeVersion()
	for _, tc := range []struct {
		name, prometheus, yaml, want string
	}{
		{"missing hosted zone", w.prom.URL, strings.Replace(route53YAML, "hostedZoneID: Z1", "hostedZoneID: Z404", 1),
			"router: route53: list www.example.com. in hosted zone Z404: hosted zone not found: Z404"},
		{"unknown record", w.prom.URL, strings.Replace(route53YAML, "name: www.example.com", "name: api.example.com", 1),
			`router: route53: hosted zone Z1: weighted record not found: no record api.example.com. with set identifier "ec2" or "eks"`},
		{"unknown set identifier", w.prom.URL, strings.Replace(route53YAML, "kubernetesSetIdentifier: eks", "kubernetesSetIdentifier: k8s", 1),
			`no record www.example.com. A with set identifier "k8s"`},
		{"HTTPRoute not found", w.prom.URL, strings.Replace(c.gatewayYAML(), "httpRoute: shop,", "httpRoute: shopp,", 1),
			"router: gateway: HTTPRoute not found: " + c.ns + "/shopp"},
		{"unreachable Prometheus", "http://127.0.0.1:1", route53YAML,
			"metric source: prometheus http://127.0.0.1:1: queries.requests for legacy:"},
		{"no CronJob matches the selector", w.prom.URL, c.gatewayYAML() + "cronJobs: {namespace: " + c.ns + ", selector: app=payroll}\n",
			"no CronJob matches app=payroll in namespace " + c.ns},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config(t, tc.prometheus, []int{10, 100}, tc.yaml)
			if err != nil {
				t.Fatalf("Config refused what only the provider can tell: %v", err)
			}
			st, err := start(t, cfg, 30*time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || st != nil {
				t.Fatalf("start: %v (state %v), want one line with %q", err, st, tc.want)
			}
			if _, err := cfg.Store.Load(context.Background()); !errors.Is(err, migrate.ErrNoMigration) {
				t.Fatalf("a state was recorded: %v", err)
			}
		})
	}
	if n := changeBatches(srv); n != 0 {
		t.Errorf("%d Route 53 change batches sent for refused plans", n)
	}
	if after := routeVersion(); after != before {
		t.Error("the HTTPRoute changed for a refused plan")
	}
	if cj := c.cronJob(t); *cj.Spec.Suspend {
		t.Error("the CronJob was suspended for a refused plan")
	}
}
