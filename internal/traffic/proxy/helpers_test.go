package proxy

import (
	"net"

	"context"
	"encoding/json"
	"github.com/valyala/fasthttp"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// backend is a real HTTP server on loopback standing for one legacy VM or the
// Kubernetes ingress. It answers with its name and counts what it served.
type backend struct {
	name    string
	srv     *httptest.Server
	hits    atomic.Int64
	healthy atomic.Bool
	status  atomic.Int32 // answer with this status when non-zero
}

func startBackend(tb testing.TB, name string) *backend {
	tb.Helper()
	b := &backend{name: name}
	b.healthy.Store(true)
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	tb.Cleanup(b.srv.Close)
	return b
}

func (b *backend) URL() string { return b.srv.URL }

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		if !b.healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}
	b.hits.Add(1)
	w.Header().Set("X-Backend", b.name)
	if code := b.status.Load(); code != 0 {
		w.WriteHeader(int(code))
		return
	}
	switch r.URL.Path {
	case "/echo":
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Backend: b.name, Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header, BodyLen: len(body)})
	case "/slow":
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		io.WriteString(w, b.name)
	default:
		io.WriteString(w, b.name)
	}
}

// echo is what /echo answers: the request as the backend saw it.
type echo struct {
	Backend string      `json:"backend"`
	Method  string      `json:"method"`
	URI     string      `json:"uri"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
	BodyLen int         `json:"bodyLen"`
}

// testConfig returns a config on free loopback ports with the given servers.
func testConfig(legacy, kubernetes []string) Config {
	return Config{
		Listen:   "127.0.0.1:0",
		Admin:    AdminConfig{Listen: "127.0.0.1:0", Token: "test-token"},
		Backends: BackendsConfig{Legacy: PoolConfig{Servers: legacy}, Kubernetes: PoolConfig{Servers: kubernetes}},
		Timeouts: TimeoutsConfig{Shutdown: 10 * time.Second},
	}
}

func urls(bs ...*backend) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.URL())
	}
	return out
}

// startProxy opens a proxy for cfg and closes it when the test ends.
func startProxy(tb testing.TB, cfg Config) *Proxy {
	tb.Helper()
	p, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil && err != ErrNotOpen {
			tb.Errorf("close: %v", err)
		}
	})
	return p
}

// newClient returns an HTTP client that keeps enough connections to the proxy and
// does not follow redirects or keep cookies unless a jar is set.
func newClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second},
		Timeout:   10 * time.Second,
	}
}

// get sends GET path to the proxy and returns status, X-Backend and body.
func get(tb testing.TB, c *http.Client, p *Proxy, path string, header ...string) (int, string, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.Addr()+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Backend"), string(body)
}

func admin(p *Proxy) *AdminClient {
	return &AdminClient{BaseURL: "http://" + p.AdminAddr(), Token: p.rt.Load().token}
}

func sideOf(name string) traffic.Side {
	if strings.HasPrefix(name, "k8s") {
		return traffic.Kubernetes
	}
	return traffic.Legacy
}

func mustWeights(tb testing.TB, p *Proxy, k8sBP int) {
	tb.Helper()
	if err := p.SetWeights(context.Background(), traffic.KubernetesShare(k8sBP)); err != nil {
		tb.Fatal(err)
	}
}

// drain reads and closes a response body so its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// startFastBackend is a lean real HTTP server on loopback for the load tests, where a
// heavier server would dominate the run time under the race detector. It answers every
// request with its name in X-Backend and the body.
func startFastBackend(tb testing.TB, name string) *backend {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &backend{name: name}
	b.healthy.Store(true)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		b.hits.Add(1)
		ctx.Response.Header.Set("X-Backend", name)
		ctx.SetBodyString(name)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.srv = &httptest.Server{URL: "http://" + ln.Addr().String()}
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return b
}
