package cli

import (
	"context"
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
