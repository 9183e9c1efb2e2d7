package providers_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/loadtest/accesslog"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/routes"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// payroll is the endpoint the regressions below break: 2 % of the access log's
// requests.
const payroll = "POST /payroll/{id}/run"

// shopApp is one side of the shop: a real HTTP server on loopback whose endpoints
// (named as the proxy names them) each take their own time, 0.5 % of requests fail,
// and payroll can be broken.
type shopApp struct {
	*httptest.Server
	// payrollErrors, in millionths, replaces payroll's error rate when set.
	payrollErrors atomic.Int64
	// payrollSlowTail makes 10 % of payroll's requests take twice its p99, which
	// doubles its p99.
	payrollSlowTail atomic.Bool
}

func newShopApp(t *testing.T) *shopApp {
	t.Helper()
	a := &shopApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

// payrollP99 is payroll's p99 on a healthy side: 2 % of its requests take it, the
// rest 10 to 15 ms. It is well above what a busy machine adds to a request.
const payrollP99 = 40 * time.Millisecond

func (a *shopApp) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := routes.Endpoint(r.Method, r.URL.Path)
	errorsPerMillion := int64(5000)
	// 1 to 3 ms, by endpoint, ±25 %.
	h := fnv.New32a()
	io.WriteString(h, endpoint)
	base := time.Millisecond + time.Duration(h.Sum32()%5)*500*time.Microsecond
	d := base*3/4 + time.Duration(rand.Int64N(int64(base/2)))
	if endpoint == payroll {
		d = 10*time.Millisecond + time.Duration(rand.Int64N(int64(5*time.Millisecond)))
		switch u := rand.Float64(); {
		case u < 0.02:
			d = payrollP99
		case u < 0.12 && a.payrollSlowTail.Load():
			d = 2 * payrollP99
		}
		if e := a.payrollErrors.Load(); e > 0 {
			errorsPerMillion = e
		}
	}
	time.Sleep(d)
	if rand.Int64N(1e6) < errorsPerMillion {
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "ok\n")
}

// shopWorld is the proxy in front of both sides and the access log's traffic mix.
type shopWorld struct {
	legacy, kube *shopApp
	proxy        *proxy.Proxy
	mix          []accesslog.Entry
}

func newShopWorld(t *testing.T) *shopWorld {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "shop-endpoints.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log, err := accesslog.Read(f, accesslog.Combined)
	if err != nil {
		t.Fatal(err)
	}
	w := &shopWorld{legacy: newShopApp(t), kube: newShopApp(t), mix: log.Entries}
	cfg := proxy.Config{
		Listen:   "127.0.0.1:0",
		Admin:    proxy.AdminConfig{Listen: "127.0.0.1:0"},
		Sticky:   proxy.StickyConfig{Disabled: true},
		Backends: proxy.BackendsConfig{Legacy: proxy.PoolConfig{Servers: []string{w.legacy.URL}}, Kubernetes: proxy.PoolConfig{Servers: []string{w.kube.URL}}},
		Stats:    proxy.StatsConfig{Bucket: time.Second},
	}
	cfg.Weights.Kubernetes = proxy.PercentOf(0)
	if w.proxy, err = proxy.New(cfg); err != nil {
		t.Fatal(err)
	}
	if err := w.proxy.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.proxy.Close(context.Background()) })
	return w
}

// replay sends the access log's requests through the proxy, in a random order, from
// workers that each wait for their answer (as fast as the machine allows), until the
// returned function is called.
func (w *shopWorld) replay(workers int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	base := "http://" + w.proxy.Addr()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				e := w.mix[rand.IntN(len(w.mix))]
				req, err := http.NewRequestWithContext(ctx, e.Method, base+e.URI, nil)
				if err != nil {
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// config is a plan for the shop's proxy: a 5 % step, a 10 % step that waits for
// minRequests on the new side, then 50 % and 100 %; regressions of 2 points of errors
// or more matter (so the 5 % step passes on a few hundred requests).
func (w *shopWorld) config(t *testing.T, minRequests int, gates string) migrate.Config {
	t.Helper()
	yaml := fmt.Sprintf(`name: shop
steps:
- {weight: 5, hold: 500ms}
- {weight: 10, hold: 1s, minRequests: %d}
- {weight: 50, hold: 1s}
- {weight: 100, hold: 1s}
router: {proxy: {admin: "http://%s"}}
metrics: {proxy: {}}
interval: 250ms
warmup: 1s
deadline: 10m
gates:
  errorRate: {minAbsolute: 0.02}
  latency: {minRequests: 150}
%s`, minRequests, w.proxy.AdminAddr(), gates)
	p, err := plan.Parse([]byte(yaml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := providers.Config(context.Background(), p, providers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
