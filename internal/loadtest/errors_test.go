package loadtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/baseline"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/loadtest/accesslog"
)

func TestBadInputFailsBeforeAnyLoad(t *testing.T) {
	legacy, kube := newLatencyServer(t, 0, 0), newLatencyServer(t, 0, 0)
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.log")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	writesOnly := filepath.Join(dir, "writes.log")
	if err := os.WriteFile(writesOnly, []byte(`203.0.113.1 - - [20/Nov/2026:10:00:00 +0000] "POST /cart HTTP/1.1" 201 1`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := Config{Legacy: legacy.URL, Kubernetes: kube.URL, Duration: time.Second}
	with := func(f func(*Config)) Config { c := ok; f(&c); return c }
	for _, tc := range []struct {
		name    string
		cfg     Config
		want    error
		message string
	}{
		{"missing log", with(func(c *Config) { c.LogPath = filepath.Join(dir, "nope.log") }), os.ErrNotExist, "read access log"},
		{"unknown log format", with(func(c *Config) { c.LogPath = "accesslog/testdata/not-a-log.csv" }), accesslog.ErrUnknownFormat, "not-a-log.csv"},
		{"log of writes only", with(func(c *Config) { c.LogPath = writesOnly }), ErrNoRequests, "--allow-writes"},
		{"rate beyond the cap", with(func(c *Config) { c.Rate = MaxRate + 1 }), ErrBeyondCap, "beyond the cap of 50000"},
		{"duration beyond the cap", with(func(c *Config) { c.Duration = 2 * time.Hour }), ErrBeyondCap, "beyond the cap of 1h0m0s"},
		{"unreachable legacy", with(func(c *Config) { c.Legacy = "http://" + closedAddr(t) }), ErrUnreachable, "legacy side"},
		{"unreachable kubernetes", with(func(c *Config) { c.Kubernetes = "http://" + closedAddr(t) }), ErrUnreachable, "kubernetes side"},
		{"no scheme", with(func(c *Config) { c.Legacy = "127.0.0.1:80" }), ErrConfig, "http://"},
		{"missing kubernetes URL", with(func(c *Config) { c.Kubernetes = "" }), ErrConfig, "kubernetes URL: missing"},
		{"speed without log", with(func(c *Config) { c.Speed = 2 }), ErrConfig, "needs an access log"},
		{"log and paths", with(func(c *Config) { c.LogPath = "x.log"; c.Paths = []string{"/a"} }), ErrConfig, "not both"},
		{"relative path", with(func(c *Config) { c.Paths = []string{"a"} }), ErrConfig, "must start with /"},
		{"bad baseline", with(func(c *Config) { c.BaselinePath = "accesslog/testdata/shop-nginx.log" }), baseline.ErrFormat, "baseline"},
		{"bad threshold", with(func(c *Config) { c.Thresholds.MaxRatio = 0.5 }), ErrConfig, "at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), tc.cfg)
			if r != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, %v; want error %v", r, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.message)
			}
			if n := legacy.requests() + kube.requests(); n != 0 {
				t.Errorf("%d requests sent before the error", n)
			}
		})
	}
	if os.Geteuid() != 0 {
		t.Run("unreadable log", func(t *testing.T) {
			_, err := Run(context.Background(), with(func(c *Config) { c.LogPath = unreadable }))
			if !errors.Is(err, os.ErrPermission) {
				t.Errorf("error %v, want permission denied", err)
			}
		})
	}
}

func TestInterruptStopsAndReportsWhatRan(t *testing.T) {
	legacy, kube := newLatencyServer(t, 5*time.Millisecond, 0), newLatencyServer(t, 5*time.Millisecond, 0)
	ctx, cancel := cancelAfter(func() bool { return legacy.requests() >= 100 && kube.requests() >= 100 })
	defer cancel()
	start := time.Now()
	r, err := Run(ctx, Config{Legacy: legacy.URL, Kubernetes: kube.URL, Rate: 100, Duration: 30 * time.Second, Grace: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stopping took %v", took)
	}
	if !r.Interrupted || r.Elapsed >= r.Planned {
		t.Errorf("interrupted %v after %.1fs of %.1fs, want an interrupted run", r.Interrupted, r.Elapsed, r.Planned)
	}
	for i, srv := range []*latencyServer{legacy, kube} {
		s := r.Sides[i]
		if s.Stats.Count < 90 || s.Stats.Count > 300 {
			t.Errorf("%s: %d requests in the report, want about 100 (stopped after 100 were sent)", s.Name, s.Stats.Count)
		}
		if got := srv.requests(); got != s.Stats.Count+s.Pacing.Aborted {
			t.Errorf("%s: server saw %d requests, report %d + %d aborted", s.Name, got, s.Stats.Count, s.Pacing.Aborted)
		}
	}
	if len(r.Warnings) == 0 || !strings.Contains(strings.Join(r.Warnings, " "), "interrupted") {
		t.Errorf("warnings %q, want the interruption", r.Warnings)
	}
}

func TestGraceCutsOffHangingRequests(t *testing.T) {
	legacy, kube := newLatencyServer(t, 0, 0), newLatencyServer(t, 20*time.Second, 0)
	ctx, cancel := cancelAfter(func() bool { return kube.requests() >= 5 })
	defer cancel()
	start := time.Now()
	r, err := Run(ctx, Config{Legacy: legacy.URL, Kubernetes: kube.URL, Rate: 20, Duration: 10 * time.Second, Timeout: 30 * time.Second, Grace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a stop with hanging requests took %v, want about 0.8s", took)
	}
	if k := r.Sides[1]; k.Pacing.Aborted == 0 || k.Stats.Count != 0 {
		t.Errorf("kubernetes: %d aborted, %d counted; want all cut off", k.Pacing.Aborted, k.Stats.Count)
	}
}

// cancelAfter returns a context that is cancelled once cond holds (checked every
// devclustertest.PollInterval), as a user's Ctrl-C at that moment would.
func cancelAfter(cond func() bool) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_ = devclustertest.Poll(time.Minute, func(context.Context) (bool, error) { return cond() || ctx.Err() != nil, nil })
		cancel()
	}()
	return ctx, cancel
}
