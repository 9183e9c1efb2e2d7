package migrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
)

// recorder is the router with a record of every split it was asked to apply.
type recorder struct {
	traffic.Router
	mu    sync.Mutex
	calls []traffic.Weights
}

func (r *recorder) SetWeights(ctx context.Context, w traffic.Weights) error {
	r.mu.Lock()
	r.calls = append(r.calls, w)
	r.mu.Unlock()
	return r.Router.SetWeights(ctx, w)
}

// count is the number of SetWeights calls so far.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// kubernetesShares are the Kubernetes shares the router was asked for, in order.
func (r *recorder) kubernetesShares() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, 0, len(r.calls))
	for _, w := range r.calls {
		out = append(out, w.Kubernetes)
	}
	return out
}

// maxKubernetes is the largest Kubernetes share the router was asked for.
func (r *recorder) maxKubernetes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := 0
	for _, w := range r.calls {
		m = max(m, w.Kubernetes)
	}
	return m
}

// When another process saves the migration's state while a runner decides (a runner
// whose lock lapsed, say), the runner's next save conflicts and it stops without
// setting another weight.
func TestARunnerWhoseSaveConflictsSetsNoFurtherWeight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	errorGateOnly(e) // steps 50 %, 100 %
	other := &migrate.FileStore{Path: e.cfg.Plan.State}
	callsAtConflict := -1
	e.cfg.OnEvaluate = func(st *migrate.State, d migrate.Decision) {
		if d.Action != migrate.ActionAdvance || callsAtConflict >= 0 {
			return
		}
		theirs, err := other.Load(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		theirs.Reason = "saved by another process"
		if err := other.Save(context.Background(), theirs); err != nil {
			t.Error(err)
		}
		callsAtConflict = e.rec.count()
	}
	st, err := e.run(t, time.Minute)
	if !errors.Is(err, migrate.ErrConflict) {
		t.Fatalf("run: %v (phase %s at step %d), want ErrConflict", err, st.Phase, st.Step+1)
	}
	if callsAtConflict < 0 {
		t.Fatal("the runner never decided to advance")
	}
	if n := e.rec.count(); n != callsAtConflict {
		t.Fatalf("%d SetWeights calls after the conflicting save", n-callsAtConflict)
	}
	if got, stepBP := e.rec.maxKubernetes(), e.cfg.Plan.Steps[0].BasisPoints; got > stepBP {
		t.Fatalf("kubernetes was given %d bp, above the first step's %d", got, stepBP)
	}
	recorded, err := other.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if recorded.Reason != "saved by another process" || recorded.Step != 0 {
		t.Fatalf("recorded step %d, reason %q: the losing save wrote", recorded.Step+1, recorded.Reason)
	}
}
