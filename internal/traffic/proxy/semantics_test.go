package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func getEcho(t *testing.T, p *Proxy, path string, header map[string]string) echo {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.Addr()+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("decode echo: %v", err)
	}
	return e
}

// TestForwardedHeaders: X-Forwarded-For/-Proto/-Host are set (or, with trustIncoming,
// extended), hop-by-hop headers and those named by Connection are dropped, end-to-end
// headers, the path and the query pass unchanged, and hostHeader replaces Host.
func TestForwardedHeaders(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	spoof := map[string]string{
		"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example",
		"Connection": "keep-alive, X-Secret", "X-Secret": "1", "Keep-Alive": "timeout=5",
		"Proxy-Authorization": "Basic eA==", "Te": "gzip", "X-End-To-End": "kept", "X-Ferry-Side": "legacy",
	}
	for _, tc := range []struct {
		name      string
		trust     bool
		wantFor   string
		wantProto string
		wantHost  string
	}{
		{"untrusted client", false, "127.0.0.1", "http", "127.0.0.1"},
		{"trusted load balancer", true, "203.0.113.9, 127.0.0.1", "https", "shop.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(urls(l1), urls(k1))
			cfg.Forwarded.TrustIncoming = tc.trust
			p := startProxy(t, cfg)
			e := getEcho(t, p, "/echo?q=a%2Fb&x=1", spoof)
			h := e.Header
			if got := h.Get("X-Forwarded-For"); got != tc.wantFor {
				t.Errorf("X-Forwarded-For %q, want %q", got, tc.wantFor)
			}
			if got := h.Get("X-Forwarded-Proto"); got != tc.wantProto {
				t.Errorf("X-Forwarded-Proto %q, want %q", got, tc.wantProto)
			}
			if got := h.Get("X-Forwarded-Host"); !strings.HasPrefix(got, tc.wantHost) {
				t.Errorf("X-Forwarded-Host %q, want %q", got, tc.wantHost)
			}
			for _, hop := range []string{"X-Secret", "Keep-Alive", "Proxy-Authorization", "Te"} {
				if v := h.Get(hop); v != "" {
					t.Errorf("hop-by-hop header %s reached the backend: %q", hop, v)
				}
			}
			if h.Get("X-End-To-End") != "kept" {
				t.Errorf("end-to-end header lost: %v", h)
			}
			if e.URI != "/echo?q=a%2Fb&x=1" {
				t.Errorf("backend saw URI %q", e.URI)
			}
		})
	}
	t.Run("host header of the pool", func(t *testing.T) {
		cfg := testConfig(urls(l1), urls(k1))
		cfg.Backends.Kubernetes.HostHeader = "shop.internal"
		cfg.Force.Enabled = true
		p := startProxy(t, cfg)
		if e := getEcho(t, p, "/echo", map[string]string{"X-Ferry-Side": "kubernetes"}); e.Host != "shop.internal" || e.Backend != "k8s-1" {
			t.Errorf("kubernetes saw Host %q (backend %s), want shop.internal", e.Host, e.Backend)
		}
		if e := getEcho(t, p, "/echo", map[string]string{"X-Ferry-Side": "legacy"}); e.Host != p.Addr() {
			t.Errorf("legacy saw Host %q, want the client's %q", e.Host, p.Addr())
		}
	})
}

