package migrate

import (
	"strings"
	"testing"

	"ferry.dev/ferry/internal/traffic"
)

func TestStepUpHold(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    traffic.Capacity
		at   int
		want string // "" when the step may go
	}{
		{"every server healthy", traffic.Capacity{Servers: 3, Healthy: 3}, 500, ""},
		{"two of three down", traffic.Capacity{Servers: 3, Healthy: 1}, 500,
			"legacy has 1 of 3 servers healthy: it could take 33.33% of the traffic, and an abort from the next step would send it 100%; holding at 5% until legacy can take it all"},
		{"one of three down", traffic.Capacity{Servers: 3, Healthy: 2}, 1000, "it could take 66.66% of the traffic"},
		{"one of three down but the two carried it all at their peak", traffic.Capacity{Servers: 3, Healthy: 2, RPS: 90, HealthyPeakRPS: 100}, 1000, ""},
		{"nothing known", traffic.Capacity{}, 1000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := stepUpHold(tc.c, tc.at)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("stepUpHold(%+v, %d) = %q, want %q", tc.c, tc.at, got, tc.want)
			}
		})
	}
}

func TestAbortLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       traffic.Capacity
		applied traffic.Weights
		want    traffic.Weights
		reason  string
	}{
		{"legacy whole: everything back", traffic.Capacity{Servers: 3, Healthy: 3}, traffic.KubernetesShare(5000), traffic.KubernetesShare(0), ""},
		{"one of three at 50%: a third back", traffic.Capacity{Servers: 3, Healthy: 1}, traffic.KubernetesShare(9000), traffic.Weights{Legacy: 3333, Kubernetes: 6667},
			"legacy has 1 of 3 servers healthy: it can take 33.33% of the traffic, so the abort sends it 33.33% and kubernetes keeps 66.67% until legacy can take more"},
		{"one of three at 5%: legacy keeps what it has", traffic.Capacity{Servers: 3, Healthy: 1}, traffic.KubernetesShare(500), traffic.KubernetesShare(500),
			"so the abort sends it 95% and kubernetes keeps 5%"},
		{"nothing healthy: kubernetes keeps what it has", traffic.Capacity{Servers: 1}, traffic.KubernetesShare(1000), traffic.KubernetesShare(1000), "legacy has 0 of 1 server healthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := abortLimit(tc.c, tc.applied)
			if got != tc.want || (reason == "") != (tc.reason == "") || !strings.Contains(reason, tc.reason) {
				t.Fatalf("abortLimit(%+v, %s) = %s, %q; want %s, %q", tc.c, tc.applied, got, reason, tc.want, tc.reason)
			}
		})
	}
}
