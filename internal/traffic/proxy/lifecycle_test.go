package proxy

import (
	"context"
	"errors"
	"fmt"
	"github.com/valyala/fasthttp"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// TestNoFailuresWhileWeightsChange changes the weights 1 000 times (through the Go
// API and the admin API) while eight clients keep requests in flight, with at least a
// few requests answered between two changes, and wants every request answered 200 by
// a real backend.
func TestNoFailuresWhileWeightsChange(t *testing.T) {
	l1, l2, k1 := startFastBackend(t, "legacy-1"), startFastBackend(t, "legacy-2"), startFastBackend(t, "k8s-1")
	p := startProxy(t, testConfig(urls(l1, l2), urls(k1)))
	ctx := context.Background()
	hc := &fasthttp.HostClient{Addr: p.Addr(), MaxConns: 8}
	stop := make(chan struct{})
	var sent, bad atomic.Int64
	answered := make(chan struct{}, 64) // a token a request answered, when there is room
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI("http://" + p.Addr() + "/")
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Header.Peek("X-Backend")) == 0 {
					bad.Add(1)
				}
				sent.Add(1)
				select {
				case answered <- struct{}{}:
				default:
				}
			}
		}()
	}
	ac := admin(p)
	seen := map[traffic.Side]bool{}
	for i := 0; i < 1000; i++ {
		w := traffic.KubernetesShare((i * 37) % (traffic.Total + 1))
		var err error
		if i%10 == 0 {
			err = ac.SetWeights(ctx, w)
		} else {
			err = p.SetWeights(ctx, w)
		}
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		if got, _ := p.Weights(ctx); got != w {
			t.Fatalf("change %d: weights %v, want %v", i, got, w)
		}
		for len(answered) > 0 { // tokens of requests answered before this change
			<-answered
		}
		timeout := time.After(10 * time.Second)
		for range 4 {
			select {
			case <-answered:
			case <-timeout:
				t.Fatal("no requests answered between weight changes")
			}
		}
	}
	close(stop)
	wg.Wait()
	snap := p.Stats(time.Hour)
	for _, s := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		seen[s] = snap.Side(s).Requests > 0
	}
	if bad.Load() != 0 || sent.Load() < 4000 || !seen[traffic.Legacy] || !seen[traffic.Kubernetes] {
		t.Fatalf("%d of %d requests failed during 1000 weight changes (sides served: %v)", bad.Load(), sent.Load(), seen)
	}
	t.Logf("%d requests during 1000 weight changes, none failed", sent.Load())
}

// TestShutdownDrains closes the proxy while slow requests are in flight: every one of
// them completes, and new connections are refused afterwards.
func TestShutdownDrains(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	p, err := New(testConfig(urls(l1), urls(k1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Open(); err != nil {
		t.Fatal(err)
	}
	addr := p.Addr()
	const inflight = 20
	results := make(chan error, inflight)
	for i := 0; i < inflight; i++ {
		go func() {
			resp, err := newClient().Get("http://" + addr + "/slow?ms=400")
			if err == nil {
				drain(resp)
				if resp.StatusCode != http.StatusOK {
					err = errors.New(resp.Status)
				}
			}
			results <- err
		}()
	}
	waitFor(t, func() bool { return l1.hits.Load() >= inflight }, "all requests to reach the backend")
	start := time.Now()
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("close took %s", d)
	}
	for i := 0; i < inflight; i++ {
		if err := <-results; err != nil {
			t.Errorf("in-flight request failed during shutdown: %v", err)
		}
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the proxy still accepts connections after Close")
	}
}

// waitFor checks cond until it holds. The counters it reads have no event to wait
// on; a loaded machine may take long, so the bound is the test binary's own
// deadline (go test -timeout), not a wall-clock guess, and the failure names what
// was awaited.
func waitFor(tb testing.TB, cond func() bool, what string) {
	tb.Helper()
	deadline, ok := time.Time{}, false
	if t, isTest := tb.(interface{ Deadline() (time.Time, bool) }); isTest {
		deadline, ok = t.Deadline()
	}
	if !ok {
		deadline = time.Now().Add(10 * time.Minute)
	}
	deadline = deadline.Add(-5 * time.Second) // fail here, with the reason, before the binary's panic
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReloadRejectsBadConfig: a reload with a bad config fails with the reason and the
// old config keeps serving; a good one switches the backends and keeps API weights.
func TestReloadRejectsBadConfig(t *testing.T) {
	l1, l2, k1 := startBackend(t, "legacy-1"), startBackend(t, "legacy-2"), startBackend(t, "k8s-1")
	cfg := testConfig(urls(l1), urls(k1))
	p := startProxy(t, cfg)
	c := newClient()
	mustWeights(t, p, 0)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"bad server URL", func(c *Config) { c.Backends.Legacy.Servers = []string{"ftp://127.0.0.1:1"} }, "scheme must be http or https"},
		{"no kubernetes servers", func(c *Config) { c.Backends.Kubernetes.Servers = nil }, "backends.kubernetes.servers: required"},
		{"listen change", func(c *Config) { c.Listen = "127.0.0.1:1" }, "listen changed"},
		{"missing token file", func(c *Config) { c.Admin.Token, c.Admin.TokenFile = "", filepath.Join(dir, "none") }, "admin.tokenFile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := p.Config()
			bad.Backends.Legacy.Servers = append([]string(nil), bad.Backends.Legacy.Servers...)
			tc.edit(&bad)
			err := p.Reload(bad)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload error %v, want one containing %q", err, tc.want)
			}
			for i := 0; i < 5; i++ {
				if code, from, _ := get(t, c, p, "/"); code != 200 || from != "legacy-1" {
					t.Fatalf("after a rejected reload: %d from %q, want 200 from legacy-1", code, from)
				}
			}
		})
	}
	good := p.Config()
	good.Backends.Legacy.Servers = []string{l2.URL()}
	if err := p.Reload(good); err != nil {
		t.Fatal(err)
	}
	if code, from, _ := get(t, c, p, "/"); code != 200 || from != "legacy-2" {
		t.Fatalf("after a good reload: %d from %q, want 200 from legacy-2", code, from)
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
		t.Errorf("reload reset the weights set through the API to %v", w)
	}
}

