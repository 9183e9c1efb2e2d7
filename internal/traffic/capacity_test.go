package traffic

import "testing"

func TestCapacityMaxLegacy(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Capacity
		want int
	}{
		{"every server healthy is all of it", Capacity{Servers: 3, Healthy: 3}, Total},
		{"every server healthy at a small peak is still all of it", Capacity{Servers: 3, Healthy: 3, RPS: 100, HealthyPeakRPS: 30}, Total},
		{"one of three by health", Capacity{Servers: 3, Healthy: 1}, 3333},
		{"two of three by health", Capacity{Servers: 3, Healthy: 2}, 6666},
		{"none healthy", Capacity{Servers: 3}, 0},
		{"one of three, its peak below its share", Capacity{Servers: 3, Healthy: 1, RPS: 100, HealthyPeakRPS: 20}, 3333},
		{"one of three that handled half the traffic at its peak", Capacity{Servers: 3, Healthy: 1, RPS: 100, HealthyPeakRPS: 50}, 5000},
		{"a peak above the traffic now is all of it", Capacity{Servers: 3, Healthy: 1, RPS: 10, HealthyPeakRPS: 40}, Total},
		{"a peak without traffic now says nothing", Capacity{Servers: 3, Healthy: 1, HealthyPeakRPS: 40}, 3333},
		{"nothing known", Capacity{}, Total},
		{"healthy above servers is clamped", Capacity{Servers: 2, Healthy: 5}, Total},
		{"one record, unhealthy", Capacity{Servers: 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.MaxLegacy(); got != tc.want {
				t.Fatalf("%+v.MaxLegacy() = %d, want %d", tc.c, got, tc.want)
			}
		})
	}
}

func TestCapAbort(t *testing.T) {
	for _, tc := range []struct {
		name      string
		applied   Weights
		maxLegacy int
		want      Weights
	}{
		{"legacy whole: all back", KubernetesShare(5000), Total, KubernetesShare(0)},
		{"legacy takes a third: a third back", KubernetesShare(9000), 3333, Weights{Legacy: 3333, Kubernetes: 6667}},
		{"legacy already above what it can take: nothing moves", KubernetesShare(500), 3333, KubernetesShare(500)},
		{"nothing healthy: nothing moves", KubernetesShare(5000), 0, KubernetesShare(5000)},
		{"all on kubernetes, legacy half", KubernetesShare(Total), 5000, KubernetesShare(5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CapAbort(tc.applied, tc.maxLegacy)
			if got != tc.want {
				t.Fatalf("CapAbort(%s, %d) = %s, want %s", tc.applied, tc.maxLegacy, got, tc.want)
			}
			if got.Validate() != nil {
				t.Fatalf("CapAbort gave invalid weights %+v", got)
			}
		})
	}
}

func TestCapacityString(t *testing.T) {
	if got, want := (Capacity{Servers: 3, Healthy: 1}).String(), "legacy has 1 of 3 servers healthy"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Capacity{Servers: 1}).String(), "legacy has 0 of 1 server healthy"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
