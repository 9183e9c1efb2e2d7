package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// upgradingBackend switches protocols for every request with an Upgrade header and
// answers the others with 200; both say which X-Forwarded-For they saw.
func upgradingBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if up := r.Header.Get("Upgrade"); up != "" {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", up)
			rw.Flush()
			io.Copy(io.Discard, rw)
			return
		}
		w.Header().Set("X-Saw-For", r.Header.Get("X-Forwarded-For"))
		io.WriteString(w, "plain")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOnlyAllowedUpgradesAreTunnelled: an Upgrade is relayed as a tunnel only when
// every protocol it offers is in upgrade.protocols (WebSocket by default); any other,
// h2c included, goes to the backend as an ordinary request without its Upgrade
// header, with X-Forwarded-For and in the statistics.
func TestOnlyAllowedUpgradesAreTunnelled(t *testing.T) {
	back := upgradingBackend(t)
	for _, tc := range []struct {
		name      string
		protocols []string
		upgrade   string
		want      int
	}{
		{"websocket by default", nil, "websocket", http.StatusSwitchingProtocols},
		{"case-insensitive", nil, "WebSocket", http.StatusSwitchingProtocols},
		{"h2c refused", nil, "h2c", http.StatusOK},
		{"unknown protocol refused", nil, "ssh", http.StatusOK},
		{"one refused protocol among others", nil, "websocket, h2c", http.StatusOK},
		{"none allowed", []string{}, "websocket", http.StatusOK},
		{"listed protocol, version ignored", []string{"websocket", "TLS"}, "tls/1.3", http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
			cfg.Upgrade.Protocols = tc.protocols
			p := startProxy(t, cfg)
			conn, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "GET /app HTTP/1.1\r\nHost: shop\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: %s\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n", tc.upgrade)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("answer %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusOK {
				resp.Body.Close()
				if got := resp.Header.Get("X-Saw-For"); got != "127.0.0.1" {
					t.Errorf("the backend saw X-Forwarded-For %q, want 127.0.0.1", got)
				}
				if n := p.Stats(time.Hour).Legacy.Requests; n != 1 {
					t.Errorf("%d requests in the statistics, want 1", n)
				}
			}
		})
	}
}
