package loadtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// latencyServer is a real HTTP server on 127.0.0.1 whose latency follows a known
// distribution: the k-th request it receives takes base + (k mod 100) × step, so
// every 100 requests cover the range evenly and its percentiles are known.
type latencyServer struct {
	*httptest.Server
	base, step time.Duration
	n          atomic.Int64
	mu         sync.Mutex
	paths      map[string]int
	methods    map[string]int
}

func newLatencyServer(tb testing.TB, base, step time.Duration) *latencyServer {
	tb.Helper()
	s := &latencyServer{base: base, step: step, paths: map[string]int{}, methods: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Server = &httptest.Server{Listener: l, Config: &http.Server{Handler: s}}
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

func (s *latencyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k := s.n.Add(1) - 1
	s.mu.Lock()
	s.paths[r.URL.RequestURI()]++
	s.methods[r.Method]++
	s.mu.Unlock()
	select {
	case <-time.After(s.base + time.Duration(k%100)*s.step):
	case <-r.Context().Done():
		return
	}
	if r.URL.Path == "/fail" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write([]byte("ok"))
}

// percentile is the latency the server's distribution has at p (0–100): the value
// below which p % of its latencies fall.
func (s *latencyServer) percentile(p float64) time.Duration {
	k := int(p) - 1
	if p <= 1 {
		k = 0
	}
	return s.base + time.Duration(k)*s.step
}

func (s *latencyServer) requests() int64 { return s.n.Load() }

func (s *latencyServer) snapshot() (map[string]int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, m := map[string]int{}, map[string]int{}
	for k, v := range s.paths {
		p[k] = v
	}
	for k, v := range s.methods {
		m[k] = v
	}
	return p, m
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
