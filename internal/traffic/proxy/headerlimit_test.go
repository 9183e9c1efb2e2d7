package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rawRoundTrip sends request on a new connection to the proxy and reads the answer.
func rawRoundTrip(t *testing.T, p *Proxy, request string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, request)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestLargeRequestHeaders: a request whose line and headers (a legacy app's cookies)
// stay within limits.maxRequestHeader, 32 KiB by default, passes whole; a larger one
// gets 431 and its connection closed, never reaches a backend, and is the client's
// failure: logged as such, not in the statistics the gates read.
func TestLargeRequestHeaders(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	logPath := filepath.Join(t.TempDir(), "access.log")
	cfg := testConfig(urls(l1), urls(l1))
	cfg.AccessLog.Path = logPath
	p := startProxy(t, cfg)
	head := "GET /echo HTTP/1.1\r\nHost: shop\r\nCookie: PHPSESSID=%s\r\n\r\n"
	for _, tc := range []struct {
		name       string
		headSize   int
		wantStatus int
	}{
		{"just under", DefaultMaxRequestHeader - 64, http.StatusOK},
		{"over", DefaultMaxRequestHeader + 1, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value := strings.Repeat("c", tc.headSize-len(fmt.Sprintf(head, "")))
			request := fmt.Sprintf(head, value)
			if len(request) != tc.headSize {
				t.Fatalf("request head of %d bytes, want %d", len(request), tc.headSize)
			}
			resp, body := rawRoundTrip(t, p, request)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK && !strings.Contains(body, value) {
				t.Errorf("the backend did not get the whole cookie")
			}
			if tc.wantStatus != http.StatusOK && !resp.Close {
				t.Errorf("the connection stays open after a refused request")
			}
		})
	}
	if n := l1.hits.Load(); n != 1 {
		t.Errorf("the backend served %d requests, want 1", n)
	}
	if s := p.Stats(time.Hour).Legacy; s.Requests != 1 || s.Errors != 0 || s.Status.ServerError != 0 {
		t.Errorf("legacy stats: %d requests, %d errors, %d 5xx; want 1, 0, 0", s.Requests, s.Errors, s.Status.ServerError)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var refused map[string]any
	for _, line := range readAccessLog(t, logPath) {
		if line["status"] == float64(http.StatusRequestHeaderFieldsTooLarge) {
			refused = line
		}
	}
	if refused == nil || refused["client_failure"] != "header_too_large" {
		t.Errorf("access log line of the refused request %v, want status 431 and client_failure header_too_large", refused)
	}
}

// TestLargeResponseHeaders: a backend's response headers (a PHP app's Set-Cookie
// lines) within limits.maxResponseHeader, 64 KiB by default, reach the client; larger
// ones are the backend's failure: 502, counted against it, with the reason in the
// access log.
func TestLargeResponseHeaders(t *testing.T) {
	for _, tc := range []struct {
		name       string
		headSize   int
		wantStatus int
	}{
		{"16 KiB", 16 << 10, http.StatusOK},
		{"just under", DefaultMaxResponseHeader - 64, http.StatusOK},
		{"over", DefaultMaxResponseHeader + 1, http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := "HTTP/1.1 200 OK\r\nSet-Cookie: cart=%s\r\nContent-Length: 5\r\n\r\n"
			value := strings.Repeat("k", tc.headSize-len(fmt.Sprintf(head, "")))
			back := rawBackend(t, fmt.Sprintf(head, value)+"hello")
			logPath := filepath.Join(t.TempDir(), "access.log")
			cfg := testConfig([]string{back}, []string{back + "/"})
			cfg.AccessLog.Path = logPath
			p := startProxy(t, cfg)
			resp, body := rawRoundTrip(t, p, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			s := p.Stats(time.Hour).Legacy
			if err := p.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines := readAccessLog(t, logPath)
			if tc.wantStatus == http.StatusOK {
				if body != "hello" || !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), "cart="+value) {
					t.Errorf("body %q; the client did not get the whole Set-Cookie", body)
				}
				return
			}
			if s.Errors != 1 || s.ClientFailures != 0 {
				t.Errorf("legacy stats: %d errors, %d client failures; want the backend's failure", s.Errors, s.ClientFailures)
			}
			if len(lines) != 1 || !strings.Contains(fmt.Sprint(lines[0]["error"]), "limits.maxResponseHeader") {
				t.Errorf("access log %v, want one line whose error names limits.maxResponseHeader", lines)
			}
		})
	}
}
