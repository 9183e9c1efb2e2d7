package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/loadtest"
)

// countingServer is a real HTTP server on 127.0.0.1 that counts its requests.
func countingServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestLoadtestWritesReportAndHTML(t *testing.T) {
	legacy, ln := countingServer(t, time.Millisecond)
	kube, kn := countingServer(t, time.Millisecond)
	html := filepath.Join(t.TempDir(), "report.html")
	// Two like servers pass; the p99 of 50 requests is nearly their slowest, which a
	// starved test machine once put 55 ms apart: only a second apart fails here (the
	// verdict's thresholds have tests of their own in internal/loadtest).
	code, stdout, stderr := run(t, "loadtest", "--legacy", legacy.URL, "--kubernetes", kube.URL, "--rate", "50", "--duration", "1s",
		"--path", "/products/1", "--path", "/products/2", "--html", html, "--min-samples", "20", "--min-delta", "1s", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r loadtest.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	if len(r.Sides) != 2 || r.Sides[0].Stats.Count != ln.Load() || r.Sides[1].Stats.Count != kn.Load() || ln.Load() < 40 {
		t.Errorf("report counts %+v, servers saw %d and %d", r.Sides, ln.Load(), kn.Load())
	}
	if len(r.Endpoints) != 1 || r.Endpoints[0].Endpoint != "GET /products/{id}" || r.Verdict.Outcome != loadtest.Pass {
		t.Errorf("endpoints %+v, verdict %s", r.Endpoints, r.Verdict.Outcome)
	}
	if data, err := os.ReadFile(html); err != nil || !bytes.Contains(data, []byte("chart-latency-over-time")) {
		t.Errorf("HTML report: %v", err)
	}
	if !strings.Contains(stderr, "HTML report: "+html) {
		t.Errorf("stderr %q does not name the HTML report", stderr)
	}

	code, stdout, _ = run(t, "loadtest", "--legacy", legacy.URL, "--kubernetes", kube.URL, "--rate", "20", "--duration", "500ms", "--html", "")
	if code != ExitLoadtestInconclusive || !strings.Contains(stdout, "verdict: INCONCLUSIVE") || !strings.Contains(stdout, "ENDPOINT") {
		t.Errorf("a run too short to judge: exit %d, table %q", code, stdout)
	}
}

// TestLoadtestFailedVerdictHasItsOwnExitCode: a Kubernetes side far slower than legacy
// fails the verdict, which a script tells from an inconclusive run and from an error.
func TestLoadtestFailedVerdictHasItsOwnExitCode(t *testing.T) {
	legacy, _ := countingServer(t, time.Millisecond)
	kube, _ := countingServer(t, 80*time.Millisecond)
	code, stdout, stderr := run(t, "loadtest", "--legacy", legacy.URL, "--kubernetes", kube.URL, "--rate", "40", "--duration", "1s",
		"--min-samples", "20", "--min-delta", "10ms", "--request-timeout", "5s", "--html", "")
	if code != ExitLoadtestFailed || !strings.Contains(stdout, "verdict: FAIL") || !strings.Contains("\n"+stderr, "\nferry: verdict fail: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and a failed verdict", code, stdout, stderr, ExitLoadtestFailed)
	}
}

func TestLoadtestBadInputFailsBeforeAnyLoad(t *testing.T) {
	legacy, ln := countingServer(t, 0)
	kube, kn := countingServer(t, 0)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	dir := t.TempDir()
	base := []string{"loadtest", "--legacy", legacy.URL, "--kubernetes", kube.URL, "--duration", "1s", "--html", filepath.Join(dir, "r.html")}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"missing log", []string{"--log", filepath.Join(dir, "nope.log")}, ExitError, "read access log"},
		{"unknown log format flag", []string{"--log", "x.log", "--log-format", "iis"}, ExitUsage, `unknown access-log format "iis"`},
		{"log in no known format", []string{"--log", "../loadtest/accesslog/testdata/not-a-log.csv"}, ExitError, "unknown access-log format"},
		{"rate beyond the cap", []string{"--rate", "60000"}, ExitUsage, "beyond the cap of 50000"},
		{"duration beyond the cap", []string{"--duration", "3h"}, ExitUsage, "beyond the cap of 1h0m0s"},
		{"unreachable target", []string{"--kubernetes", closed.URL}, ExitError, "target unreachable: kubernetes side"},
		{"bad header", []string{"-H", "nocolon"}, ExitUsage, `want "Name: value"`},
		{"negative top", []string{"--top", "-1"}, ExitUsage, "--top -1: want 0 (every endpoint) or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append(append([]string{}, base...), tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.wantCode, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if stdout != "" || !strings.HasPrefix(lines[0], "ferry: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stdout %q, stderr %q; want one 'ferry: ' line containing %q", stdout, stderr, tc.want)
			}
			if n := ln.Load() + kn.Load(); n != 0 {
				t.Errorf("%d requests sent before the error", n)
			}
		})
	}
	code, _, stderr := run(t, "loadtest", "--kubernetes", kube.URL)
	if code != ExitUsage || !strings.Contains(stderr, "legacy URL: missing") {
		t.Errorf("no --legacy: exit %d, %q", code, stderr)
	}
}

func TestLoadtestInterruptWritesTheReport(t *testing.T) {
	legacy, ln := countingServer(t, 2*time.Millisecond)
	kube, _ := countingServer(t, 2*time.Millisecond)
	html := filepath.Join(t.TempDir(), "report.html")
	p := clitest.Start(t, "loadtest", "--legacy", legacy.URL, "--kubernetes", kube.URL,
		"--rate", "50", "--duration", "30s", "--html", html, "-o", "json")
	devclustertest.WaitFor(t, 20*time.Second, "50 requests to legacy", func(context.Context) (bool, error) {
		return ln.Load() >= 50, nil
	})
	start := time.Now()
	p.Signal(syscall.SIGINT)
	err := p.Wait(time.Minute)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("ferry took %v to stop after Ctrl-C", took)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitError {
		t.Errorf("exit %v, want %d", err, ExitError)
	}
	var r loadtest.Report
	if err := json.Unmarshal([]byte(p.Stdout()), &r); err != nil {
		t.Fatalf("no JSON report after Ctrl-C: %v\n%s\n%s", err, p.Stdout(), p.Stderr())
	}
	if !r.Interrupted || r.Sides[0].Stats.Count < 40 || r.Sides[0].Stats.Count+r.Sides[0].Pacing.Aborted != ln.Load() {
		t.Errorf("interrupted %v, legacy %d (+%d aborted) of %d sent", r.Interrupted, r.Sides[0].Stats.Count, r.Sides[0].Pacing.Aborted, ln.Load())
	}
	if _, err := os.Stat(html); err != nil {
		t.Errorf("no HTML report after Ctrl-C: %v", err)
	}
	if !strings.Contains(p.Stderr(), "ferry: interrupted after") {
		t.Errorf("stderr %q, want the interruption", p.Stderr())
	}
}
