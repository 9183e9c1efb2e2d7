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
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0: the client's version is still printed", code, stderr)
			}
			if !strings.HasPrefix(stdout, "Client:  "+clientVersion()+"\n") || !strings.Contains(stdout, "Server:  unknown: ") || !strings.Contains(stdout, tc.want) {
				t.Fatalf("table output %q; want the client's line and the server's reason (%q)", stdout, tc.want)
			}
			code, stdout, _ = run(t, append([]string{"version", "-o", "json"}, tc.args...)...)
			var out versionOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != 0 {
				t.Fatalf("exit %d, output is not JSON: %v\n%s", code, err, stdout)
			}
			if out.Client.Version == "" || out.Server != nil || !strings.Contains(out.ServerError, tc.want) {
				t.Fatalf("JSON %+v; want the client, no server, and serverError with %q", out, tc.want)
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
