package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadInputGivesOneLineAndNonZeroExit(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("apiVersion: v1\nclusters: [this is: not, valid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A port that was free a moment ago: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	unreachable := filepath.Join(dir, "unreachable")
	if err := os.WriteFile(unreachable, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`, closed)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"unknown flag", []string{"--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{"unknown command", []string{"shipit"}, ExitUsage, `unknown command "shipit"`},
		{"unknown output format", []string{"version", "--client", "-o", "xml"}, ExitUsage, `unknown output format "xml"`},
		{"extra argument", []string{"version", "extra"}, ExitUsage, "accepts 0 arg(s)"},
		{"missing kubeconfig", []string{"version", "--kubeconfig", filepath.Join(dir, "nope")}, ExitError, "no such file or directory"},
		{"broken kubeconfig", []string{"version", "--kubeconfig", broken}, ExitError, "load kubeconfig"},
		{"unknown context", []string{"version", "--kubeconfig", unreachable, "--context", "nope"}, ExitError, `context "nope" does not exist`},
		{"unreachable cluster", []string{"version", "--kubeconfig", unreachable}, ExitError, "cannot reach the cluster at https://" + closed},
		{"bad node count", []string{"dev", "cluster", "up", "--nodes", "0"}, ExitUsage, "--nodes must be between 1 and 500"},
		{"no dev cluster", []string{"dev", "cluster", "kubeconfig", "--dir", dir}, ExitError, "no local cluster is running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.wantCode, stderr)
			}
			// version prints its own version before it finds the cluster missing.
			if stdout != "" && !(tc.args[0] == "version" && stdout == "Client:  "+clientVersion()+"\n") {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if !strings.HasPrefix(lines[0], "ferry: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("first stderr line %q, want a 'ferry: ' line containing %q", lines[0], tc.want)
			}
			if len(lines) > 2 || (len(lines) == 2 && !strings.Contains(lines[1], "--help")) {
				t.Errorf("stderr has %d lines, want one error line (and a usage hint): %q", len(lines), stderr)
			}
		})
	}
}
