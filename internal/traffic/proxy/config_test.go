package proxy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

func TestParseConfigFull(t *testing.T) {
	c := loadFixture(t, "full.yaml")
	w, err := c.Weights.resolve()
	if err != nil || w != (traffic.Weights{Legacy: 8750, Kubernetes: 1250}) {
		t.Errorf("weights %+v, %v; want 87.5/12.5", w, err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"admin token", c.Admin.Token, "s3cret-token"},
		{"sticky cookie", c.Sticky.Cookie, "shop_side"},
		{"sticky ttl", c.Sticky.TTL, 2 * time.Hour},
		{"on zero weight", c.Sticky.OnZeroWeight, OnZeroWeightKeep},
		{"force header", c.Force.Header, "X-Shop-Side"},
		{"force enabled", c.Force.Enabled, true},
		{"force secret", c.Force.Secret, "tester-0123456789abcdef"},
		{"force networks", len(c.Force.Networks), 2},
		{"legacy servers", len(c.Backends.Legacy.Servers), 3},
		{"health interval", c.Backends.Legacy.HealthCheck.Interval, 2 * time.Second},
		{"ejection", c.Backends.Legacy.Ejection.ConsecutiveFailures, 3},
		{"host header", c.Backends.Kubernetes.HostHeader, "shop.internal"},
		{"kubernetes keeps default ejection", c.Backends.Kubernetes.Ejection.Duration, DefaultEjectFor},
		{"connect timeout", c.Timeouts.Connect, time.Second},
		{"max body", c.Limits.MaxRequestBody, 1 << 20},
		{"max request header", c.Limits.MaxRequestHeader, 16 << 10},
		{"max response header", c.Limits.MaxResponseHeader, 128 << 10},
		{"header timeout", c.Timeouts.ClientHeader, 5 * time.Second},
		{"retries", c.Retries.Attempts, 3},
		{"retry on timeout", c.Retries.OnTimeout, true},
		{"trust forwarded", c.Forwarded.TrustIncoming, true},
		{"stats bucket", c.Stats.Bucket, 5 * time.Second},
		{"stats max routes", c.Stats.MaxRoutes, 50},
		{"upgrades", strings.Join(c.Upgrade.Protocols, ","), "websocket,tls"},
		{"access log", c.AccessLog.Path, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c := loadFixture(t, "minimal.yaml")
	w, _ := c.Weights.resolve()
	if w != traffic.KubernetesShare(1) {
		t.Errorf("weights %+v, want 0.01%% kubernetes", w)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"sticky cookie", c.Sticky.Cookie, DefaultStickyCookie},
		{"on zero weight", c.Sticky.OnZeroWeight, OnZeroWeightMove},
		{"force header", c.Force.Header, DefaultForceHeader},
		{"forcing off", c.Force.Enabled, false},
		{"websocket upgrades", strings.Join(c.Upgrade.Protocols, ","), "websocket"},
		{"response timeout", c.Timeouts.Response, DefaultResponseTimeout},
		{"header timeout", c.Timeouts.ClientHeader, DefaultClientHeader},
		{"max conns per server", c.Backends.Legacy.MaxConnsPerServer, DefaultMaxConnsPerServer},
		{"no active health check", c.Backends.Legacy.HealthCheck.Path, ""},
		{"retries", c.Retries.Attempts, DefaultRetryAttempts},
		{"no retry on timeout", c.Retries.OnTimeout, false},
		{"max request header", c.Limits.MaxRequestHeader, DefaultMaxRequestHeader},
		{"max response header", c.Limits.MaxResponseHeader, DefaultMaxResponseHeader},
		{"stats retention", c.Stats.Retention, DefaultStatsRetention},
		{"stats max routes", c.Stats.MaxRoutes, DefaultMaxRoutes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

// TestParseConfigRejects reads each file in testdata/bad, whose first line says which
// error it must produce.
func TestParseConfigRejects(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 bad configs in testdata/bad, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("first line %q must be '# want: <error>'", first)
			}
			_, err = ParseConfig(data)
			if err == nil {
				t.Fatalf("ParseConfig accepted it, want error containing %q", want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, want)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "proxy.") {
				t.Errorf("error %q must be one line and not name Go types", err)
			}
		})
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join("testdata", "bad", "retries.yaml"))
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join("testdata", "bad", "retries.yaml")+": ") {
		t.Errorf("error %v, want it to start with the file name", err)
	}
	_, err = LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want a not-exist error", err)
	}
}

func loadFixture(tb testing.TB, name string) Config {
	tb.Helper()
	c, err := LoadConfig(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestParseConfigNoUpgrades: an empty upgrade.protocols relays no upgrade at all,
// while leaving it out relays WebSocket.
func TestParseConfigNoUpgrades(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(append(data, "upgrade: {protocols: []}\n"...))
	if err != nil || c.Upgrade.Protocols == nil || len(c.Upgrade.Protocols) != 0 {
		t.Errorf("protocols %#v, %v; want an empty list", c.Upgrade.Protocols, err)
	}
}

// TestHeaderTimeoutDefaultFollowsClientRead: left out, timeouts.clientHeader is 10s,
// or timeouts.clientRead when that is shorter.
func TestHeaderTimeoutDefaultFollowsClientRead(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(append(data, "timeouts: {clientRead: 4s}\n"...))
	if err != nil || c.Timeouts.ClientHeader != 4*time.Second {
		t.Errorf("clientHeader %s, %v; want 4s", c.Timeouts.ClientHeader, err)
	}
}
