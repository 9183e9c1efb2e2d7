package migrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
)

func hasEvent(st *migrate.State, substr string) bool {
	for _, e := range st.Events {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

// errorGateOnly judges by error rate alone: these tests are about the runner's hooks,
// and a latency verdict on a machine busy with other work would only add noise.
// Two steps (50 %, 100 %) are enough to reach the final one.
func errorGateOnly(e *env) {
	e.cfg.Gates = []analysis.Gate{analysis.ErrorRateGate{MinAbsolute: 0.1}}
	e.cfg.Plan.Steps = e.cfg.Plan.Steps[len(e.cfg.Plan.Steps)-2:]
}

func TestOnCompleteRunsAtFullShareAndIsRetriedUntilItSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	errorGateOnly(e)
	var calls []int // the Kubernetes share when the hook ran
	e.cfg.OnStart = func(_ context.Context, logf func(string, ...any)) error {
		logf("held 2 CronJobs")
		return nil
	}
	e.cfg.OnComplete = func(_ context.Context, logf func(string, ...any)) error {
		calls = append(calls, e.kubernetesShare(t))
		if len(calls) == 1 {
			return errors.New("the API server is away")
		}
		logf("stop the legacy cron entries now")
		return nil
	}
	st, err := e.run(t, 2*time.Minute)
	if err != nil || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("run: %v, phase %s", err, st.Phase)
	}
	if len(calls) != 2 || calls[0] != traffic.Total || calls[1] != traffic.Total {
		t.Fatalf("OnComplete ran %d times at shares %v, want twice at 100%%", len(calls), calls)
	}
	for _, want := range []string{"held 2 CronJobs", "on completion: the API server is away (holding", "stop the legacy cron entries now", "completed: every gate passed"} {
		if !hasEvent(st, want) {
			t.Errorf("log lacks %q: %v", want, st.Events)
		}
	}
	if notices := e.hook.got(); len(notices) != 1 || notices[0].Event != "completed" {
		t.Errorf("notices %+v, want one completion", notices)
	}
}

func TestOnStartErrorRefusesTheRunBeforeAnyChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 50, "60s")
	e.cfg.OnStart = func(context.Context, func(string, ...any)) error {
		return errors.New("no CronJob matches app=shop in namespace shop")
	}
	st, err := e.run(t, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "no CronJob matches") || st != nil {
		t.Fatalf("run: %v (state %+v), want the hook's error and no run", err, st)
	}
	if _, err := e.cfg.Store.Load(context.Background()); !errors.Is(err, migrate.ErrNoMigration) {
		t.Fatalf("a state was recorded: %v", err)
	}
	if got := e.kubernetesShare(t); got != 0 {
		t.Fatalf("kubernetes gets %d bp after a refused start", got)
	}
}

func TestPromoteByHandAtTheFinalStepRunsOnComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	errorGateOnly(e)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	e.cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
		if st.Step == len(e.cfg.Plan.Steps)-1 {
			stop() // leave the migration at its final step, no runner
		}
	}
	e.cfg.OnComplete = func(context.Context, func(string, ...any)) error { return errors.New("forbidden") }
	if _, err := migrate.Start(ctx, e.cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want it stopped at the final step", err)
	}
	e.cfg.OnEvaluate = nil
	err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "promote"})
	if err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("promote with a failing OnComplete: %v, want its error", err)
	}
	if st, _ := e.cfg.Store.Load(context.Background()); st.Phase != migrate.PhaseRunning || !hasEvent(st, "on completion: forbidden") {
		t.Fatalf("after a failed OnComplete: phase %s, events %v", st.Phase, st.Events)
	}
	ran := false
	e.cfg.OnComplete = func(context.Context, func(string, ...any)) error { ran = true; return nil }
	if err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "promote"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.cfg.Store.Load(context.Background()); !ran || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("promote: hook ran %v, phase %s", ran, st.Phase)
	}
}

// settling is the proxy with a settle time and apply timeout, as weighted DNS has.
type settling struct {
	traffic.Router
	settle, apply time.Duration
	mu            sync.Mutex
	budget        []time.Duration // time left on each SetWeights context
}

func (s *settling) SetWeights(ctx context.Context, w traffic.Weights) error {
	if d, ok := ctx.Deadline(); ok {
		s.mu.Lock()
		s.budget = append(s.budget, time.Until(d))
		s.mu.Unlock()
	}
	return s.Router.SetWeights(ctx, w)
}
func (s *settling) ApplyTimeout() time.Duration { return s.apply }
func (s *settling) SettleTime() time.Duration   { return s.settle }

func TestSettleTimeIsKeptOutOfTheStepWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 200, "60s")
	router := &settling{Router: e.cfg.Router, settle: 2 * time.Second, apply: 3 * time.Minute}
	e.cfg.Router = router
	var mu sync.Mutex
	var firstJudged time.Duration // after the weight change, of the first non-warm-up evaluation
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	e.cfg.OnEvaluate = func(st *migrate.State, d migrate.Decision) {
		if st.Applied != st.Target || strings.HasPrefix(d.Reason, "warming up") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if firstJudged == 0 {
			firstJudged = time.Since(st.StepStarted)
			stop()
		}
	}
	if _, err := migrate.Start(ctx, e.cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
	want := router.settle + e.cfg.Plan.Warmup
	if firstJudged < want {
		t.Fatalf("first judged %s after the weight change, want at least settle %s + warm-up %s", firstJudged, router.settle, e.cfg.Plan.Warmup)
	}
	if len(router.budget) == 0 || router.budget[0] < 2*time.Minute {
		t.Fatalf("SetWeights got %v to finish, want the router's apply timeout of %s", router.budget, router.apply)
	}
}
