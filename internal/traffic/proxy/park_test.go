package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// parkedCount returns how many connections are parked now.
func (l *parkListener) parkedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.parked)
}

// isParked says whether the client connection from addr is parked.
func (l *parkListener) isParked(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.parked {
		if c.RemoteAddr().String() == addr {
			return true
		}
	}
	return false
}

// keepAlive is a client connection that sends requests one at a time.
type keepAlive struct {
	net.Conn
	r *bufio.Reader
}

func dialKeepAlive(t *testing.T, p *Proxy) *keepAlive {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{Conn: c, r: bufio.NewReader(c)}
}

// get sends the request's parts with a pause before each but the first, and returns the
// response's status.
func (k *keepAlive) get(t *testing.T, pause func(), parts ...string) int {
	t.Helper()
	status, _ := k.do(t, pause, parts...)
	return status
}

// do is get that returns the response's body too.
func (k *keepAlive) do(t *testing.T, pause func(), parts ...string) (int, string) {
	t.Helper()
	if len(parts) == 0 {
		parts = []string{"GET /products/1 HTTP/1.1\r\nHost: shop.example\r\n\r\n"}
	}
	for i, part := range parts {
		if i > 0 {
			pause()
		}
		if _, err := io.WriteString(k, part); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		t.Fatalf("read the response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read the response's body: %v", err)
	}
	return resp.StatusCode, string(body)
}

// TestIdleConnectionsParkAndServeAgain: keep-alive connections that idle give up
// fasthttp's buffers (they park) and still serve their next request, whole or in
// pieces; the open-connections gauge counts them.
func TestIdleConnectionsParkAndServeAgain(t *testing.T) {
	be := startFastBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(be), urls(be)))
	const n = 20
	var conns []*keepAlive
	for range n {
		k := dialKeepAlive(t, p)
		if got := k.get(t, nil); got != http.StatusOK {
			t.Fatalf("first request: %d", got)
		}
		conns = append(conns, k)
	}
	waitFor(t, func() bool { return p.clients.parkedCount() == n }, "every idle connection parked")
	if got := p.clients.Open(); got != n {
		t.Errorf("open connections %d, want the %d parked ones", got, n)
	}
	for i, k := range conns {
		parts := []string{"GET /products/2 HTTP/1.1\r\nHost: shop.example\r\n\r\n"}
		pause := func() {}
		if i%2 == 1 {
			// The request's first bytes wake the connection; the rest comes once fasthttp
			// serves it again.
			parts = []string{"GE", "T /products/2 HTTP/1.1\r\nHost: shop.example\r\n\r\n"}
			pause = func() {
				waitFor(t, func() bool { return !p.clients.isParked(k.LocalAddr().String()) }, "the connection woken")
			}
		}
		if got := k.get(t, pause, parts...); got != http.StatusOK {
			t.Fatalf("connection %d: second request: %d", i, got)
		}
	}
	waitFor(t, func() bool { return p.clients.parkedCount() == n }, "every connection parked again")
	if got := p.clients.Open(); got != n {
		t.Errorf("open connections %d, want %d", got, n)
	}
}

// TestParkedConnectionsCloseAtTheIdleTimeoutAndOnClose: a parked connection is closed
// when timeouts.clientIdle has passed since its last request, and when the proxy
// closes.
func TestParkedConnectionsCloseAtTheIdleTimeoutAndOnClose(t *testing.T) {
	be := startFastBackend(t, "legacy-1")
	t.Run("idle timeout", func(t *testing.T) {
		cfg := testConfig(urls(be), urls(be))
		cfg.Timeouts.ClientIdle = 2 * parkAfter
		p := startProxy(t, cfg)
		k := dialKeepAlive(t, p)
		k.get(t, nil)
		start := time.Now()
		_ = k.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := k.r.ReadByte(); err != io.EOF {
			t.Fatalf("read on the idle connection: %v, want the proxy's close (EOF)", err)
		}
		if idled := time.Since(start); idled < cfg.Timeouts.ClientIdle-parkAfter/2 {
			t.Errorf("closed after %s idle, before timeouts.clientIdle (%s)", idled, cfg.Timeouts.ClientIdle)
		}
		waitFor(t, func() bool { return p.clients.Open() == 0 }, "no connection counted open")
	})
	t.Run("close", func(t *testing.T) {
		p := startProxy(t, testConfig(urls(be), urls(be)))
		k := dialKeepAlive(t, p)
		k.get(t, nil)
		waitFor(t, func() bool { return p.clients.parkedCount() == 1 }, "the connection parked")
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		_ = k.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := k.r.ReadByte(); err != io.EOF {
			t.Fatalf("read on the parked connection after Close: %v, want EOF", err)
		}
	})
}

