package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

func namedBackend(t *testing.T, name string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Backend", name)
		io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func writeProxyConfig(t *testing.T, path, legacy, kubernetes, extra string) {
	t.Helper()
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
  token: cli-test-token
backends:
  legacy:
    servers: [%s]
  kubernetes:
    servers: [%s]
%s`, legacy, kubernetes, extra)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startProxyProcess runs `ferry proxy run` as its own process and returns it with the
// proxy's and admin API's addresses, read from its log.
func startProxyProcess(t *testing.T, config string) (*clitest.Process, string, string) {
	t.Helper()
	p := clitest.Start(t, "proxy", "run", "--config", config)
	m := p.WaitForMatch(regexp.MustCompile(`proxy serving" addr=(\S+) admin=(\S+)`))
	return p, m[1], m[2]
}

func backendOf(t *testing.T, addr string, header ...string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	if len(header) == 2 {
		req.Header.Set(header[0], header[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Backend")
}

// TestProxyRunAndAdminCommands runs the proxy as a process and drives it with the
// admin client commands and signals: weights set and shown, stats, a bad config
// rejected on SIGHUP while the old one serves, a good one applied, SIGTERM drains.
func TestProxyRunAndAdminCommands(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "proxy.yaml")
	legacy1, legacy2, k8s := namedBackend(t, "legacy-1"), namedBackend(t, "legacy-2"), namedBackend(t, "k8s-1")
	// Forcing is on so that the test can reach each side after the weights changed.
	const force = "force: {enabled: true}\n"
	writeProxyConfig(t, config, legacy1, k8s, force)
	proc, addr, adminAddr := startProxyProcess(t, config)
	if got := backendOf(t, addr); got != "legacy-1" {
		t.Fatalf("at 0 %% kubernetes the proxy answered from %q", got)
	}
	client := []string{"--admin", adminAddr, "--token", "cli-test-token"}

	// --kubernetes, loadtest's URL, is still taken here, with a notice on stderr.
	code, stdout, stderr := run(t, append([]string{"proxy", "weights", "set", "--kubernetes", "100%"}, client...)...)
	if code != 0 || !strings.Contains(stdout, "kubernetes  100%") {
		t.Fatalf("weights set: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if stderr != "ferry: warning: --kubernetes is deprecated here: use --kubernetes-weight (--kubernetes is a URL in ferry loadtest)\n" {
		t.Errorf("weights set --kubernetes: stderr %q, want one deprecation notice", stderr)
	}
	if got := backendOf(t, addr); got != "k8s-1" {
		t.Fatalf("at 100 %% kubernetes the proxy answered from %q", got)
	}
	code, stdout, _ = run(t, append([]string{"proxy", "weights", "-o", "json"}, client...)...)
	var w traffic.Weights
	if code != 0 || json.Unmarshal([]byte(stdout), &w) != nil || w != traffic.KubernetesShare(10000) {
		t.Fatalf("weights -o json: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run(t, append([]string{"proxy", "stats", "-o", "json", "--window", "5m"}, client...)...)
	var snap proxy.Snapshot
	if code != 0 || json.Unmarshal([]byte(stdout), &snap) != nil || snap.Legacy.Requests != 1 || snap.Kubernetes.Requests != 1 {
		t.Fatalf("stats -o json: exit %d, %q", code, stdout)
	}
	if code, stdout, _ = run(t, append([]string{"proxy", "stats"}, client...)...); code != 0 || !strings.Contains(stdout, "SIDE") {
		t.Errorf("stats table: exit %d, %q", code, stdout)
	}
	if code, stdout, _ = run(t, append([]string{"proxy", "backends"}, client...)...); code != 0 || !strings.Contains(stdout, k8s) {
		t.Errorf("backends: exit %d, %q", code, stdout)
	}

	// A bad config on SIGHUP is rejected; the old one keeps serving.
	if err := os.WriteFile(config, []byte("listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\nbackends: {legacy: {servers: [nope]}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	proc.Signal(syscall.SIGHUP)
	proc.WaitForLine("reload rejected")
	if got := backendOf(t, addr, "X-Ferry-Side", "legacy"); got != "legacy-1" {
		t.Fatalf("after a rejected reload legacy answered from %q", got)
	}
	// A good one is applied, and the weights set through the API stay.
	writeProxyConfig(t, config, legacy2, k8s, force)
	proc.Signal(syscall.SIGHUP)
	proc.WaitForLine("configuration reloaded")
	if got := backendOf(t, addr, "X-Ferry-Side", "legacy"); got != "legacy-2" {
		t.Fatalf("after a good reload legacy answered from %q", got)
	}
	if got := backendOf(t, addr); got != "k8s-1" {
		t.Fatalf("the reload undid the weights: answer from %q", got)
	}

	// SIGTERM drains and exits 0.
	proc.Signal(syscall.SIGTERM)
	if err := proc.Wait(15 * time.Second); err != nil {
		t.Errorf("ferry proxy run exited with %v after SIGTERM", err)
	}
}

func TestProxyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeProxyConfig(t, good, "http://127.0.0.1:1", "http://127.0.0.1:2", "")
	bad := filepath.Join(dir, "bad.yaml")
	writeProxyConfig(t, bad, "http://127.0.0.1:1", "http://127.0.0.1:2", "weights: {kubernetes: 0.001}")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"run without config", []string{"proxy", "run"}, ExitUsage, "-f/--file is required"},
		{"run with missing file", []string{"proxy", "run", "--config", filepath.Join(dir, "none.yaml")}, ExitError, "no such file"},
		{"check bad config", []string{"proxy", "check", "-f", bad}, ExitError, `line 10: percentage "0.001"`},
		{"weights without target", []string{"proxy", "weights"}, ExitUsage, "--admin ADDRESS or -f FILE"},
		{"set without share", []string{"proxy", "weights", "set", "--admin", "127.0.0.1:1"}, ExitUsage, "give --kubernetes-weight or --legacy-weight"},
		{"set bad share", []string{"proxy", "weights", "set", "--kubernetes-weight", "ten", "--admin", "127.0.0.1:1"}, ExitUsage, `--kubernetes-weight: percentage "ten"`},
		{"set shares not adding up", []string{"proxy", "weights", "set", "--kubernetes-weight", "10", "--legacy-weight", "80", "--admin", "127.0.0.1:1"}, ExitUsage, "must add up to 100%"},
		{"stats bad window", []string{"proxy", "stats", "--window", "-1s", "--admin", "127.0.0.1:1"}, ExitUsage, "--window must be positive"},
		{"admin unreachable", []string{"proxy", "weights", "--config", good}, ExitError, "cannot reach the proxy's admin API"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.wantCode || stdout != "" {
				t.Errorf("exit %d stdout %q, want exit %d and no output", code, stdout, tc.wantCode)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if !strings.HasPrefix(first, "ferry: ") || !strings.Contains(first, tc.want) {
				t.Errorf("stderr %q, want a 'ferry: ' line containing %q", stderr, tc.want)
			}
		})
	}
}

func TestProxyCheck(t *testing.T) {
	code, stdout, stderr := run(t, "proxy", "check", "-o", "json", "--config", filepath.Join("..", "traffic", "proxy", "testdata", "full.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out checkOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Weights.Kubernetes != 1250 || len(out.Legacy) != 3 || strings.Contains(stdout, "s3cret") {
		t.Errorf("check output %+v (must not show the token)", out)
	}
}
