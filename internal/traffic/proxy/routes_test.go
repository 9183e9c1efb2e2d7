package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/routes"
	"ferry.dev/ferry/internal/traffic"
)

func TestRouteBins(t *testing.T) {
	prev := uint16(0)
	for us := int64(1); us <= histMaxMicros; us += max(us/97, 1) {
		idx := routeBinOf(us)
		top := routeBinTop(idx)
		if idx < prev {
			t.Fatalf("bin of %d µs is %d, below the previous value's %d", us, idx, prev)
		}
		if top < us || float64(top-us) > float64(us)/subBins {
			t.Fatalf("%d µs falls in a bin whose top is %d: more than 1/%d away", us, top, subBins)
		}
		if routeBinOf(top) != idx || routeBinOf(top+1) == idx {
			t.Fatalf("bin %d does not end at %d", idx, top)
		}
		prev = idx
	}
	if n := routeBins; n > 1000 {
		t.Errorf("%d bins up to an hour, want at most 1000", n)
	}
}

// routeBackend answers 503 under /fail and 404 under /missing, 200 elsewhere.
func routeBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/fail"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasPrefix(r.URL.Path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestStatsByRoute sends requests for a few endpoints through the proxy and reads them
// back by route from the admin API and from /metrics.
func TestStatsByRoute(t *testing.T) {
	legacy := routeBackend(t, "legacy-1")
	cfg := testConfig([]string{legacy.URL}, []string{routeBackend(t, "k8s-1").URL})
	cfg.Stats.MaxRoutes = 3
	cfg.Backends.Legacy.Ejection.ConsecutiveFailures = 1000 // the 503s must not eject it
	p := startProxy(t, cfg)
	mustWeights(t, p, 0)
	c := newClient()
	send := func(path string, n int) {
		for i := range n {
			get(t, c, p, fmt.Sprintf(path, i))
		}
	}
	send("/users/%d", 30)
	send("/fail/%d", 10)
	send("/missing/%d", 5)      // 404s admit no template: under "other"
	send("/users/%d/orders", 4) // admitted: the third template
	send("/about-%d-us", 6)     // past the cap of 3: under "other"
	send("/fail/%d", 2)

	snap, err := admin(p).StatsByRoute(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RouteStats{}
	var sum int64
	for _, r := range snap.Legacy.Routes {
		got[r.Route] = r
		sum += r.Requests
		if len(r.LatencyBins) == 0 || r.Latency.P99 <= 0 {
			t.Errorf("route %s has no latency: %+v", r.Route, r)
		}
	}
	for _, tc := range []struct {
		route          string
		requests, s5xx int64
	}{
		{"GET /users/{id}", 30, 0},
		{"GET /fail/{id}", 12, 12},
		{"GET /users/{id}/orders", 4, 0},
		{routes.Other, 11, 0},
	} {
		t.Run(tc.route, func(t *testing.T) {
			r := got[tc.route]
			if r.Requests != tc.requests || r.Status.ServerError != tc.s5xx {
				t.Errorf("requests %d, 5xx %d; want %d and %d", r.Requests, r.Status.ServerError, tc.requests, tc.s5xx)
			}
		})
	}
	if len(got) != 4 || sum != snap.Legacy.Requests {
		t.Errorf("routes %v add up to %d requests, side has %d", snap.Legacy.Routes, sum, snap.Legacy.Requests)
	}
	if snap.Legacy.Routes[0].Route != "GET /users/{id}" {
		t.Errorf("busiest route first, got %s", snap.Legacy.Routes[0].Route)
	}
	if plain := p.Stats(time.Minute); plain.Legacy.Routes != nil {
		t.Error("Stats without routes returned routes")
	}

	metrics := adminGet(t, p, PathMetrics)
	for _, want := range []string{
		`ferry_proxy_requests_total{code_class="5xx",route="GET /fail/{id}",side="legacy"} 12`,
		`ferry_proxy_requests_total{code_class="4xx",route="other",side="legacy"} 5`,
		`ferry_proxy_request_duration_seconds_count{route="GET /users/{id}",side="legacy"} 30`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := strings.Count(metrics, "ferry_proxy_request_duration_seconds_count{"); n != 4*2 {
		t.Errorf("%d duration series, want 4 routes × 2 sides", n)
	}

	// Without ?bins=true the admin API sends summaries only.
	var light Snapshot
	if err := json.Unmarshal([]byte(adminGet(t, p, PathStats+"?routes=true")), &light); err != nil {
		t.Fatal(err)
	}
	if len(light.Legacy.Routes) != 4 || light.Legacy.Routes[0].LatencyBins != nil {
		t.Errorf("routes without bins: %+v", light.Legacy.Routes)
	}
}

func adminGet(t *testing.T, p *Proxy, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.AdminAddr()+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.rt.Load().token)
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestRoutesMemoryBounded records 100 000 requests with distinct paths as the
// proxy's request path does once a backend has answered (the route's template, the
// statistics, the metrics): the templates stop at the cap, the rest count as "other",
// and the heap after them is about what it was after the first tenth.
func TestRoutesMemoryBounded(t *testing.T) {
	be := startFastBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(be), urls(be)))
	srv := p.rt.Load().pools[traffic.Legacy].servers[0]
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 40000}, nil)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			// Paths no template collapses: every one is its own endpoint.
			ctx.Request.SetRequestURI(fmt.Sprintf("http://shop.example/page-%x/section-%x", i, i*7919))
			latency := time.Duration(1000+i%5000) * time.Microsecond
			p.record(&ctx, srv, 200, false, false, latency, time.Now())
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	send(0, 10_000)
	tenth := heap()
	send(10_000, 100_000)
	all := heap()
	snap := p.StatsByRoute(time.Hour)
	t.Logf("heap: %.1f MB before, %.1f MB after 10 000 distinct paths, %.1f MB after 100 000 (%d routes and other)",
		mb(base), mb(tenth), mb(all), len(snap.Legacy.Routes)-1)
	if snap.Legacy.Requests != 100_000 || len(snap.Legacy.Routes) != DefaultMaxRoutes+1 {
		t.Fatalf("%d requests in %d routes, want 100000 in %d", snap.Legacy.Requests, len(snap.Legacy.Routes), DefaultMaxRoutes+1)
	}
	if other := snap.Legacy.Routes[0]; other.Route != routes.Other || other.Requests != 100_000-DefaultMaxRoutes {
		t.Errorf("busiest route %s with %d requests, want other with %d", other.Route, other.Requests, 100_000-DefaultMaxRoutes)
	}
	if grew := int64(all) - int64(tenth); grew > 4<<20 {
		t.Errorf("the heap grew by %.1f MB over the last 90 000 distinct paths, want it bounded (under 4 MB)", float64(grew)/(1<<20))
	}
	if p.metricsSeries() > 2*(DefaultMaxRoutes+1) {
		t.Errorf("%d duration series, want at most %d", p.metricsSeries(), 2*(DefaultMaxRoutes+1))
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// metricsSeries counts the duration histogram's series.
func (p *Proxy) metricsSeries() int {
	families, _ := p.metrics.registry.Gather()
	for _, f := range families {
		if f.GetName() == "ferry_proxy_request_duration_seconds" {
			return len(f.GetMetric())
		}
	}
	return 0
}