// TestResponsePassThrough: statuses, headers and bodies come back as the backend sent
// them, hop-by-hop response headers are dropped, and a backend's Connection: close
// does not close the client's connection.
func TestResponsePassThrough(t *testing.T) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", "shop")
		w.Header().Set("Keep-Alive", "timeout=1")
		w.Header().Set("Connection", "close, X-Private")
		w.Header().Set("X-Private", "secret")
		http.SetCookie(w, &http.Cookie{Name: "_shop_session", Value: "abc"})
		switch r.URL.Path {
		case "/created":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "made")
		case "/missing":
			http.NotFound(w, r)
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			io.WriteString(w, strings.Repeat("x", 100_000))
		}
	}))
	t.Cleanup(back.Close)
	cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
	cfg.Sticky.Disabled = true
	p := startProxy(t, cfg)
	c := newClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct {
		path    string
		status  int
		bodyLen int
	}{{"/created", 201, 4}, {"/missing", 404, 19}, {"/redirect", 302, -1}, {"/big", 200, 100_000}} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Get("http://" + p.Addr() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || (tc.bodyLen >= 0 && len(body) != tc.bodyLen) {
				t.Errorf("status %d body %d bytes, want %d and %d", resp.StatusCode, len(body), tc.status, tc.bodyLen)
			}
			if resp.Header.Get("X-App") != "shop" || len(resp.Cookies()) != 1 || resp.Cookies()[0].Name != "_shop_session" {
				t.Errorf("end-to-end headers lost: %v", resp.Header)
			}
			if resp.Header.Get("Keep-Alive") != "" || resp.Header.Get("X-Private") != "" || resp.Close {
				t.Errorf("hop-by-hop response headers passed or connection closed: %v (close %v)", resp.Header, resp.Close)
			}
		})
	}
}

// TestStreamingResponse: a chunked response is passed on chunk by chunk: the client
// reads the first event before the backend writes the second.
func TestStreamingResponse(t *testing.T) {
	second := make(chan struct{})
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-second:
		case <-time.After(5 * time.Second):
			return
		}
		fmt.Fprint(w, "data: two\n\n")
	}))
	t.Cleanup(back.Close)
	p := startProxy(t, testConfig([]string{back.URL}, []string{back.URL + "/"}))
	resp, err := newClient().Get("http://" + p.Addr() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q, %v", line, err)
	}
	close(second)
	rest, _ := io.ReadAll(r)
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest of the stream %q", rest)
	}
}

// TestLargeUploadStreams: a 5 MiB POST body reaches the backend intact.
func TestLargeUploadStreams(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(l1), urls(l1)[:1]))
	body := bytes.Repeat([]byte("ferry"), 1<<20)
	resp, err := newClient().Post("http://"+p.Addr()+"/echo", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Method != "POST" || e.BodyLen != len(body) {
		t.Errorf("backend got %s with %d bytes, want POST with %d", e.Method, e.BodyLen, len(body))
	}
}

// TestWebSocketUpgrade: an Upgrade handshake is relayed, the 101 comes back, and bytes
// then flow both ways over the same connection.
func TestWebSocketUpgrade(t *testing.T) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
			http.Error(w, "not an upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Saw-For: %s\r\n\r\n", r.Header.Get("X-Forwarded-For"))
		rw.Flush()
		// Echo lines back in upper case until the client closes.
		for {
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			rw.WriteString(strings.ToUpper(line))
			rw.Flush()
		}
	}))
	t.Cleanup(back.Close)
	p := startProxy(t, testConfig([]string{back.URL}, []string{back.URL + "/"}))
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /cable HTTP/1.1\r\nHost: shop\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("X-Saw-For") != "127.0.0.1" {
		t.Fatalf("handshake answer %d %v", resp.StatusCode, resp.Header)
	}
	for _, msg := range []string{"hello\n", "second message\n"} {
		fmt.Fprint(conn, msg)
		got, err := br.ReadString('\n')
		if err != nil || got != strings.ToUpper(msg) {
			t.Fatalf("echo %q, %v; want %q", got, err, strings.ToUpper(msg))
		}
	}
	// A refused upgrade comes back as an ordinary response.
	defer func() {
		// Close ends open tunnels rather than waiting for them.
		start := time.Now()
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
		if _, err := br.ReadString('\n'); err == nil || time.Since(start) > 3*time.Second {
			t.Errorf("tunnel still open %s after Close (read error %v)", time.Since(start), err)
		}
	}()
	resp2, err := newClient().Get("http://" + p.Addr() + "/cable")
	if err != nil {
		t.Fatal(err)
	}
	drain(resp2)
	if resp2.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET got %d, want the backend's 400", resp2.StatusCode)
	}
}

