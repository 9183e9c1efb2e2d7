package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// tcpBackend accepts connections and hands each to serve, which reads requests as it
// likes and answers or not; the connection is closed when serve returns.
func tcpBackend(t *testing.T, serve func(net.Conn, *bufio.Reader)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// readHead reads a request's head, up to the empty line.
func readHead(r *bufio.Reader) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// TestAnUnreadBodyClosesTheClientConnection: a backend that answers early (413 after
// the head) or fails mid-upload leaves the rest of the client's body unread. That rest
// must never be read as the client's next request: behind a load balancer that sends
// many users' requests over one connection, a request hidden at the end of a body
// would be smuggled past it. The proxy answers and closes the connection.
func TestAnUnreadBodyClosesTheClientConnection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(net.Conn, *bufio.Reader)
		// want are the answers that may come: an early answer reaches the proxy
		// only if the backend's closing does not break the upload first.
		want []int
	}{
		{"the backend answers before reading the body", func(c net.Conn, r *bufio.Reader) {
			if readHead(r) == nil {
				io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
			}
		}, []int{http.StatusRequestEntityTooLarge, http.StatusBadGateway}},
		{"the backend fails mid-upload", func(c net.Conn, r *bufio.Reader) {
			if readHead(r) == nil {
				io.CopyN(io.Discard, r, 64<<10)
			}
		}, []int{http.StatusBadGateway}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back := tcpBackend(t, tc.serve)
			p := startProxy(t, testConfig([]string{back}, []string{back}))
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			// 4 MiB of body, then a whole request hidden at its end.
			smuggled := "GET /smuggled HTTP/1.1\r\nHost: shop\r\n\r\n"
			body := strings.Repeat("a", 4<<20) + smuggled
			go func() {
				fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}()
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("no answer to the upload: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if !slices.Contains(tc.want, resp.StatusCode) {
				t.Errorf("answered %d, want one of %v", resp.StatusCode, tc.want)
			}
			if !resp.Close {
				t.Error("the answer keeps the connection open with part of the body unread")
			}
			// Whatever the proxy sends after the answer is a reply to bytes of the body.
			if next, err := http.ReadResponse(r, nil); err == nil {
				t.Errorf("a second answer (%s) on the same connection: the rest of the body was read as a request", next.Status)
			}
		})
	}
}
