package plan

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProviders(t *testing.T) {
	const route53 = "router:\n  route53: {hostedZoneID: Z1, name: www.example.com, legacySetIdentifier: legacy, kubernetesSetIdentifier: k8s}\n"
	const prom = "metrics:\n  prometheus: {address: http://prometheus:9090, bearerTokenFile: token}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"route53 and prometheus", route53 + prom, ""},
		{"gateway", "router:\n  gateway: {httpRoute: shop, legacyService: legacy, kubernetesService: shop}\n" + prom, ""},
		{"alb", "router:\n  alb: {ingress: shop, action: split, legacyTargetGroupARN: arn:aws:x, kubernetesService: shop}\n" + prom, ""},
		{"datadog", route53 + "metrics:\n  datadog:\n    queries: {requests: 'a{s:{{.Side}}}', errors: 'b{s:{{.Side}}}', latency: {p50: 'p50:c{s:{{.Side}}}'}}\n", ""},
		{"cronJobs", route53 + prom + "cronJobs: {selector: app=shop, legacyCrontab: crontab}\n", ""},
		{"two routers", route53 + "  gateway: {httpRoute: shop}\n" + prom, "router (line 2): name exactly one router, not gateway and route53"},
		{"no router", prom, "router: name a router (proxy, proxyFleet, route53, gateway or alb)"},
		{"route53 without a zone", strings.Replace(route53, "hostedZoneID: Z1, ", "", 1) + prom, "router.route53.hostedZoneID (line 3): required"},
		{"route53 with one identifier twice", strings.Replace(route53, "kubernetesSetIdentifier: k8s", "kubernetesSetIdentifier: legacy", 1) + prom, "the two set identifiers must differ"},
		{"gateway without a route", "router:\n  gateway: {legacyService: legacy, kubernetesService: shop}\n" + prom, "router.gateway.httpRoute (line 3): required"},
		{"alb without the ARN", "router:\n  alb: {ingress: shop, action: split, kubernetesService: shop}\n" + prom, "router.alb.legacyTargetGroupARN (line 3): required"},
		{"two metric sources", route53 + prom + "  proxy: {}\n", "metrics (line 4): name exactly one metric source, not prometheus and proxy"},
		{"prometheus without an address", route53 + "metrics:\n  prometheus: {}\n", "metrics.prometheus.address (line 5): required"},
		{"datadog without latency", route53 + "metrics:\n  datadog:\n    queries: {requests: a, errors: b}\n", "disable the latency gate"},
		{"datadog without latency, gate disabled", route53 + "metrics:\n  datadog:\n    queries: {requests: a, errors: b}\ngates: {disable: [latency]}\n", ""},
		{"datadog with an odd unit", route53 + "metrics:\n  datadog:\n    latencyUnit: minutes\n    queries: {requests: a, errors: b, latency: {p50: c}}\n", `metrics.datadog.latencyUnit (line 6): "minutes"`},
		{"cronJobs without a selector", route53 + prom + "cronJobs: {namespace: shop}\n", "cronJobs.selector (line 6): required"},
		{"an unknown route53 field", "router:\n  route53:\n    hostedZoneID: Z1\n    ttl: 60\n" + prom, "router.route53.ttl (line 5): unknown field (valid here: hostedZoneID,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte("name: shop\n"+tc.yaml), "/srv/shop")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m := p.Metrics.Prometheus; m != nil && m.BearerTokenFile != "/srv/shop/token" {
					t.Errorf("bearerTokenFile %q, want it beside the plan", m.BearerTokenFile)
				}
				if c := p.CronJobs; c != nil && c.LegacyCrontab != "/srv/shop/crontab" {
					t.Errorf("legacyCrontab %q, want it beside the plan", c.LegacyCrontab)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}
