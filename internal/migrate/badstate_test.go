package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
)

// badStates are state files a crash, a full disk or a hand edit can leave, each with
// what the error must name.
var badStates = []struct{ name, content, want string }{
	{"truncated", `{"revision": 4, "name": "e2e", "run": "r1", "phase": "runn`, "not valid JSON"},
	{"negative step", `{"revision": 4, "name": "e2e", "run": "r1", "phase": "running", "step": -1, "target": {"legacy": 9000, "kubernetes": 1000}, "applied": {"legacy": 9000, "kubernetes": 1000}}`, "step: -1"},
	{"step beyond the plan", `{"revision": 4, "name": "e2e", "run": "r1", "phase": "running", "step": 9, "target": {"legacy": 9000, "kubernetes": 1000}, "applied": {"legacy": 9000, "kubernetes": 1000}}`, "step: 9 is out of range: the plan has 4 steps"},
	{"unknown phase", `{"revision": 4, "name": "e2e", "run": "r1", "phase": "exploded", "step": 0, "target": {"legacy": 9000, "kubernetes": 1000}, "applied": {"legacy": 9000, "kubernetes": 1000}}`, `phase: "exploded"`},
	{"weight out of range", `{"revision": 4, "name": "e2e", "run": "r1", "phase": "running", "step": 0, "target": {"legacy": -5000, "kubernetes": 15000}, "applied": {"legacy": 9000, "kubernetes": 1000}}`, "target: "},
}

// A state file with an impossible value or no valid JSON at all is refused with an
// error naming the file and the field, never a panic; an abort still sends all
// traffic to legacy and records a fresh aborted state in its place.
func TestAnUnusableStateIsRefusedButAbortStillWorks(t *testing.T) {
	t.Parallel()
	for _, tc := range badStates {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 50, "60s")
			if err := e.proxy.SetWeights(context.Background(), traffic.KubernetesShare(5000)); err != nil {
				t.Fatal(err)
			}
			path := e.cfg.Plan.State
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := migrate.LoadState(context.Background(), e.cfg.Store, e.cfg.Plan)
			if !errors.Is(err, migrate.ErrUnusableState) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("load: %v, want ErrUnusableState naming %s and %q", err, path, tc.want)
			}
			if _, err := e.run(t, time.Minute); !errors.Is(err, migrate.ErrUnusableState) {
				t.Fatalf("start: %v, want ErrUnusableState", err)
			}
			if err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "pause"}); !errors.Is(err, migrate.ErrUnusableState) {
				t.Fatalf("pause: %v, want ErrUnusableState", err)
			}
			if got := e.kubernetesShare(t); got != 5000 {
				t.Fatalf("a refused start or pause moved the weights to %d bp", got)
			}
			if err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "abort", Reason: "state broken"}); err != nil {
				t.Fatalf("abort: %v", err)
			}
			if got := e.kubernetesShare(t); got != 0 {
				t.Fatalf("kubernetes gets %d bp after the abort", got)
			}
			st, err := migrate.LoadState(context.Background(), e.cfg.Store, e.cfg.Plan)
			if err != nil || st.Phase != migrate.PhaseAborted || st.Applied.Kubernetes != 0 || st.Run == "r1" {
				t.Fatalf("after the abort: %+v, %v; want a fresh aborted state", st, err)
			}
			if !hasEvent(st, "the recorded state could not be used") {
				t.Fatalf("the log does not say the state was recorded afresh: %v", st.Events)
			}
		})
	}
}
