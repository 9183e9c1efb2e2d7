package migrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
)

// stopAtFirstJudgement runs the migration until it judges its first weight and leaves
// it there with no runner, as a killed ferry migrate start would.
func (e *env) stopAtFirstJudgement(t *testing.T) *migrate.State {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), devclustertest.Patience(t, time.Minute))
	defer stop()
	cfg := e.cfg
	cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
		if st.Applied == st.Target {
			stop()
		}
	}
	st, err := migrate.Start(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want it stopped at its first judgement", err)
	}
	return st
}

// An abort queued with other requests wins: the pause and the promote queued after
// it, taken in the same batch, neither move the step nor finish the migration.
func TestAnAbortQueuedWithOtherRequestsWins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		step int // where the requests are made
	}{
		{"at the first step", 0},
		{"at the final step", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, runnerRate, "60s")
			errorGateOnly(e) // steps 50 %, 100 %
			var once sync.Once
			var queueErrs []error
			e.cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
				if st.Step != tc.step || st.Applied != st.Target {
					return
				}
				// The runner is busy in this call: all three wait for its next look.
				once.Do(func() {
					for _, action := range []string{"abort", "pause", "promote"} {
						queueErrs = append(queueErrs, migrate.Control(context.Background(), e.cfg, migrate.Request{Action: action, Reason: "by " + action}))
					}
				})
			}
			st, err := e.run(t, 2*time.Minute)
			for i, qerr := range queueErrs {
				if !migrate.IsQueued(qerr) {
					t.Fatalf("request %d: %v, want it queued for the runner", i, qerr)
				}
			}
			if !errors.Is(err, migrate.ErrAborted) || st.Phase != migrate.PhaseAborted {
				t.Fatalf("run: %v, phase %s; want the abort to stand", err, st.Phase)
			}
			if st.Step != tc.step || st.Applied.Kubernetes != 0 || st.Target.Kubernetes != 0 || e.kubernetesShare(t) != 0 {
				t.Fatalf("after the abort: step %d, applied %s, target %s, proxy %d bp; want step %d and all on legacy",
					st.Step+1, st.Applied, st.Target, e.kubernetesShare(t), tc.step+1)
			}
			for _, action := range []string{"pause", "promote"} {
				if !hasEvent(st, "dropped the "+action+" request") {
					t.Errorf("log does not say the %s was dropped: %v", action, st.Events)
				}
			}
		})
	}
}

// A request queued for a run that has ended (its runner exited between the request's
// check and its queueing) is dropped by the next run, not applied to it.
func TestARequestForAnotherRunIsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	old := e.stopAtFirstJudgement(t)
	if err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "abort"}); err != nil {
		t.Fatalf("abort with no runner: %v", err)
	}
	stale := migrate.Request{ID: "stale", Action: "promote", Run: old.Run, At: time.Now()}
	if err := e.cfg.Store.PutRequest(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	st := e.stopAtFirstJudgement(t)
	if st.Run == old.Run || st.Step != 0 || e.rec.maxKubernetes() > e.cfg.Plan.Steps[0].BasisPoints {
		t.Fatalf("new run %s at step %d (router max %d bp): the old run's promote moved it", st.Run, st.Step+1, e.rec.maxKubernetes())
	}
	if !hasEvent(st, "dropped the promote request stale: it was meant for run "+old.Run) {
		t.Fatalf("log does not say the stale promote was dropped: %v", st.Events)
	}
}

// A request older than RequestExpiry is dropped with a log line.
func TestAnExpiredRequestIsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, runnerRate, "60s")
	st := e.stopAtFirstJudgement(t)
	old := migrate.Request{ID: "old", Action: "pause", Run: st.Run, At: time.Now().Add(-migrate.RequestExpiry - time.Minute)}
	if err := e.cfg.Store.PutRequest(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	st = e.stopAtFirstJudgement(t)
	if st.Phase != migrate.PhaseRunning || !hasEvent(st, "dropped the pause request old: it expired") {
		t.Fatalf("phase %s, log %v; want the expired pause dropped", st.Phase, st.Events)
	}
}

// A request made while a process holds the lock but no migration is recorded, or the
// recorded one has ended, is refused and never queued.
func TestARequestWithoutALiveMigrationIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env)
		want  string
	}{
		{"nothing recorded", func(*testing.T, *env) {}, "no migration recorded"},
		{"the recorded one aborted", func(t *testing.T, e *env) {
			e.stopAtFirstJudgement(t)
			if err := migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "abort"}); err != nil {
				t.Fatal(err)
			}
		}, "the migration has already aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 50, "60s")
			tc.setup(t, e)
			unlock, err := e.cfg.Store.Lock(context.Background()) // a runner starting up
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			err = migrate.Control(context.Background(), e.cfg, migrate.Request{Action: "promote"})
			if err == nil || migrate.IsQueued(err) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("promote: %v, want a one-line refusal saying %q", err, tc.want)
			}
			if reqs, err := e.cfg.Store.TakeRequests(context.Background()); err != nil || len(reqs) != 0 {
				t.Fatalf("queue after the refusal: %+v, %v; want it empty", reqs, err)
			}
		})
	}
}
