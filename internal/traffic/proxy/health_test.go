package proxy

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// brokenServer accepts connections and closes them at once: a backend that fails
// before sending any byte of a response.
func brokenServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tb.Cleanup(func() { ln.Close() })
	return "http://" + ln.Addr().String()
}

// TestRetriesOnlyIdempotent: with one broken and one good legacy server, every GET
// succeeds (retried on the good one) while some POSTs fail with 502: they are never
// sent twice.
func TestRetriesOnlyIdempotent(t *testing.T) {
	good := startBackend(t, "legacy-good")
	cfg := testConfig([]string{brokenServer(t), good.URL()}, urls(startBackend(t, "k8s-1")))
	cfg.Backends.Legacy.Ejection.Disabled = true
	p := startProxy(t, cfg)
	c := newClient()
	getFailures, postFailures := 0, 0
	for i := 0; i < 20; i++ {
		if code, _, _ := get(t, c, p, "/"); code != 200 {
			getFailures++
		}
		resp, err := c.Post("http://"+p.Addr()+"/", "text/plain", bytes.NewReader([]byte("order")))
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode == http.StatusBadGateway {
			postFailures++
		} else if resp.StatusCode != 200 {
			t.Fatalf("POST got %d", resp.StatusCode)
		}
	}
	if getFailures != 0 {
		t.Errorf("%d of 20 GETs failed, want all retried onto the good server", getFailures)
	}
	if postFailures == 0 {
		t.Errorf("no POST failed: POSTs must not be retried")
	}
	if snap := p.Stats(time.Minute); snap.Legacy.Errors != int64(postFailures) {
		t.Errorf("stats count %d errors, want %d", snap.Legacy.Errors, postFailures)
	}
}

// TestPassiveEjection: a server answering 503 is ejected after three in a row and gets
// no more requests until the ejection ends.
func TestPassiveEjection(t *testing.T) {
	sick, well := startBackend(t, "legacy-sick"), startBackend(t, "legacy-well")
	sick.status.Store(http.StatusServiceUnavailable)
	cfg := testConfig(urls(sick, well), urls(startBackend(t, "k8s-1")))
	cfg.Backends.Legacy.Ejection = EjectionConfig{ConsecutiveFailures: 3, Duration: time.Hour}
	p := startProxy(t, cfg)
	c := newClient()
	for i := 0; i < 40; i++ {
		get(t, c, p, "/")
	}
	if got := sick.hits.Load(); got != 3 {
		t.Errorf("the failing server got %d requests, want exactly 3 before its ejection", got)
	}
	var ejected bool
	for _, b := range p.Backends() {
		if b.URL == sick.URL() {
			ejected = b.EjectedUntil != nil && !b.Available
		}
	}
	if !ejected {
		t.Errorf("backends %+v: want %s ejected", p.Backends(), sick.URL())
	}
}

// TestActiveHealthChecks: a server failing its check path is taken out within a few
// intervals and comes back when it passes again.
func TestActiveHealthChecks(t *testing.T) {
	flaky, steady := startBackend(t, "legacy-flaky"), startBackend(t, "legacy-steady")
	cfg := testConfig(urls(flaky, steady), urls(startBackend(t, "k8s-1")))
	// Checks of 300 ms: the steady server must not be taken out by two late answers
	// of a busy machine while the test counts on it.
	cfg.Backends.Legacy.HealthCheck = HealthCheckConfig{Path: "/healthz", Interval: 300 * time.Millisecond, Timeout: 300 * time.Millisecond, HealthyAfter: 1, UnhealthyAfter: 2}
	p := startProxy(t, cfg)
	c := newClient()
	isAvailable := func(u string) bool {
		for _, b := range p.Backends() {
			if b.URL == u {
				return b.Available
			}
		}
		return false
	}
	flaky.healthy.Store(false)
	waitFor(t, func() bool { return !isAvailable(flaky.URL()) }, "the failing server to be marked down")
	before := flaky.hits.Load()
	for i := 0; i < 20; i++ {
		if code, from, _ := get(t, c, p, "/"); code != 200 || from != "legacy-steady" {
			t.Fatalf("request %d: %d from %s while legacy-flaky is down", i, code, from)
		}
	}
	if flaky.hits.Load() != before {
		t.Error("a server marked down still got requests")
	}
	flaky.healthy.Store(true)
	waitFor(t, func() bool { return isAvailable(flaky.URL()) }, "the server to come back")
}

// TestFailoverWhenASideIsDown: when every Kubernetes server is down, requests chosen
// for Kubernetes go to legacy instead of failing; forced requests do not fail over.
func TestFailoverWhenASideIsDown(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	cfg := testConfig(urls(l1), []string{brokenServer(t)})
	cfg.Backends.Kubernetes.Ejection = EjectionConfig{ConsecutiveFailures: 1, Duration: time.Hour}
	cfg.Force.Enabled = true
	p := startProxy(t, cfg)
	mustWeights(t, p, 10000)
	c := newClient()
	// The first request meets the broken server and ejects it.
	get(t, c, p, "/")
	for i := 0; i < 10; i++ {
		if code, from, _ := get(t, c, p, "/"); code != 200 || from != "legacy-1" {
			t.Fatalf("request %d at 100 %% kubernetes with kubernetes down: %d from %q, want legacy", i, code, from)
		}
	}
	if code, _, _ := get(t, c, p, "/", "X-Ferry-Side", "kubernetes"); code != http.StatusBadGateway {
		t.Errorf("a forced request to the dead side got %d, want 502", code)
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 10000 {
		t.Errorf("failover changed the weights to %v", w)
	}
}

// TestBusyPoolIsNotAFailure: when a server's connection limit stays full, the request
// gets 503 and the server is not ejected, since it is busy rather than sick.
func TestBusyPoolIsNotAFailure(t *testing.T) {
	slow := startBackend(t, "legacy-slow")
	cfg := testConfig(urls(slow), urls(startBackend(t, "k8s-1")))
	cfg.Backends.Legacy.MaxConnsPerServer = 1
	cfg.Backends.Legacy.Ejection = EjectionConfig{ConsecutiveFailures: 1, Duration: time.Hour}
	cfg.Timeouts.Connect = 50 * time.Millisecond
	p := startProxy(t, cfg)
	done := make(chan int, 1)
	go func() {
		code, _, _ := get(t, newClient(), p, "/slow?ms=500")
		done <- code
	}()
	waitFor(t, func() bool { return slow.hits.Load() == 1 }, "the slow request to hold the only connection")
	if code, _, _ := get(t, newClient(), p, "/"); code != http.StatusServiceUnavailable {
		t.Errorf("request beyond the connection limit got %d, want 503", code)
	}
	if code := <-done; code != 200 {
		t.Errorf("the slow request got %d", code)
	}
	for _, b := range p.Backends() {
		if !b.Available {
			t.Errorf("%s was ejected for being busy", b.URL)
		}
	}
}
