package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestHeaderTimeout: a client that sends its request headers slower than
// timeouts.clientHeader (slowloris) is disconnected, while a body may take up to
// timeouts.clientRead.
func TestHeaderTimeout(t *testing.T) {
	started := make(chan struct{}, 1)
	back := uploadBackend(t, started)
	cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
	cfg.Timeouts.ClientHeader = 200 * time.Millisecond
	cfg.Timeouts.ClientRead = 30 * time.Second
	p := startProxy(t, cfg)
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		// Far beyond clientHeader, far below clientRead.
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		return conn
	}
	// An upload whose body is under way.
	upload := dial()
	io.WriteString(upload, "POST /upload HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
	<-started

	// A slowloris client: headers begun, never finished.
	slow := dial()
	io.WriteString(slow, "GET / HTTP/1.1\r\nHost: shop\r\nX-Slow: 1\r\n")
	start := time.Now()
	_, err := io.ReadAll(slow)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the proxy kept a connection with unfinished headers open for %s", time.Since(start))
	}

	// clientHeader has passed (the slow client is gone), yet the upload goes on.
	io.WriteString(upload, "6\r\nsecond\r\n0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(upload), nil)
	if err != nil {
		t.Fatalf("the upload was cut: %v", err)
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("upload answered %d, want 200", resp.StatusCode)
	}
}
