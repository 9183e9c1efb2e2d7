package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingBackend reads request bodies, closes overLimit once it has received more
// than limit bytes of one, and counts the bodies it read to their end.
type countingBackend struct {
	url       string
	limit     int
	overLimit chan struct{}
	once      sync.Once
	complete  atomic.Int64
	mostBytes atomic.Int64
}

func startCountingBackend(t *testing.T, limit int) *countingBackend {
	t.Helper()
	b := &countingBackend{limit: limit, overLimit: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 4096)
		n := 0
		for {
			m, err := r.Body.Read(buf)
			n += m
			if n > int(b.mostBytes.Load()) {
				b.mostBytes.Store(int64(n))
			}
			if n > b.limit {
				b.once.Do(func() { close(b.overLimit) })
			}
			if err == io.EOF {
				b.complete.Add(1)
				io.WriteString(w, "stored")
				return
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// chunked renders n bytes of body as chunks of at most 4 KiB, without the last chunk.
func chunked(n int) string {
	var sb strings.Builder
	for n > 0 {
		c := min(n, 4096)
		fmt.Fprintf(&sb, "%x\r\n%s\r\n", c, strings.Repeat("u", c))
		n -= c
	}
	return sb.String()
}

// TestChunkedBodyIsBounded: a chunked upload is held to limits.maxRequestBody like one
// with a Content-Length. One of exactly the limit passes; one byte more gets 413 as soon
// as the proxy has read it, and the backend never gets that body whole (not even the
// limit's worth plus the last chunk).
func TestChunkedBodyIsBounded(t *testing.T) {
	const limit = 64 << 10
	for _, tc := range []struct {
		name       string
		size       int
		last       string // the last chunk, if the client sends it at once
		wantStatus int
	}{
		{"at the limit", limit, "0\r\n\r\n", http.StatusOK},
		// The client sends no last chunk: the proxy must refuse before the body ends.
		{"over the limit", limit + 1, "", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back := startCountingBackend(t, limit)
			cfg := testConfig([]string{back.url}, []string{back.url + "/"})
			cfg.Limits.MaxRequestBody = limit
			p := startProxy(t, cfg)
			conn, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n"+chunked(tc.size)+tc.last)
			type answer struct {
				resp *http.Response
				err  error
			}
			answered := make(chan answer, 1)
			go func() {
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err == nil {
					resp.Body.Close()
				}
				answered <- answer{resp, err}
			}()
			select {
			case a := <-answered:
				if a.err != nil {
					t.Fatalf("no answer: %v", a.err)
				}
				if a.resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d, want %d", a.resp.StatusCode, tc.wantStatus)
				}
				if tc.wantStatus != http.StatusOK && !a.resp.Close {
					t.Error("the connection stays open after a refused body")
				}
			case <-back.overLimit:
				t.Fatalf("the backend received more than %d bytes of the body", limit)
			}
			wantComplete := int64(0)
			if tc.wantStatus == http.StatusOK {
				wantComplete = 1
			}
			if n := back.complete.Load(); n != wantComplete {
				t.Errorf("the backend read %d bodies to their end, want %d", n, wantComplete)
			}
			if n := back.mostBytes.Load(); n > limit {
				t.Errorf("the backend received %d bytes, more than the limit", n)
			}
		})
	}
}
