package migratetest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"ferry.dev/ferry/internal/traffic/proxy"
)

// TB is the part of testing.TB the helpers use, so benchmarks outside tests can
// use them too.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// LooseGates is the part of a plan that judges loosely, for tests about something
// other than what the gates conclude (the runner, a router, a command): a step passes
// on some fifty requests, a machine busy with other tests cannot make the new side
// look slow enough to fail, and the last step is judged at 75 % beside a 25 %
// control, whose tail the latency gate has soon enough.
const LooseGates = `final: {control: 25%}
gates:
  errorRate: {minAbsolute: 0.1}
  latency: {minRequests: 50, maxP50Ratio: 20, maxP99Ratio: 50}
`

// Backend is an HTTP server that answers 500 with a set probability and takes a set
// latency (uniform between Min and Max, times Slowdown).
type Backend struct {
	*httptest.Server
	errorsPerMillion atomic.Int64
	minMicros        atomic.Int64
	maxMicros        atomic.Int64
	slowdownPercent  atomic.Int64
	down             atomic.Bool
}

// SetDown takes the backend out (every request, its health check's too, gets 503) or
// brings it back.
func (b *Backend) SetDown(down bool) { b.down.Store(down) }

// NewSideBackend starts a backend for one side of a migration that gates judge: 0.5 %
// errors and 100 to 200 ms. A regression of +50 % (50 to 100 ms) then stays well above
// what a machine busy with other work adds to every request it measures: that is
// added to both sides alike and shrinks their ratio, and at 50 to 100 ms a starved
// test process once passed a +50 % regression as within the 1.2x the gate allows.
func NewSideBackend(tb TB) *Backend {
	return NewBackend(tb, 0.005, 100*time.Millisecond, 200*time.Millisecond)
}

// NewBackend starts a backend with the given error rate and latency range.
func NewBackend(tb TB, errorRate float64, minLatency, maxLatency time.Duration) *Backend {
	tb.Helper()
	b := &Backend{}
	b.SetErrorRate(errorRate)
	b.SetLatency(minLatency, maxLatency)
	b.slowdownPercent.Store(100)
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	tb.Cleanup(b.Close)
	return b
}

// SetErrorRate changes the share of 500 answers.
func (b *Backend) SetErrorRate(r float64) { b.errorsPerMillion.Store(int64(r * 1e6)) }

// SetLatency changes the latency range.
func (b *Backend) SetLatency(lo, hi time.Duration) {
	b.minMicros.Store(lo.Microseconds())
	b.maxMicros.Store(hi.Microseconds())
}

// SetSlowdown multiplies every latency by f (1.5 = 50 % slower).
func (b *Backend) SetSlowdown(f float64) { b.slowdownPercent.Store(int64(f * 100)) }

func (b *Backend) serve(w http.ResponseWriter, _ *http.Request) {
	if b.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	lo, hi := b.minMicros.Load(), b.maxMicros.Load()
	d := lo
	if hi > lo {
		d += rand.Int64N(hi - lo)
	}
	time.Sleep(time.Duration(d*b.slowdownPercent.Load()/100) * time.Microsecond)
	if rand.Int64N(1e6) < b.errorsPerMillion.Load() {
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// StartProxy opens the embedded proxy in front of legacy and kubernetes, with one
// second statistics buckets and all traffic on legacy.
func StartProxy(tb TB, legacy, kubernetes *Backend) *proxy.Proxy {
	tb.Helper()
	return startProxy(tb, legacy.URL, kubernetes.URL)
}

// StartProxyHealthChecked opens the embedded proxy as StartProxy does, in front of
// several legacy servers that it health-checks every 500 ms (two failures take a
// server out, one success brings it back; no passive ejection).
func StartProxyHealthChecked(tb TB, legacy []*Backend, kubernetes *Backend) *proxy.Proxy {
	tb.Helper()
	var urls []string
	for _, b := range legacy {
		urls = append(urls, b.URL)
	}
	return openProxy(tb, urls, kubernetes.URL, func(cfg *proxy.Config) {
		// A healthy server must not be found down because a busy machine answered its
		// check late: with one check of 100 ms deciding, a starved test saw healthy
		// servers flap between 0 and 2 of 3. Two failed checks of 500 ms take one out
		// (a server taken down answers 503 at once: about a second); one success
		// brings it back.
		cfg.Backends.Legacy.HealthCheck = proxy.HealthCheckConfig{Path: "/healthz", Interval: 500 * time.Millisecond,
			Timeout: 500 * time.Millisecond, HealthyAfter: 1, UnhealthyAfter: 2}
		cfg.Backends.Legacy.Ejection.Disabled = true
	})
}

func startProxy(tb TB, legacy, kubernetes string) *proxy.Proxy {
	tb.Helper()
	return openProxy(tb, []string{legacy}, kubernetes, func(*proxy.Config) {})
}

func openProxy(tb TB, legacy []string, kubernetes string, tune func(*proxy.Config)) *proxy.Proxy {
	tb.Helper()
	cfg := proxy.Config{
		Listen: "127.0.0.1:0",
		Admin:  proxy.AdminConfig{Listen: "127.0.0.1:0"},
		Sticky: proxy.StickyConfig{Disabled: true},
		Backends: proxy.BackendsConfig{
			Legacy:     proxy.PoolConfig{Servers: legacy},
			Kubernetes: proxy.PoolConfig{Servers: []string{kubernetes}},
		},
		Stats: proxy.StatsConfig{Bucket: time.Second},
	}
	cfg.Weights.Kubernetes = proxy.PercentOf(0)
	tune(&cfg)
	p, err := proxy.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// Load sends GET requests to url at a constant rate until stopped.
type Load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// Sent and Failed count requests and transport failures (no answer at all).
	Sent, Failed atomic.Int64
}

// StartLoad sends rate requests per second to url from a pool of workers.
func StartLoad(url string, rate int) *Load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Load{cancel: cancel}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512},
		Timeout:   10 * time.Second,
	}
	ticks := make(chan struct{}, 4*rate)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(ticks)
		interval := time.Second / time.Duration(rate)
		next := time.Now()
		for {
			next = next.Add(interval)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			select {
			case ticks <- struct{}{}:
			default: // workers saturated: drop rather than queue up
			}
		}
	}()
	for range min(rate/4+8, 256) {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for range ticks {
				resp, err := client.Get(url)
				l.Sent.Add(1)
				if err != nil {
					l.Failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	return l
}

// Stop stops sending and waits for requests in flight.
func (l *Load) Stop() {
	l.cancel()
	l.wg.Wait()
}

// URL is the proxy's user-facing URL.
func URL(p *proxy.Proxy) string { return fmt.Sprintf("http://%s/", p.Addr()) }
