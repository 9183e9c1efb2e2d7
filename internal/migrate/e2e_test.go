package migrate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// receiver is a local webhook receiver that keeps what it is sent.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	notices []migrate.Notice
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var n migrate.Notice
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.notices = append(r.notices, n)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []migrate.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]migrate.Notice(nil), r.notices...)
}

// env is one migration over real traffic: legacy and kubernetes backends, the proxy,
// load through it, and a runner configuration built from the plan as ferry migrate
// builds it (providers.Config), driving the proxy through its admin API.
type env struct {
	legacy, kube *migratetest.Backend
	proxy        *proxy.Proxy
	load         *migratetest.Load
	hook         *receiver
	rec          *recorder // the router of cfg: every split it was asked to apply
	cfg          migrate.Config
}

const e2ePlan = `name: e2e
steps:
- {weight: 10, hold: 1s}
- {weight: 25, hold: 1s}
- {weight: 50, hold: 1s}
- {weight: 100, hold: 1s}
router: {proxy: {admin: "http://%s"}}
metrics: {proxy: {}}
interval: 200ms
warmup: 1500ms
deadline: %s
notify: [{webhook: %s}]
%s`

// detectingGates are gates as a real migration's, catching the given error-rate
// increase (errorRate.minAbsolute).
const detectingGates = `final: {control: 10%%}
gates:
  errorRate: {minAbsolute: %s}
  latency: {minRequests: 150}
`

// runnerRate is the requests a second of the tests about the runner. LooseGates pass a
// step on some fifty requests, which the steps' warm-up and hold gather at this rate
// (the first, at 10 %, in about three seconds); every request costs the race
// detector's CPU on a machine shared by the whole suite.
const runnerRate = 150

// judgedRate is the requests a second of the tests about what the gates conclude
// (newEnvDetecting). They run without the race detector on a machine the rest of the
// suite no longer keeps busy (hack/test.sh), where a thousand requests a second cost
// a fraction of a core; the gates then have their samples, and the migrations end,
// in half the time that 400 took.
const judgedRate = 1000

// newEnv is an env for the tests about the runner rather than the gates: its gates
// are migratetest.LooseGates.
func newEnv(t *testing.T, rate int, deadline string) *env {
	t.Helper()
	return openEnv(t, rate, deadline, migratetest.LooseGates)
}

// newEnvDetecting is an env whose gates judge as a real migration's do, with the
// smallest error-rate increase the error-rate gate is to catch
// (errorRate.minAbsolute): the last step judged at 90 % beside a 10 % control, the
// latency gate passing on 150 new-side requests.
func newEnvDetecting(t *testing.T, rate int, deadline, minAbsolute string) *env {
	t.Helper()
	return openEnv(t, rate, deadline, fmt.Sprintf(detectingGates, minAbsolute))
}

// openEnv starts an env whose plan ends with gates: its final and gates settings.
func openEnv(t *testing.T, rate int, deadline, gates string) *env {
	t.Helper()
	e := &env{
		legacy: migratetest.NewSideBackend(t),
		kube:   migratetest.NewSideBackend(t),
		hook:   newReceiver(t),
	}
	e.proxy = migratetest.StartProxy(t, e.legacy, e.kube)
	p, err := plan.Parse([]byte(fmt.Sprintf(e2ePlan, e.proxy.AdminAddr(), deadline, e.hook.URL, gates)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if e.cfg, err = providers.Config(context.Background(), p, providers.Options{}); err != nil {
		t.Fatal(err)
	}
	e.rec = &recorder{Router: e.cfg.Router}
	e.cfg.Router = e.rec
	e.load = migratetest.StartLoad(migratetest.URL(e.proxy), rate)
	t.Cleanup(e.load.Stop)
	return e
}

func (e *env) run(t *testing.T, timeout time.Duration) (*migrate.State, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, timeout))
	defer cancel()
	return migrate.Start(ctx, e.cfg)
}

func (e *env) kubernetesShare(t *testing.T) int {
	w, err := e.proxy.Weights(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w.Kubernetes
}

func TestHealthyMigrationCompletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	st, err := e.run(t, 2*time.Minute)
	if err != nil {
		t.Fatalf("migration: %v (state %+v)", err, st)
	}
	if st.Phase != migrate.PhaseCompleted || st.Step != 3 || e.kubernetesShare(t) != traffic.Total {
		t.Fatalf("phase %s at step %d with %d bp on kubernetes", st.Phase, st.Step, e.kubernetesShare(t))
	}
	// The last step was judged at 75 % beside its legacy control, and only then went to 100 %.
	if got, want := e.rec.kubernetesShares(), []int{1000, 2500, 5000, 7500, 10000}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the router was set to %v bp, want %v", got, want)
	}
	notices := e.hook.got()
	if len(notices) != 1 || notices[0].Event != "completed" || notices[0].Weights.Kubernetes != traffic.Total {
		t.Fatalf("notices %+v, want one completion", notices)
	}
	if failed := e.load.Failed.Load(); failed > 0 {
		t.Errorf("%d requests got no answer during the migration", failed)
	}
}