// TestMaxConnectionsCountsParkedConnections: limits.maxConnections bounds every open
// client connection, parked ones included: one more is answered 503 and closed.
func TestMaxConnectionsCountsParkedConnections(t *testing.T) {
	be := startFastBackend(t, "legacy-1")
	cfg := testConfig(urls(be), urls(be))
	cfg.Limits.MaxConnections = 3
	p := startProxy(t, cfg)
	for range cfg.Limits.MaxConnections {
		dialKeepAlive(t, p).get(t, nil)
	}
	waitFor(t, func() bool { return p.clients.parkedCount() == cfg.Limits.MaxConnections }, "the connections parked")
	extra := dialKeepAlive(t, p)
	if got := extra.get(t, nil); got != http.StatusServiceUnavailable {
		t.Fatalf("a connection over limits.maxConnections got %d, want 503", got)
	}
	_ = extra.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := extra.r.ReadByte(); err != io.EOF {
		t.Fatalf("the refused connection: %v, want it closed", err)
	}
}

// TestASlowRequestIsNotCutBySweeps: a request whose head and body arrive over several
// sweeps is served whole: only a connection waiting for its next request parks.
func TestASlowRequestIsNotCutBySweeps(t *testing.T) {
	be := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(be), urls(be)))
	k := dialKeepAlive(t, p)
	// Each pause spans a whole sweep interval and more: a sweep comes in each.
	pause := func() { <-time.After(parkAfter) }
	body := strings.Repeat("x", 10)
	got, answer := k.do(t, pause,
		"POST /echo HTTP/1.1\r\nHost: shop.example\r\n",
		"Content-Length: 10\r\n\r\n",
		body[:5], body[5:])
	if got != http.StatusOK || !strings.Contains(answer, `"bodyLen":10`) {
		t.Fatalf("slow request: %d %s, want 200 and the whole body at the backend", got, answer)
	}
	if got := k.get(t, nil); got != http.StatusOK {
		t.Fatalf("the next request on the same connection: %d", got)
	}
}

// TestReleaseWaitsForParkingToSettle checks when the sweep gives parked connections'
// memory back: after releaseAfter parks, at the first sweep with none new, and not
// again within releaseEvery.
func TestReleaseWaitsForParkingToSettle(t *testing.T) {
	var r release
	now := time.Unix(1_000_000, 0)
	sweep := func(parks int64, want bool) {
		t.Helper()
		now = now.Add(parkAfter / 2)
		if got := r.due(parks, now); got != want {
			t.Fatalf("%d parks at %s: due %v, want %v", parks, now.Format(time.TimeOnly), got, want)
		}
	}
	sweep(releaseAfter-1, false) // fewer than releaseAfter
	sweep(releaseAfter-1, false) // settled, still too few
	sweep(releaseAfter+5, false) // enough, still parking
	sweep(releaseAfter+5, true)  // settled
	sweep(releaseAfter+5, false) // released already
	sweep(2*releaseAfter+5, false)
	sweep(2*releaseAfter+5, false) // settled and enough, within releaseEvery of the last
	now = now.Add(releaseEvery)
	sweep(2*releaseAfter+5, true)
}
