package proxy

import (
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPSBackends: servers given as https:// URLs are reached over TLS, their
// certificates checked against caFile, by requests and health checks alike.
func TestHTTPSBackends(t *testing.T) {
	var probes atomic.Int64
	back := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			probes.Add(1)
		}
		if r.TLS == nil {
			http.Error(w, "not over TLS", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "secure "+r.URL.Path)
	}))
	// The untrusted case's failed handshakes are expected.
	back.Config.ErrorLog = log.New(io.Discard, "", 0)
	back.StartTLS()
	t.Cleanup(back.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: back.Certificate().Raw})
	if err := os.WriteFile(caFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
	for _, pl := range []*PoolConfig{&cfg.Backends.Legacy, &cfg.Backends.Kubernetes} {
		pl.CAFile = caFile
		// A TLS handshake on a busy machine may take more than a moment: the server
		// is found down on the certificate (every check fails), not on a late answer.
		pl.HealthCheck = HealthCheckConfig{Path: "/healthz", Interval: 500 * time.Millisecond, Timeout: 500 * time.Millisecond, UnhealthyAfter: 2}
	}
	p := startProxy(t, cfg)
	status, _, body := get(t, newClient(), p, "/cart")
	if status != http.StatusOK || body != "secure /cart" {
		t.Errorf("answer %d %q, want 200 %q", status, body, "secure /cart")
	}
	// Each server's second check starts after its first one's verdict was applied.
	waitFor(t, func() bool { return probes.Load() >= 4 }, "two health checks of each server")
	for _, b := range p.Backends() {
		if !b.Healthy {
			t.Errorf("%s %s failed its health check over TLS", b.Side, b.URL)
		}
	}

	t.Run("untrusted certificate", func(t *testing.T) {
		cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
		p := startProxy(t, cfg)
		if status, _, _ := get(t, newClient(), p, "/cart"); status != http.StatusBadGateway {
			t.Errorf("status %d for a server whose certificate is not trusted, want 502", status)
		}
	})
	t.Run("caFile without a certificate", func(t *testing.T) {
		cfg := testConfig([]string{back.URL}, []string{back.URL + "/"})
		cfg.Backends.Kubernetes.CAFile = filepath.Join(t.TempDir(), "empty.pem")
		os.WriteFile(cfg.Backends.Kubernetes.CAFile, []byte("not a certificate\n"), 0o600)
		_, err := New(cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "backends.kubernetes.caFile") {
			t.Errorf("error %v, want an invalid config naming backends.kubernetes.caFile", err)
		}
	})
}