// eventsOf is the run's log, one line each, for a failure's message.
func eventsOf(st *migrate.State) string {
	var b strings.Builder
	for _, e := range st.Events {
		fmt.Fprintf(&b, "\n  %s %s", e.Time.Format("15:04:05.000"), e.Message)
	}
	return b.String()
}

// regressAt injects a regression into the kubernetes backend once the runner reaches
// step index step.
func (e *env) regressAt(step int, regress func()) {
	var once sync.Once
	e.cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
		if st.Step >= step {
			once.Do(regress)
		}
	}
}

func TestRegressionsAbortAtTheStepWhereTheyAppear(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		regress func(e *env)
		gate    string
	}{
		{"error rate 0.5% to 3%", func(e *env) { e.kube.SetErrorRate(0.03) }, "error-rate"},
		{"latency +50%", func(e *env) { e.kube.SetSlowdown(1.5) }, "latency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// +2.5pp against a gate told to catch +1.5pp: one that only just exceeds what
			// the gate is to catch would pass before failing a few times in a thousand
			// (analysis.TestErrorRateGateRarelyPassesARegressionOnFewRequests).
			e := newEnvDetecting(t, judgedRate, "60s", "0.015")
			e.regressAt(1, func() { tc.regress(e) })
			st, err := e.run(t, 2*time.Minute)
			if !errors.Is(err, migrate.ErrAborted) {
				t.Fatalf("run: %v, want an abort (state %s at %d)", err, st.Phase, st.Step)
			}
			if st.Phase != migrate.PhaseAborted || st.Step != 1 {
				t.Fatalf("aborted in phase %s at step %d (%s), want at step 2 (25%%) where the regression began; events: %s", st.Phase, st.Step+1, st.Reason, eventsOf(st))
			}
			if !strings.Contains(st.Reason, "gate "+tc.gate+" failed at 25%") {
				t.Errorf("reason %q, want the %s gate at 25%%", st.Reason, tc.gate)
			}
			if got := e.kubernetesShare(t); got != 0 {
				t.Fatalf("kubernetes still gets %d bp after the abort", got)
			}
			notices := e.hook.got()
			if len(notices) != 1 || notices[0].Event != "aborted" || notices[0].Step != "25%" || notices[0].Weights.Kubernetes != 0 || !strings.Contains(notices[0].Reason, tc.gate) {
				t.Fatalf("notices %+v, want one abort at 25%% with the reason", notices)
			}
			if max := e.rec.maxKubernetes(); max > 2500 {
				t.Errorf("kubernetes got up to %d bp, above the step's 2500", max)
			}
		})
	}
}

func TestLowTrafficHoldsTheStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 20, "60s")
	// Stop once five evaluations past the warm-up have judged requests of both sides.
	ctx, stop := context.WithTimeout(context.Background(), devclustertest.Patience(t, time.Minute))
	defer stop()
	judged := 0
	e.cfg.OnEvaluate = func(st *migrate.State, d migrate.Decision) {
		if strings.HasPrefix(d.Reason, "warming up") || st.Sample == nil || st.Sample.Legacy.Requests == 0 || st.Sample.New.Requests == 0 {
			return
		}
		if judged++; judged == 5 {
			stop()
		}
	}
	st, err := migrate.Start(ctx, e.cfg)
	if !errors.Is(err, context.Canceled) || judged < 5 {
		t.Fatalf("run: %v after %d judged evaluations, want it still holding when stopped", err, judged)
	}
	if st.Phase != migrate.PhaseRunning || st.Step != 0 {
		t.Fatalf("phase %s step %d, want still running the first step", st.Phase, st.Step)
	}
	holding := false
	for _, g := range st.Gates {
		holding = holding || (g.Verdict == "hold" && g.NeedMore > 0 && strings.Contains(g.Message, "more"))
	}
	if !holding {
		t.Fatalf("gates %+v: want a gate holding and saying how many more requests it needs", st.Gates)
	}
}

func TestTooLittleDataPastTheDeadlineAborts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 20, "2s")
	st, err := e.run(t, 30*time.Second)
	if !errors.Is(err, migrate.ErrAborted) || !strings.Contains(st.Reason, "too little data") {
		t.Fatalf("run: %v, reason %q", err, st.Reason)
	}
}

// stopAt runs the migration until a line it logs starts with prefix, then stops it
// as a kill would: what it recorded up to then is all the next run has.
func (e *env) stopAt(t *testing.T, prefix string) (*migrate.State, error) {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), devclustertest.Patience(t, time.Minute))
	defer stop()
	cfg := e.cfg
	cfg.OnEvent = func(ev migrate.Event) {
		if strings.HasPrefix(ev.Message, prefix) {
			stop()
		}
	}
	return migrate.Start(ctx, cfg)
}