// TestHeadRequest: HEAD gets the headers and no body.
func TestHeadRequest(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(l1), urls(l1)))
	resp, err := newClient().Head("http://" + p.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("X-Backend") != "legacy-1" {
		t.Errorf("HEAD: %d, %d body bytes, headers %v", resp.StatusCode, len(body), resp.Header)
	}
}

// TestLargeDownloadStreams: a response with a Content-Length above the buffered size
// reaches the client before the backend has finished writing it.
func TestLargeDownloadStreams(t *testing.T) {
	const half = 1 << 20
	rest := make(chan struct{})
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(2*half))
		w.Write(bytes.Repeat([]byte("a"), half))
		w.(http.Flusher).Flush()
		select {
		case <-rest:
		case <-time.After(5 * time.Second):
			return
		}
		w.Write(bytes.Repeat([]byte("b"), half))
	}))
	t.Cleanup(back.Close)
	p := startProxy(t, testConfig([]string{back.URL}, []string{back.URL + "/"}))
	resp, err := newClient().Get("http://" + p.Addr() + "/download")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, half)
	if _, err := io.ReadFull(resp.Body, first); err != nil || first[half-1] != 'a' {
		t.Fatalf("first half: %v", err)
	}
	close(rest)
	second, err := io.ReadAll(resp.Body)
	if err != nil || len(second) != half || second[0] != 'b' || resp.ContentLength != 2*half {
		t.Errorf("second half: %d bytes, %v, content length %d", len(second), err, resp.ContentLength)
	}
}

// TestMultipartUploadPassesUnchanged: a multipart/form-data body reaches the backend
// byte for byte (the proxy must not parse and re-encode forms).
func TestMultipartUploadPassesUnchanged(t *testing.T) {
	got := make(chan []byte, 1)
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	t.Cleanup(back.Close)
	p := startProxy(t, testConfig([]string{back.URL}, []string{back.URL + "/"}))
	body := "--XYZ\r\nContent-Disposition: form-data; name=\"comment\"\r\nX-Part: kept\r\n\r\nhello\r\n--XYZ--\r\n"
	resp, err := newClient().Post("http://"+p.Addr()+"/upload", "multipart/form-data; boundary=XYZ", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if b := <-got; string(b) != body {
		t.Errorf("the backend got %d bytes that differ from the %d sent", len(b), len(body))
	}
}

// rawEcho sends a raw request to the proxy and decodes the backend's /echo answer.
func rawEcho(t *testing.T, p *Proxy, request string) echo {
	t.Helper()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("status %d, decode echo: %v", resp.StatusCode, err)
	}
	return e
}

// TestForwardedHeadersEveryCopy: a client that sends X-Forwarded-For, -Proto and -Host
// twice gets every copy replaced (untrusted) or the copies merged into one value
// (trusted: For joined in order, the first Proto and Host kept).
func TestForwardedHeadersEveryCopy(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	request := "GET /echo HTTP/1.1\r\nHost: shop\r\n" +
		"X-Forwarded-For: 203.0.113.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n" +
		"X-Forwarded-For: 203.0.113.2\r\nX-Forwarded-Proto: gopher\r\nX-Forwarded-Host: worse.example\r\n\r\n"
	for _, tc := range []struct {
		name               string
		trust              bool
		wantFor, wantProto []string
		wantHost           []string
	}{
		{"untrusted", false, []string{"127.0.0.1"}, []string{"http"}, []string{"shop"}},
		{"trusted", true, []string{"203.0.113.1, 203.0.113.2, 127.0.0.1"}, []string{"https"}, []string{"evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(urls(l1), urls(l1))
			cfg.Forwarded.TrustIncoming = tc.trust
			p := startProxy(t, cfg)
			h := rawEcho(t, p, request).Header
			for _, c := range []struct {
				name string
				want []string
			}{{"X-Forwarded-For", tc.wantFor}, {"X-Forwarded-Proto", tc.wantProto}, {"X-Forwarded-Host", tc.wantHost}} {
				if got := h.Values(c.name); strings.Join(got, "|") != strings.Join(c.want, "|") {
					t.Errorf("%s: backend saw %q, want %q", c.name, got, c.want)
				}
			}
		})
	}
}
