package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionCannotDropFraming: a Connection header naming Content-Length,
// Transfer-Encoding or Host does not remove the message's framing or its host: the
// body still reaches the backend whole.
func TestConnectionCannotDropFraming(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(l1), urls(l1)))
	for _, tc := range []struct {
		name, request string
		wantBody      int
	}{
		{"Content-Length", "POST /echo HTTP/1.1\r\nHost: shop\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello", 5},
		{"Transfer-Encoding", "POST /echo HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 5},
		{"Host", "POST /echo HTTP/1.1\r\nHost: shop\r\nConnection: Host, Content-Length\r\nContent-Length: 5\r\n\r\nhello", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := rawEcho(t, p, tc.request)
			if e.BodyLen != tc.wantBody || e.Host != "shop" {
				t.Errorf("backend got %d body bytes for Host %q, want %d for shop", e.BodyLen, e.Host, tc.wantBody)
			}
		})
	}
}

// TestContentLengthWithTransferEncodingIsRefused: a request with both framings (the
// stuff of request smuggling) gets 400 and its connection closed, as nginx does; the
// backend never sees it.
func TestContentLengthWithTransferEncodingIsRefused(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(l1), urls(l1)))
	for _, request := range []string{
		"POST / HTTP/1.1\r\nHost: shop\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, request+"GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !resp.Close {
			t.Errorf("answer %d (close %v), want 400 and the connection closed", resp.StatusCode, resp.Close)
		}
		if rest, _ := io.ReadAll(br); len(rest) != 0 {
			t.Errorf("the connection went on after the refusal: %q", rest)
		}
		conn.Close()
	}
	if n := l1.hits.Load(); n != 0 {
		t.Errorf("the backend served %d requests, want none", n)
	}
}

// rawBackend answers every request on a connection with response, as is.
func rawBackend(t *testing.T, response string) string {
	t.Helper()
	return tcpBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if _, err := io.WriteString(c, response); err != nil {
				return
			}
		}
	})
}

// TestResponseHeadersAsTheBackendSentThem: the proxy adds no Server, Date or
// Content-Type the backend did not send, and keeps the backend's Date.
func TestResponseHeadersAsTheBackendSentThem(t *testing.T) {
	for _, tc := range []struct {
		name, response string
		want           map[string]string
	}{
		{"bare", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			map[string]string{"Server": "", "Date": "", "Content-Type": ""}},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			map[string]string{"Server": "", "Date": "", "Content-Type": ""}},
		{"own headers", "HTTP/1.1 200 OK\r\nServer: Apache\r\nDate: Mon, 01 Jan 2001 00:00:00 GMT\r\nContent-Type: text/csv\r\nContent-Length: 5\r\n\r\nhello",
			map[string]string{"Server": "Apache", "Date": "Mon, 01 Jan 2001 00:00:00 GMT", "Content-Type": "text/csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back := rawBackend(t, tc.response)
			p := startProxy(t, testConfig([]string{back}, []string{back + "/"}))
			conn, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "hello" {
				t.Errorf("body %q", body)
			}
			for name, want := range tc.want {
				if got := strings.Join(resp.Header.Values(name), ", "); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}
