package proxy

import (
	"context"
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// TestCapacityReport: three legacy servers share the traffic; after two fail their
// health checks, the admin API reports one of three healthy, each server's peak, the
// rate, and a legacy share of a third; a reload keeps the servers' load.
func TestCapacityReport(t *testing.T) {
	l1, l2, l3, k1 := startBackend(t, "legacy-1"), startBackend(t, "legacy-2"), startBackend(t, "legacy-3"), startBackend(t, "k8s-1")
	cfg := testConfig(urls(l1, l2, l3), urls(k1))
	// Two failed checks take a server out: one late answer of a busy machine must not.
	cfg.Backends.Legacy.HealthCheck = HealthCheckConfig{Path: "/healthz", Interval: 200 * time.Millisecond, Timeout: 200 * time.Millisecond, HealthyAfter: 1, UnhealthyAfter: 2}
	p := startProxy(t, cfg)
	c := newClient()
	for range 30 {
		if code, _, _ := get(t, c, p, "/"); code != 200 {
			t.Fatalf("request got %d", code)
		}
	}
	l2.healthy.Store(false)
	l3.healthy.Store(false)
	waitFor(t, func() bool { return p.CapacityReport().Capacity().Healthy == 1 }, "two servers marked down")

	r, err := admin(p).CapacityReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Legacy) != 3 || r.BucketSeconds != DefaultStatsBucket.Seconds() || r.RPS <= 0 {
		t.Fatalf("report %+v: want 3 legacy servers, %v s buckets and a rate", r, DefaultStatsBucket.Seconds())
	}
	var total int64
	for i, s := range r.Legacy {
		if s.URL != cfg.Backends.Legacy.Servers[i] || s.Healthy != (i == 0) {
			t.Errorf("server %d: %+v, want %s healthy=%v", i, s, cfg.Backends.Legacy.Servers[i], i == 0)
		}
		for _, b := range s.Load {
			total += b[1]
		}
		if s.PeakRPS <= 0 {
			t.Errorf("server %s: no peak though it served requests", s.URL)
		}
	}
	if total != 30 {
		t.Errorf("the servers' load adds up to %d requests, want 30", total)
	}
	got, err := admin(p).LegacyCapacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Servers != 3 || got.Healthy != 1 {
		t.Errorf("capacity %+v, want 1 of 3 healthy", got)
	}
	if share := got.MaxLegacy(); share < traffic.Total/3 || share == traffic.Total {
		t.Errorf("legacy can take %s, want a third or a little more (its own peak), not all", traffic.FormatPercent(share))
	}

	if err := p.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	var after int64
	for _, s := range p.CapacityReport().Legacy {
		for _, b := range s.Load {
			after += b[1]
		}
	}
	if after != total {
		t.Errorf("after a reload the load adds up to %d, want the %d from before", after, total)
	}
}

// TestMergeCapacity: replicas' loads add up bucket by bucket before the peak is
// taken, and a server is healthy when at least half of the replicas see it so.
func TestMergeCapacity(t *testing.T) {
	a := CapacityReport{BucketSeconds: 10, Requests: [][2]int64{{100, 60}, {110, 60}}, Legacy: []ServerLoad{
		{URL: "http://vm1", Healthy: true, Load: [][2]int64{{100, 30}, {110, 50}}},
		{URL: "http://vm2", Healthy: false, Load: [][2]int64{{100, 40}}},
	}}
	b := CapacityReport{BucketSeconds: 10, Requests: [][2]int64{{100, 40}, {120, 60}}, Legacy: []ServerLoad{
		{URL: "http://vm1", Healthy: true, Load: [][2]int64{{100, 40}, {120, 60}}},
		{URL: "http://vm2", Healthy: true, Load: [][2]int64{{110, 10}}},
	}}
	c := CapacityReport{BucketSeconds: 10, Requests: [][2]int64{{100, 20}}, Legacy: []ServerLoad{
		{URL: "http://vm1", Healthy: false},
		{URL: "http://vm2", Healthy: false},
	}}
	m := MergeCapacity([]CapacityReport{a, b, c})
	if m.RPS != 12 || len(m.Legacy) != 2 {
		t.Fatalf("merged %+v: want a rate of 12/s (60+40+20 in one bucket) and two servers", m)
	}
	vm1, vm2 := m.Legacy[0], m.Legacy[1]
	if vm1.URL != "http://vm1" || !vm1.Healthy || vm1.PeakRPS != 7 {
		t.Errorf("vm1 %+v: want healthy (2 of 3 replicas) with a peak of 7/s (30+40 in one bucket)", vm1)
	}
	if vm2.Healthy || vm2.PeakRPS != 4 {
		t.Errorf("vm2 %+v: want unhealthy (1 of 3 replicas) with a peak of 4/s", vm2)
	}
	if got := m.Capacity(); got.Servers != 2 || got.Healthy != 1 || got.HealthyPeakRPS != 7 {
		t.Errorf("capacity %+v, want 1 of 2 healthy with a peak of 7/s", got)
	}
}
