package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWhatEachRequestCarriesAndWhatItAccepts sends a run to servers that answer the
// way legacy apps do (a 16 KB Set-Cookie header, a page bigger than the buffered
// size, a HEAD without a body) and checks both what arrived (the run's headers, a
// Host override, a browser's Accept-Encoding, the path exactly as written) and that
// every answer counted as a success.
func TestWhatEachRequestCarriesAndWhatItAccepts(t *testing.T) {
	cookie := "session=" + strings.Repeat("a", 16<<10)
	page := strings.Repeat("p", 3*bufferedBody)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen["host "+r.Host]++
		seen["uri "+r.RequestURI]++
		seen["team "+r.Header.Get("X-Team")]++
		seen["encoding "+r.Header.Get("Accept-Encoding")]++
		seen["agent "+r.Header.Get("User-Agent")]++
		seen["method "+r.Method]++
		mu.Unlock()
		w.Header().Set("Set-Cookie", cookie)
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	paths := []string{"/big", "/a/../b", "/q?x=1&y=%2F"}
	r, err := Run(context.Background(), Config{
		Legacy: srv.URL, Kubernetes: srv.URL + "/", Rate: 200, Duration: time.Second, Paths: paths,
		Header: http.Header{"Host": {"shop.example.com"}, "X-Team": {"payments"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sides {
		if s.Stats.Count < 150 || s.Stats.Errors != 0 || s.Codes["200"] != s.Stats.Count {
			t.Errorf("%s: %d requests, %d errors, codes %v; want about 200, all 200", s.Name, s.Stats.Count, s.Stats.Errors, s.Codes)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	total := int(r.Sides[0].Stats.Count + r.Sides[1].Stats.Count)
	for _, want := range []string{"host shop.example.com", "team payments", "encoding gzip", "agent " + userAgent, "method GET"} {
		if seen[want] != total {
			t.Errorf("%q on %d of %d requests; seen %v", want, seen[want], total, keys(seen))
		}
	}
	for _, p := range paths {
		if seen["uri "+p] == 0 {
			t.Errorf("path %q never arrived as written; seen %v", p, keys(seen))
		}
	}
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAClosedConnectionIsRetriedOnceATimeoutNever: a server that closes every
// connection after one answer, without saying so, makes each kept-alive reuse fail;
// those requests are sent again on a new connection and all succeed. A server that
// never answers gets each request once: a timeout is the side's answer. The first
// run's timeout is long, so that only a stale connection can fail a request there,
// however slowly a busy machine runs the test.
func TestAClosedConnectionIsRetriedOnceATimeoutNever(t *testing.T) {
	closing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_ = buf.Flush()
	}))
	t.Cleanup(closing.Close)
	r, err := Run(context.Background(), Config{Legacy: closing.URL, Kubernetes: closing.URL, Rate: 50, Duration: time.Second,
		Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range r.Sides {
		if side.Stats.Count < 40 || side.Stats.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (codes %v); want about 50, none failed", side.Name, side.Stats.Count, side.Stats.Errors, side.Codes)
		}
	}

	var hung atomic.Int64
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		<-r.Context().Done() // the client gave up
	}))
	t.Cleanup(hanging.Close)
	r, err = Run(context.Background(), Config{Legacy: hanging.URL, Kubernetes: hanging.URL, Rate: 25, Duration: time.Second,
		Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	legacy, kube := r.Sides[0], r.Sides[1]
	if sent := legacy.Stats.Count + kube.Stats.Count; legacy.Stats.Errors+kube.Stats.Errors != sent || hung.Load() != sent {
		t.Errorf("%d requests, %d failed, %d arrived; want each to arrive once and fail", sent, legacy.Stats.Errors+kube.Stats.Errors, hung.Load())
	}
}
