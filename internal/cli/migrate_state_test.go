package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
)

// A state file with an impossible value or broken JSON makes status and start fail
// with one line naming the file and the field; abort still sends all traffic to
// legacy, says it recorded a fresh state, and status then shows it.
func TestMigrateWithAnUnusableStateFile(t *testing.T) {
	valid := func(field string) string {
		return `{"revision": 3, "name": "cli", "run": "r1", "phase": "running", "step": 0, ` + field +
			`"target": {"legacy": 9000, "kubernetes": 1000}, "applied": {"legacy": 9000, "kubernetes": 1000}}`
	}
	for _, tc := range []struct{ name, content, want string }{
		{"truncated", `{"revision": 3, "name": "cli", "ph`, "not valid JSON"},
		{"negative step", strings.Replace(valid(""), `"step": 0`, `"step": -1`, 1), "step: -1 is out of range: the plan has 3 steps, recorded as 0 to 2"},
		{"step beyond the plan", strings.Replace(valid(""), `"step": 0`, `"step": 3`, 1), "step: 3 is out of range"},
		{"unknown phase", strings.Replace(valid(""), `"running"`, `"sideways"`, 1), `phase: "sideways" is not a phase`},
		{"weights out of range", strings.Replace(valid(""), `"applied": {"legacy": 9000, "kubernetes": 1000}`, `"applied": {"legacy": -1, "kubernetes": 10001}`, 1), "applied: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, p, _ := migrationFixture(t, 20)
			if err := p.SetWeights(context.Background(), traffic.KubernetesShare(1000)); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(filepath.Dir(plan), ".ferry", "migration-cli.json")
			if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(state, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, verb := range []string{"status", "start", "pause"} {
				code, _, stderr := run(t, "migrate", verb, "--plan", plan)
				if code != ExitError || !strings.Contains(stderr, state) || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
					t.Fatalf("%s: exit %d, stderr %q; want one line naming %s and %q", verb, code, stderr, state, tc.want)
				}
			}
			if w, _ := p.Weights(context.Background()); w.Kubernetes != 1000 {
				t.Fatalf("a refused command moved the weights to %s", w)
			}
			code, stdout, stderr := run(t, "migrate", "abort", "--plan", plan, "--reason", "state file broken")
			if code != 0 || !strings.Contains(stderr, "the recorded state could not be used") || !strings.Contains(stdout, "aborted") {
				t.Fatalf("abort: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
			}
			if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
				t.Fatalf("weights %s after the abort, want all on legacy", w)
			}
			if st := migrationState(t, plan); st.Phase != migrate.PhaseAborted || st.Reason != "state file broken" {
				t.Fatalf("status after the abort: phase %s, reason %q", st.Phase, st.Reason)
			}
		})
	}
}

// A failed notification of a manual abort with no runner is printed on stderr and
// recorded in the state's log, its URL redacted.
func TestMigrateAbortPrintsAFailedNotification(t *testing.T) {
	const token = "abcdEFGHijklMNOPqrstUVWX"
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(broken.Close)
	plan, _, _ := migrationFixture(t, 20)
	f, err := os.OpenFile(plan, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "notify: [{slack: %q}]\n", broken.URL+"/services/T0/B0/"+token)
	f.Close()
	state := filepath.Join(filepath.Dir(plan), ".ferry", "migration-cli.json")
	if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
		t.Fatal(err)
	}
	running := `{"revision": 1, "name": "cli", "run": "r1", "phase": "running", "step": 0, "target": {"legacy": 9000, "kubernetes": 1000}, "applied": {"legacy": 9000, "kubernetes": 1000}}`
	if err := os.WriteFile(state, []byte(running), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "migrate", "abort", "--plan", plan)
	if code != 0 || !strings.Contains(stderr, "notify http://") || !strings.Contains(stderr, "503") || strings.Contains(stderr+stdout, token) {
		t.Fatalf("abort: exit %d\nstdout %q\nstderr %q; want the failed notification on stderr, redacted", code, stdout, stderr)
	}
	st := migrationState(t, plan)
	found := false
	for _, e := range st.Events {
		found = found || (strings.Contains(e.Message, "503") && strings.Contains(e.Message, "REDACTED") && !strings.Contains(e.Message, token))
	}
	if !found {
		t.Fatalf("the recorded log lacks the failed notification: %v", st.Events)
	}
}
