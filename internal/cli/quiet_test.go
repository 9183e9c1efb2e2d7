package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"ferry.dev/ferry/internal/cli/clitest"
)

// TestClientLibraryLogsStayOffTheTerminal runs ferry as a process against an API
// server that sends a warning with every answer, which client-go logs through klog
// on the process's own stderr: the terminal still gets ferry's one error line only.
func TestClientLibraryLogsStayOffTheTerminal(t *testing.T) {
	var warned atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Warning", `299 - "the API server warns: this version is deprecated"`)
		w.Header().Set("Content-Type", "application/json")
		warned.Add(1)
		switch r.URL.Path {
		case "/api/v1/namespaces/shop":
			fmt.Fprint(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop"}}`)
		case "/api/v1/namespaces/shop/secrets":
			fmt.Fprint(w, `{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: shop}}]
current-context: x
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := clitest.Run(t, "--kubeconfig", kubeconfig, "history", "--app", "web")
	if err == nil || stdout != "" {
		t.Fatalf("history of an app with no revisions: err %v, stdout %q", err, stdout)
	}
	if warned.Load() == 0 {
		t.Fatal("ferry never asked the API server")
	}
	want := "ferry: no revisions of app web in namespace shop, nor of any other app: pass -n with the app's namespace\n"
	if stderr != want {
		t.Errorf("stderr\n%s\nwant only\n%s", stderr, want)
	}
	if strings.Contains(stderr, "deprecated") {
		t.Error("client-go's warning log reached the terminal")
	}
}
