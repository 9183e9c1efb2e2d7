package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// migrationFixture runs real traffic through an in-process proxy and writes a plan
// that drives it through its admin API. Its gates are migratetest.LooseGates: these
// tests are about the command, and what the gates conclude from real traffic is
// tested in internal/migrate and internal/providers.
func migrationFixture(t *testing.T, rate int) (string, *proxy.Proxy, *migratetest.Backend) {
	t.Helper()
	legacy := migratetest.NewSideBackend(t)
	kube := migratetest.NewSideBackend(t)
	p := migratetest.StartProxy(t, legacy, kube)
	load := migratetest.StartLoad(migratetest.URL(p), rate)
	t.Cleanup(load.Stop)
	dir := t.TempDir()
	plan := fmt.Sprintf(`name: cli
steps:
- {weight: 10, hold: 1s}
- {weight: 50, hold: 1s}
- {weight: 100, hold: 1s}
router: {proxy: {admin: "http://%s"}}
metrics: {proxy: {}}
interval: 200ms
warmup: 1500ms
deadline: 60s
`, p.AdminAddr()) + migratetest.LooseGates
	path := filepath.Join(dir, "migration.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, p, kube
}

func migrationState(t *testing.T, plan string) *migrationStatus {
	t.Helper()
	code, stdout, stderr := run(t, "migrate", "status", "-f", plan, "-o", "json")
	if code != 0 {
		t.Fatalf("status: %d %s", code, stderr)
	}
	var st migrationStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, stdout)
	}
	return &st
}

func TestMigrateStartRunsToCompletion(t *testing.T) {
	t.Parallel()
	plan, p, _ := migrationFixture(t, 150)
	code, stdout, stderr := run(t, "migrate", "start", "--plan", plan)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "completed") || !strings.Contains(stderr, "step 3 (100%)") {
		t.Fatalf("stdout %q\nstderr %q", stdout, stderr)
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 10000 {
		t.Fatalf("weights %v after completion", w)
	}
	if st := migrationState(t, plan); st.Phase != migrate.PhaseCompleted {
		t.Fatalf("status phase %s", st.Phase)
	}
}

// migrateKillPoints are the progress lines of a migration through the fixture's
// three steps, in the order it prints them; the kill test stops it after one. Not
// "started": the state that line announces may not be saved yet when it is read.
var migrateKillPoints = []string{
	"  weights applied: ",
	"  step 2: ",
	"  weights applied: ",
	"  step 3: ",
	"  weights applied: ",
}

func TestMigrateKilledMidStepContinuesTheSameStep(t *testing.T) {
	t.Parallel()
	plan, p, _ := migrationFixture(t, 150)
	at := clitest.Rand(t).IntN(len(migrateKillPoints))
	proc := clitest.Start(t, "migrate", "start", "--plan", plan)
	var line string
	for _, point := range migrateKillPoints[:at+1] {
		line = proc.WaitForLine(point)
	}
	proc.Kill()
	t.Logf("killed after %q", line)
	st := migrationState(t, plan)
	w, _ := p.Weights(context.Background())
	stepBP := []int{1000, 5000, 10000}[st.CurrentStep-1]
	applied, err := traffic.ParsePercent(st.AppliedWeights.Kubernetes)
	if err != nil {
		t.Fatal(err)
	}
	if w.Kubernetes > stepBP || applied > stepBP {
		t.Fatalf("after the kill: proxy %v, recorded %v, step %d allows %d bp", w, st.AppliedWeights, st.CurrentStep, stepBP)
	}
	t.Logf("killed at step %d (%s), proxy at %v", st.CurrentStep, st.Phase, w)
	code, _, stderr := run(t, "migrate", "start", "--plan", plan)
	if code != 0 {
		t.Fatalf("restart: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("continuing running at step %d", st.CurrentStep)) {
		t.Fatalf("the restart did not continue step %d:\n%s", st.CurrentStep, stderr)
	}
}

func TestMigrateAbortsOnARegressionWithExitCode3(t *testing.T) {
	t.Parallel()
	plan, p, kube := migrationFixture(t, 150)
	kube.SetErrorRate(0.5)
	code, _, stderr := run(t, "migrate", "start", "--plan", plan)
	if code != ExitAborted || !strings.Contains(stderr, "gate error-rate failed at 10%") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
		t.Fatalf("weights %v after the abort", w)
	}
	// It can start again from step 1 once fixed.
	kube.SetErrorRate(0.005)
	if code, _, stderr := run(t, "migrate", "start", "--plan", plan); code != 0 {
		t.Fatalf("start after an abort: %d %s", code, stderr)
	}
}

func TestMigrateBadInputChangesNoWeight(t *testing.T) {
	plan, p, _ := migrationFixture(t, 50)
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	data, _ := os.ReadFile(plan)
	unreachable := write("unreachable.yaml", strings.Replace(string(data), "http://"+p.AdminAddr(), "http://127.0.0.1:1", 1))
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"missing plan", []string{"migrate", "start", "--plan", filepath.Join(dir, "nope.yaml")}, ExitError, "no such file"},
		{"weights out of order", []string{"migrate", "start", "--file", write("order.yaml", "name: x\nsteps: [{weight: 50}, {weight: 10}, {weight: 100}]\nrouter: {proxy: {admin: http://a}}\nmetrics: {proxy: {}}\n")}, ExitError, "weights must rise"},
		{"unknown router", []string{"migrate", "start", "--plan", write("router.yaml", "name: x\nrouter: {haproxy: {}}\nmetrics: {proxy: {}}\n")}, ExitError, "router.haproxy (line 2): unknown field (did you mean proxy? valid here: proxy, proxyFleet, route53, gateway, alb)"},
		{"gates without metrics", []string{"migrate", "start", "--plan", write("metrics.yaml", "name: x\nrouter: {proxy: {admin: http://a}}\n")}, ExitError, "name a metric source"},
		{"unreachable router", []string{"migrate", "start", "--plan", unreachable}, ExitError, "router:"},
		{"status before start", []string{"migrate", "status", "--plan", plan}, ExitError, "no migration recorded"},
		{"abort before start", []string{"migrate", "abort", "--plan", plan}, ExitError, "no migration recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Fatalf("exit %d stdout %q stderr %q, want %d and %q", code, stdout, stderr, tc.wantCode, tc.want)
			}
		})
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
		t.Fatalf("bad input changed the weights to %v", w)
	}
}