func TestRestartContinuesTheSameStepAndNeverExceedsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	// Stop the runner three times at different moments: once the first weight is
	// applied, once the second step is recorded but before its weight is applied, and
	// once that weight is applied.
	for _, prefix := range []string{"weights applied", "step 2:", "weights applied"} {
		before, _ := e.cfg.Store.Load(context.Background())
		st, err := e.stopAt(t, prefix)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run stopped at %q: %v", prefix, err)
		}
		if st.Phase.Done() {
			t.Fatalf("the migration ended (%s) before the stop at %q", st.Phase, prefix)
		}
		reloaded, err := e.cfg.Store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if before != nil && reloaded.Step < before.Step {
			t.Fatalf("restart went back from step %d to %d", before.Step, reloaded.Step)
		}
		stepBP := e.cfg.Plan.Steps[reloaded.Step].BasisPoints
		if got := e.kubernetesShare(t); got > stepBP {
			t.Fatalf("stopped at %q: proxy at %d bp, above the recorded step's %d", prefix, got, stepBP)
		}
	}
	st, err := e.run(t, 2*time.Minute)
	if err != nil || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("final run: %v, phase %s", err, st.Phase)
	}
	continued := 0
	for _, ev := range st.Events {
		if strings.HasPrefix(ev.Message, "continuing") {
			continued++
		}
	}
	if continued != 3 {
		t.Errorf("the log shows %d continuations, want each of the 3 restarts to continue: %v", continued, st.Events)
	}
	if max := e.rec.maxKubernetes(); max > traffic.Total {
		t.Errorf("kubernetes was given %d bp", max)
	}
}

func TestAACheckNeverAborts(t *testing.T) {
	t.Parallel()
	const runs = 1 // the 30-run check with its rate is bench/migrate -aa
	for i := range runs {
		e := newEnvDetecting(t, judgedRate, "60s", "0.02")
		st, err := e.run(t, 2*time.Minute)
		if err != nil || st.Phase != migrate.PhaseCompleted {
			t.Fatalf("A/A run %d: %v (%s)", i, err, st.Reason)
		}
	}
}

func TestManualAbortWhileRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	judging := make(chan struct{}) // closed when the runner judges its first weight
	var once sync.Once
	e.cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
		if st.Applied == st.Target {
			once.Do(func() { close(judging) })
		}
	}
	done := make(chan error, 1)
	go func() { _, err := e.run(t, time.Minute); done <- err }()
	select {
	case <-judging:
	case err := <-done:
		t.Fatalf("the run ended before it judged a step: %v", err)
	}
	aborted, err := e.cfg.Store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "abort", Reason: "operator saw a problem"})
	if !migrate.IsQueued(err) {
		t.Fatalf("abort while running: %v, want it queued for the runner", err)
	}
	if err := <-done; !errors.Is(err, migrate.ErrAborted) || !strings.Contains(err.Error(), "operator saw a problem") {
		t.Fatalf("runner ended with %v", err)
	}
	if e.kubernetesShare(t) != 0 {
		t.Fatal("weights not back to legacy after a manual abort")
	}
	// It can start again from step 1, as a new run.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	e.cfg.OnEvaluate = func(*migrate.State, migrate.Decision) { stop() }
	st, err := migrate.Start(ctx, e.cfg)
	if !errors.Is(err, context.Canceled) || st.Step != 0 || st.Phase != migrate.PhaseRunning {
		t.Fatalf("restart after abort: %v step %d phase %s", err, st.Step, st.Phase)
	}
	if st.Run == "" || st.Run == aborted.Run {
		t.Fatalf("the new run's id %q, want one other than the aborted run's %q", st.Run, aborted.Run)
	}
}

// A stop after the last step passed beside its control and 100 % was recorded, but
// before it was applied: the next run applies 100 % and completes without judging
// the step again.
func TestRestartAfterTheFinalPassCompletesWithoutJudgingAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	// This test is about the restart, not the gates: looser ones still, so that a
	// machine starved by other tests cannot end the run before the stop.
	e.cfg.Gates = []analysis.Gate{analysis.ErrorRateGate{MinAbsolute: 0.2}, analysis.LatencyGate{MinRequests: 50, MaxP50Ratio: 20, MaxP99Ratio: 50}}
	if _, err := e.stopAt(t, "every gate passed at 75%"); !errors.Is(err, context.Canceled) {
		t.Fatalf("run stopped after the final pass: %v", err)
	}
	st, err := e.cfg.Store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Target.Kubernetes != traffic.Total || st.Applied.Kubernetes != 7500 {
		t.Fatalf("recorded target %d bp, applied %d bp; want 100%% recorded and 75%% applied", st.Target.Kubernetes, st.Applied.Kubernetes)
	}
	calls := len(e.rec.kubernetesShares())
	judged := 0
	e.cfg.OnEvaluate = func(*migrate.State, migrate.Decision) { judged++ }
	st, err = e.run(t, time.Minute)
	if err != nil || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("run after the stop: %v, phase %s", err, st.Phase)
	}
	if after := e.rec.kubernetesShares()[calls:]; fmt.Sprint(after) != "[10000]" || judged != 0 {
		t.Fatalf("after the stop the router was set to %v bp and the step judged %d times, want only 10000 and no judging", after, judged)
	}
}
