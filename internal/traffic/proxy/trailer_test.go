package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestTrailersPass: the trailer fields of a chunked body reach the other end, both
// ways: a backend's checksum after a streamed download, a client's after an upload.
func TestTrailersPass(t *testing.T) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Checksum")
		w.WriteHeader(http.StatusOK)
		// Flushed before the end: the body goes out chunked.
		io.WriteString(w, "got "+string(body)+" with "+r.Trailer.Get("X-Request-Sum"))
		w.(http.Flusher).Flush()
		w.Header().Set("X-Checksum", "sha256-abc")
	}))
	t.Cleanup(back.Close)
	p := startProxy(t, testConfig([]string{back.URL}, []string{back.URL + "/"}))

	for _, tc := range []struct {
		name, request, wantBody string
	}{
		{"response", "GET /report HTTP/1.1\r\nHost: shop\r\n\r\n", "got  with "},
		{"request and response", "POST /upload HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\nTrailer: X-Request-Sum\r\n\r\n" +
			"5\r\nhello\r\n0\r\nX-Request-Sum: 42\r\n\r\n", "got hello with 42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(conn, tc.request)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(body) != tc.wantBody {
				t.Errorf("body %q (%v), want %q", body, err, tc.wantBody)
			}
			if got := resp.Trailer.Get("X-Checksum"); got != "sha256-abc" {
				t.Errorf("trailer X-Checksum %q, want sha256-abc (trailers %v, header %v)", got, resp.Trailer, resp.Header)
			}
		})
	}
}
