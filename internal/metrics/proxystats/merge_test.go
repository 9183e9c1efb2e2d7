package proxystats_test

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"ferry.dev/ferry/internal/metrics/proxystats"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// side records latencies (µs) into a histogram as the proxy does and returns the
// side as the admin API gives it (LatencyBins) or in this process (Histogram).
func side(overAPI bool, errors5xx int64, micros ...int64) proxy.SideStats {
	h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)
	for _, v := range micros {
		_ = h.RecordValue(v)
	}
	s := proxy.SideStats{Requests: h.TotalCount(), Status: proxy.StatusClasses{Success: h.TotalCount() - errors5xx, ServerError: errors5xx}}
	if !overAPI {
		s.Histogram = h
		return s
	}
	for _, b := range proxystats.Bins(h) {
		s.LatencyBins = append(s.LatencyBins, [2]int64{b.Value, b.Count})
	}
	return s
}

func TestMerge(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name  string
		snaps []proxy.Snapshot
		// all is every replica's latencies recorded into one histogram.
		all                []int64
		requests, errors5x int64
	}{
		{"nothing", nil, nil, 0, 0},
		{"one replica", []proxy.Snapshot{{Kubernetes: side(true, 1, 100, 200, 300)}}, []int64{100, 200, 300}, 3, 1},
		{"three replicas over the API", []proxy.Snapshot{
			{From: t0, To: t0.Add(time.Minute), Kubernetes: side(true, 0, 100, 100, 5000)},
			{From: t0.Add(-time.Second), To: t0.Add(time.Minute), Kubernetes: side(true, 2, 110, 90_000)},
			{From: t0, To: t0.Add(61 * time.Second), Kubernetes: side(true, 1, 7, 100, 2_000_000)},
		}, []int64{100, 100, 5000, 110, 90_000, 7, 100, 2_000_000}, 8, 3},
		{"in this process and over the API", []proxy.Snapshot{
			{Kubernetes: side(false, 0, 300, 400)},
			{Kubernetes: side(true, 1, 300, 12_345)},
		}, []int64{300, 400, 300, 12_345}, 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := proxystats.Merge(tc.snaps).Kubernetes
			if got.Requests != tc.requests || got.Status.ServerError != tc.errors5x {
				t.Errorf("%d requests, %d 5xx; want %d and %d", got.Requests, got.Status.ServerError, tc.requests, tc.errors5x)
			}
			if tc.requests > 0 && got.ErrorRate != float64(tc.errors5x)/float64(tc.requests) {
				t.Errorf("error rate %g, want %d/%d", got.ErrorRate, tc.errors5x, tc.requests)
			}
			want := side(true, 0, tc.all...)
			if len(got.LatencyBins) != len(want.LatencyBins) {
				t.Fatalf("bins %v, want %v (one histogram of every latency)", got.LatencyBins, want.LatencyBins)
			}
			for i := range want.LatencyBins {
				if got.LatencyBins[i] != want.LatencyBins[i] {
					t.Errorf("bin %d is %v, want %v", i, got.LatencyBins[i], want.LatencyBins[i])
				}
			}
			if tc.requests > 0 {
				h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)
				for _, v := range tc.all {
					_ = h.RecordValue(v)
				}
				if got.Latency.Max != h.Max() || got.Latency.P50 != h.ValueAtQuantile(50) {
					t.Errorf("max %d p50 %d, want %d and %d", got.Latency.Max, got.Latency.P50, h.Max(), h.ValueAtQuantile(50))
				}
			}
		})
	}
	m := proxystats.Merge([]proxy.Snapshot{{From: t0, To: t0.Add(time.Minute)}, {From: t0.Add(-time.Second), To: t0.Add(61 * time.Second)}})
	if !m.From.Equal(t0.Add(-time.Second)) || !m.To.Equal(t0.Add(61*time.Second)) {
		t.Errorf("window %s to %s, want the span of all", m.From, m.To)
	}
}

func TestMergeAddsUpRoutes(t *testing.T) {
	route := func(name string, errors5xx int64, micros ...int64) proxy.RouteStats {
		s := side(true, errors5xx, micros...)
		return proxy.RouteStats{Route: name, Requests: s.Requests, Status: s.Status, LatencyBins: s.LatencyBins}
	}
	snaps := []proxy.Snapshot{
		{Kubernetes: proxy.SideStats{Routes: []proxy.RouteStats{route("GET /a", 1, 100, 200), route("other", 0, 5)}}},
		{Kubernetes: proxy.SideStats{Routes: []proxy.RouteStats{route("GET /b", 0, 300), route("GET /a", 0, 100, 9000, 9000), route("other", 1, 7)}}},
		{},
	}
	got := proxystats.Merge(snaps).Kubernetes.Routes
	want := []struct {
		route          string
		requests, errs int64
		all            []int64
	}{
		{"GET /a", 5, 1, []int64{100, 200, 100, 9000, 9000}},
		{"other", 2, 1, []int64{5, 7}},
		{"GET /b", 1, 0, []int64{300}},
	}
	if len(got) != len(want) {
		t.Fatalf("routes %+v, want %d: one per name, busiest first", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Route != w.route || g.Requests != w.requests || g.Status.ServerError != w.errs {
			t.Errorf("route %d is %s with %d requests and %d 5xx, want %s with %d and %d", i, g.Route, g.Requests, g.Status.ServerError, w.route, w.requests, w.errs)
		}
		if g.ErrorRate != float64(w.errs)/float64(w.requests) {
			t.Errorf("%s: error rate %g, want %d/%d", g.Route, g.ErrorRate, w.errs, w.requests)
		}
		bins := side(true, 0, w.all...).LatencyBins
		if len(g.LatencyBins) != len(bins) {
			t.Errorf("%s: bins %v, want %v", g.Route, g.LatencyBins, bins)
			continue
		}
		for j := range bins {
			if g.LatencyBins[j] != bins[j] {
				t.Errorf("%s: bin %d is %v, want %v", g.Route, j, g.LatencyBins[j], bins[j])
			}
		}
		if g.Latency.Max != bins[len(bins)-1][0] {
			t.Errorf("%s: max %d, want %d", g.Route, g.Latency.Max, bins[len(bins)-1][0])
		}
	}
}