// TestAdminAPIRequiresToken: every admin endpoint but /healthz refuses requests
// without the bearer token or with a wrong one.
func TestAdminAPIRequiresToken(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	p := startProxy(t, testConfig(urls(l1), urls(k1)))
	c := newClient()
	base := "http://" + p.AdminAddr()
	for _, tc := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", PathWeights, "", 401},
		{"GET", PathWeights, "Bearer wrong", 401},
		{"GET", PathWeights, "test-token", 401},
		{"PUT", PathWeights, "", 401},
		{"GET", PathStats, "", 401},
		{"GET", PathBackends, "", 401},
		{"GET", PathMetrics, "", 401},
		{"GET", PathHealthz, "", 200},
		{"GET", PathWeights, "Bearer test-token", 200},
		{"GET", PathStats + "?window=30s", "Bearer test-token", 200},
		{"GET", PathStats + "?window=soon", "Bearer test-token", 400},
		{"GET", PathMetrics, "Bearer test-token", 200},
		{"PUT", PathWeights, "Bearer test-token", 400}, // empty body
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.auth, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			drain(resp)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	bad := &AdminClient{BaseURL: base, Token: "wrong"}
	if err := bad.SetWeights(context.Background(), traffic.KubernetesShare(5000)); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("SetWeights with a wrong token: %v, want ErrUnauthorized", err)
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
		t.Errorf("a refused request changed the weights to %v", w)
	}
}

// TestAdminTokenRequiredOffLoopback: New refuses an admin API on a non-loopback
// address without a token, before binding anything; a token file is read.
func TestAdminTokenRequiredOffLoopback(t *testing.T) {
	cfg := testConfig([]string{"http://127.0.0.1:1"}, []string{"http://127.0.0.1:2"})
	cfg.Admin = AdminConfig{Listen: "0.0.0.0:0"} // never bound: New must refuse it
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("New: %v, want a refusal for a non-loopback admin address without token", err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Admin = AdminConfig{Listen: "127.0.0.1:0", TokenFile: file}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tok := p.rt.Load().token; tok != "from-file" {
		t.Errorf("token %q, want from-file", tok)
	}
}

// TestCloseRightAfterOpenStops closes proxies at once after opening them, on one
// processor so that Close runs before the serving goroutine has started: fasthttp's
// Shutdown then knows no listener yet, and Close must still stop the serving that
// starts after it. Close runs in the test's goroutine, so that it comes first; a
// Close that waits forever ends the test binary at the watchdog's deadline.
func TestCloseRightAfterOpenStops(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	backend := startFastBackend(t, "legacy-1")
	for i := range 20 {
		p, err := New(testConfig(urls(backend), urls(backend)))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Open(); err != nil {
			t.Fatal(err)
		}
		watchdog := time.AfterFunc(30*time.Second, func() {
			panic(fmt.Sprintf("close %d right after open did not return in 30s", i))
		})
		err = p.Close(context.Background())
		watchdog.Stop()
		if err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
}
