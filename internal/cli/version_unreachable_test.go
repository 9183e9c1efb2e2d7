package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeconfigFor writes a kubeconfig whose cluster is at server.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, server)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersionWithoutACluster(t *testing.T) {
	// A server that takes connections and never answers: the timeout must end the wait.
	hang := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(silent.Close)
	t.Cleanup(func() { close(hang) })
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no kubeconfig", []string{"--kubeconfig", filepath.Join(t.TempDir(), "none")}, "kubeconfig"},
		{"nothing listening", []string{"--kubeconfig", kubeconfigFor(t, "http://127.0.0.1:1")}, "cannot reach the cluster at http://127.0.0.1:1"},
		{"no answer", []string{"--kubeconfig", kubeconfigFor(t, silent.URL), "--server-timeout", "300ms"}, "did not answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"version"}, tc.args...)...)
			if code != ExitError || stdout != "Client:  "+clientVersion()+"\n" {
				t.Fatalf("exit %d, stdout %q; want 1 and the client's line alone", code, stdout)
			}
			if !strings.HasPrefix(stderr, "ferry: ") || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("stderr %q; want one line with %q", stderr, tc.want)
			}
			code, stdout, _ = run(t, append([]string{"version", "-o", "json"}, tc.args...)...)
			var out versionOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != ExitError {
				t.Fatalf("exit %d, output is not JSON: %v\n%s", code, err, stdout)
			}
			if out.Client.Version == "" || out.Server != nil {
				t.Fatalf("JSON %+v; want the client and no server", out)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	code, stdout, stderr := run(t, "--version")
	if code != 0 || stderr != "" || stdout != "ferry "+clientVersion()+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "version", "--server-timeout", "0s"); code != ExitUsage {
		t.Fatalf("--server-timeout 0s: exit %d %q, want a usage error", code, stderr)
	}
}
