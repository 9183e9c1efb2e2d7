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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uploadBackend reads request bodies and reports on started when it has received the
// first bytes of one, so that a test can break the upload while it is under way.
func uploadBackend(t *testing.T, started chan<- struct{}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var first [1]byte
		if _, err := io.ReadFull(r.Body, first[:]); err == nil {
			started <- struct{}{}
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		io.WriteString(w, "stored")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClientFailuresAreNotBackendFailures: a client that aborts its upload or sends a
// malformed chunked body five times in a row (the ejection threshold) does not get the
// backend ejected and does not add to the statistics the migration gates read; each
// is counted as a client failure and logged as 499 (aborted) or 400 (malformed).
func TestClientFailuresAreNotBackendFailures(t *testing.T) {
	started := make(chan struct{}, 1)
	back := uploadBackend(t, started)
	logPath := filepath.Join(t.TempDir(), "access.log")
	cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
	cfg.AccessLog.Path = logPath
	p := startProxy(t, cfg)
	const tries = DefaultEjectAfter

	for _, tc := range []struct {
		name       string
		head       string
		firstPart  string
		then       func(net.Conn)
		wantStatus int // what the client reads, 0 for nothing
	}{
		{
			name:      "aborted upload",
			head:      "POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Length: 100000\r\n\r\n",
			firstPart: strings.Repeat("a", 20000),
			then:      func(c net.Conn) { c.Close() },
			// The client is gone: nothing to read.
		},
		{
			name:       "malformed chunked body",
			head:       "POST /upload HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n",
			firstPart:  "a\r\n0123456789\r\n",
			then:       func(c net.Conn) { io.WriteString(c, "zz\r\n") },
			wantStatus: http.StatusBadRequest,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < tries; i++ {
				conn, err := net.Dial("tcp", p.Addr())
				if err != nil {
					t.Fatal(err)
				}
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(conn, tc.head+tc.firstPart)
				select {
				case <-started:
				case <-time.After(10 * time.Second):
					t.Fatalf("try %d: the backend never received the start of the body", i)
				}
				tc.then(conn)
				if tc.wantStatus != 0 {
					resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
					if err != nil {
						t.Fatalf("try %d: no answer: %v", i, err)
					}
					resp.Body.Close()
					if resp.StatusCode != tc.wantStatus || !resp.Close {
						t.Errorf("try %d: answer %d (close %v), want %d and the connection closed", i, resp.StatusCode, resp.Close, tc.wantStatus)
					}
				}
				conn.Close()
			}
		})
	}
	handled := func() int64 {
		s := p.Stats(time.Hour).Legacy
		return s.Requests + s.ClientFailures
	}
	waitFor(t, func() bool { return handled() == 2*tries }, "the proxy to finish every broken request")
	snap := p.Stats(time.Hour)
	if l := snap.Legacy; l.Requests != 0 || l.Status.ServerError != 0 || l.Errors != 0 || l.ClientFailures != 2*tries {
		t.Errorf("legacy stats: %d requests, %d 5xx, %d errors, %d client failures; want 0, 0, 0 and %d",
			l.Requests, l.Status.ServerError, l.Errors, l.ClientFailures, 2*tries)
	}
	for _, b := range p.Backends() {
		if !b.Available {
			t.Errorf("%s %s was ejected for the client's failures", b.Side, b.URL)
		}
	}
	// The backend still serves, and the gates see that request.
	resp, err := newClient().Post("http://"+p.Addr()+"/upload", "text/plain", bytes.NewReader([]byte("order")))
	if err != nil {
		t.Fatal(err)
	}
	<-started
	drain(resp)
	if resp.StatusCode != http.StatusOK || p.Stats(time.Hour).Legacy.Requests != 1 {
		t.Errorf("a good upload after the broken ones: %d, %d requests counted", resp.StatusCode, p.Stats(time.Hour).Legacy.Requests)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	logged := map[float64]int{}
	for _, line := range readAccessLog(t, logPath) {
		logged[line["status"].(float64)]++
	}
	if logged[499] != tries || logged[400] != tries || logged[200] != 1 || len(logged) != 3 {
		t.Errorf("access log statuses %v, want %d × 499, %d × 400 and one 200", logged, tries, tries)
	}
}

func readAccessLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(fmt.Errorf("access log line %q: %w", l, err))
		}
		lines = append(lines, m)
	}
	return lines
}
