package proxy

import (
	"github.com/valyala/fasthttp"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"time"
)

// load sends n GET requests over conc keep-alive connections with a lean client and
// counts answers per X-Backend and failures.
func load(tb testing.TB, p *Proxy, n, conc int, header ...string) (map[string]int, int) {
	tb.Helper()
	hc := &fasthttp.HostClient{Addr: p.Addr(), MaxConns: conc}
	var next atomic.Int64
	var mu sync.Mutex
	counts := map[string]int{}
	failed := 0
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string]int{}
			bad := 0
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for next.Add(1) <= int64(n) {
				req.Reset()
				req.SetRequestURI("http://" + p.Addr() + "/")
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				if err := hc.Do(req, resp); err != nil || resp.StatusCode() != http.StatusOK {
					bad++
					continue
				}
				local[string(resp.Header.Peek("X-Backend"))]++
			}
			mu.Lock()
			for k, v := range local {
				counts[k] += v
			}
			failed += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	return counts, failed
}

// TestWeightsHonoured sends 100 000 requests at 10 % Kubernetes and checks the split
// within five standard deviations of the binomial distribution, and an even spread
// over the three legacy servers.
func TestWeightsHonoured(t *testing.T) {
	l1, l2, l3, k1 := startFastBackend(t, "legacy-1"), startFastBackend(t, "legacy-2"), startFastBackend(t, "legacy-3"), startFastBackend(t, "k8s-1")
	cfg := testConfig(urls(l1, l2, l3), urls(k1))
	cfg.Weights = WeightsConfig{Kubernetes: PercentOf(1000)}
	p := startProxy(t, cfg)
	// 30 000 requests tell 10 % from 8.5 % or 11.5 % (five standard deviations are ±0.87
	// points); 100 000 made this one test a minute of the race pass on a busy machine.
	const n = 30_000
	counts, failed := load(t, p, n, 16)
	if failed != 0 {
		t.Fatalf("%d requests failed", failed)
	}
	k8s := counts["k8s-1"]
	share, sigma := 0.10, math.Sqrt(n*0.10*0.90)
	if diff := math.Abs(float64(k8s) - n*share); diff > 5*sigma {
		t.Errorf("kubernetes got %d of %d requests (%.3f %%), want 10 %% ± %.0f", k8s, n, 100*float64(k8s)/n, 5*sigma)
	}
	legacy := n - k8s
	for _, b := range []*backend{l1, l2, l3} {
		if got := counts[b.name]; math.Abs(float64(got)-float64(legacy)/3) > float64(legacy)/100 {
			t.Errorf("%s got %d of %d legacy requests, want a third ± 1 %%", b.name, got, legacy)
		}
	}
	snap := p.Stats(time.Hour)
	if snap.Kubernetes.Requests != int64(k8s) || snap.Legacy.Requests != int64(legacy) {
		t.Errorf("stats count legacy %d kubernetes %d, backends saw %d and %d",
			snap.Legacy.Requests, snap.Kubernetes.Requests, legacy, k8s)
	}
	t.Logf("%d requests: kubernetes %d (%.3f %%), legacy %v", n, k8s, 100*float64(k8s)/n, counts)
}
