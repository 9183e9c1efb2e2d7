package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

// MetricSource gives both sides' traffic for the gates.
type MetricSource interface {
	// Sample returns the legacy and the new side's requests, errors and latency over
	// the window from since until now.
	Sample(ctx context.Context, since time.Time) (analysis.Sample, error)
}

// Config is what a migration run needs; providers.Config builds it from a plan.
type Config struct {
	Plan    *plan.Plan
	Router  traffic.Router
	Metrics MetricSource
	// Store keeps the state and the manual requests; a run holds its lock and stops
	// at the first save that conflicts.
	Store  Store
	Gates  []analysis.Gate
	Notify *Notifier
	// Capacity, when set, is asked before every step up and before an abort sends
	// traffic back, so that legacy is never sent more than it can take (the
	// legacy-capacity guard, see guard.go); nil turns the guard off.
	Capacity CapacitySource
	// OnEvaluate is called after every evaluation, for the live view.
	OnEvaluate func(st *State, d Decision)
	// OnEvent receives each line logged to the state.
	OnEvent func(e Event)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnStart, when set, runs before a run changes anything, once the router and the
	// metric source have answered; an error refuses the run. What it logs goes to the
	// migration's log.
	OnStart func(ctx context.Context, logf func(format string, args ...any)) error
	// OnComplete, when set, runs when the final step passes or is promoted, before the
	// migration is recorded as completed. An error keeps the migration at its final
	// step, logged, and it runs again at the next evaluation; it must be idempotent.
	OnComplete func(ctx context.Context, logf func(format string, args ...any)) error
}

// errOnComplete marks a failed OnComplete: the migration holds at its final step.
var errOnComplete = errors.New("on completion")

// ErrAborted is returned when a run ends in an abort.
var ErrAborted = errors.New("migration aborted")

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// runner is one process running the migration, holding its lock.
type runner struct {
	cfg Config
	st  *State
	// takeErr is the last error taking requests, logged once.
	takeErr string
}

func (r *runner) logf(format string, args ...any) {
	r.st.log(r.cfg.now(), format, args...)
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(r.st.Events[len(r.st.Events)-1])
	}
}

// save records the state. After an ErrConflict the runner must not act again: the
// state it decided on is no longer the migration's.
func (r *runner) save(ctx context.Context) error {
	r.st.Updated = r.cfg.now()
	return r.cfg.Store.Save(ctx, r.st)
}

// Start begins the migration at its first step, or continues the recorded one if it
// has not ended, and runs it until it completes, aborts, or ctx ends.
func Start(ctx context.Context, cfg Config) (*State, error) {
	unlock, err := cfg.Store.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	notes, err := preflight(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st, err := LoadState(ctx, cfg.Store, cfg.Plan)
	resumed := err == nil && !st.Phase.Done()
	switch {
	case errors.Is(err, ErrNoMigration) || (err == nil && st.Phase.Done()):
		var version string // the ended run's record, which the new one replaces
		if st != nil {
			version = st.Version
		}
		if st, err = begin(ctx, cfg, version); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	r := &runner{cfg: cfg, st: st}
	if resumed {
		r.logf("continuing %s at step %d (%s)", st.Phase, st.Step+1, traffic.FormatPercent(cfg.Plan.Steps[st.Step].BasisPoints))
	}
	for _, n := range notes {
		r.logf("%s", n)
	}
	return r.loop(ctx)
}

// preflight checks the router and the metric source answer before anything changes,
// then runs OnStart; it returns the lines OnStart logged, for the migration's log.
func preflight(ctx context.Context, cfg Config) ([]string, error) {
	for _, c := range CheckProviders(ctx, cfg) {
		if c.Failed() {
			return nil, c.Err
		}
	}
	callCtx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	var notes []string
	if cfg.OnStart != nil {
		logf := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
		if err := cfg.OnStart(callCtx, logf); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// routerTimeout bounds one SetWeights call: longer for routers that wait for their
// change to spread.
func routerTimeout(rt traffic.Router) time.Duration {
	if s, ok := rt.(traffic.Settler); ok {
		return max(s.ApplyTimeout(), 30*time.Second)
	}
	return 30 * time.Second
}

// settleTime is how long clients may follow the previous split after SetWeights.
func settleTime(rt traffic.Router) time.Duration {
	if s, ok := rt.(traffic.Settler); ok {
		return s.SettleTime()
	}
	return 0
}

// Resume un-pauses a recorded migration and runs it (see Start).
func Resume(ctx context.Context, cfg Config) (*State, error) {
	if err := Control(ctx, cfg, Request{Action: "resume"}); err != nil && !IsQueued(err) {
		return nil, err
	}
	return Start(ctx, cfg)
}

// begin records a new run at the first step, replacing the record at version (empty:
// nothing recorded).
func begin(ctx context.Context, cfg Config, version string) (*State, error) {
	now := cfg.now()
	st := &State{Name: cfg.Plan.Name, Run: newID(), Phase: PhaseRunning, Started: now, StepStarted: now, Version: version}
	st.Target = traffic.KubernetesShare(cfg.Plan.Judged(0))
	st.Applied = traffic.KubernetesShare(0)
	r := &runner{cfg: cfg, st: st}
	r.logf("migration %s started: %d steps", cfg.Plan.Name, len(cfg.Plan.Steps))
	if err := r.save(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

func (r *runner) loop(ctx context.Context) (*State, error) {
	reqs := r.takeRequests(ctx)
	for {
		if done, err := r.once(ctx, reqs); done || err != nil {
			return r.st, err
		}
		var err error
		if reqs, err = r.wait(ctx); err != nil {
			return r.st, err
		}
	}
}

// once is one evaluation: it applies the requests taken, finishes an abort, applies
// the target weight, then judges the step and acts on the decision. done is true when
// the run has ended or must stop.
func (r *runner) once(ctx context.Context, reqs []Request) (done bool, err error) {
	if err := r.handleRequests(ctx, reqs); err != nil {
		return true, err
	}
	switch r.st.Phase {
	case PhaseAborting:
		return r.aborted(r.abort(ctx, r.st.Reason))
	case PhaseAborted:
		return true, fmt.Errorf("%w: %s", ErrAborted, r.st.Reason)
	case PhaseCompleted:
		return true, nil
	}
	if err := r.applyTarget(ctx); errors.Is(err, errRouter) {
		return false, r.holdOnRouter(ctx, err)
	} else if err != nil {
		return true, err
	} else if r.st.Phase == PhaseRunning && r.finishing() {
		return r.finish(ctx, "every gate passed beside the control")
	} else if r.st.Phase == PhaseRunning {
		return r.evaluate(ctx)
	} else if r.cfg.OnEvaluate != nil {
		r.cfg.OnEvaluate(r.st, Decision{ActionHold, "paused"})
	}
	return false, nil
}

// requestPoll is how often a waiting runner looks for manual requests.
const requestPoll = 200 * time.Millisecond

// wait waits for the next evaluation; a manual request ends the wait early, and wait
// returns the requests it took.
func (r *runner) wait(ctx context.Context) ([]Request, error) {
	deadline := time.Now().Add(r.cfg.Plan.Interval)
	for {
		if reqs := r.takeRequests(ctx); len(reqs) > 0 {
			return reqs, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(requestPoll, left)):
		}
	}
}

// errRouter marks a failed SetWeights, which the loop retries.
var errRouter = errors.New("router")

// applyTarget makes the router apply the recorded target weights if it does not yet.
// A router failure wraps errRouter; a failed save is returned as it is.
func (r *runner) applyTarget(ctx context.Context) error {
	if r.st.Applied == r.st.Target {
		return r.reassert(ctx)
	}
	callCtx, cancel := context.WithTimeout(ctx, routerTimeout(r.cfg.Router))
	defer cancel()
	if err := r.cfg.Router.SetWeights(callCtx, r.st.Target); err != nil {
		return fmt.Errorf("%w: %w", errRouter, err)
	}
	r.st.Applied = r.st.Target
	r.st.StepStarted = r.cfg.now()
	r.logf("weights applied: %s", r.st.Applied)
	return r.save(ctx)
}

// reassert sets the applied weights again on a router over instances that come and
// go (traffic.Fleet), so that one that appeared since the last evaluation gets them.
// Other routers keep what they were told; nothing is logged when nothing changed.
func (r *runner) reassert(ctx context.Context) error {
	f, ok := r.cfg.Router.(traffic.Fleet)
	if !ok {
		return nil
	}
	callCtx, cancel := context.WithTimeout(ctx, routerTimeout(r.cfg.Router))
	defer cancel()
	if err := f.EnsureWeights(callCtx, r.st.Applied); err != nil {
		return fmt.Errorf("%w: %w", errRouter, err)
	}
	return nil
}

// holdOnRouter holds the step after a router failure: the step is not judged while
// its weight is not applied everywhere. The failure, which names what could not be
// reached, is the hold's reason; it is logged and recorded when it differs from the
// last line logged, so a failure that lasts is recorded once, not at every
// evaluation.
func (r *runner) holdOnRouter(ctx context.Context, err error) error {
	line := fmt.Sprintf("%v (holding; retrying)", err)
	if r.cfg.OnEvaluate != nil {
		r.cfg.OnEvaluate(r.st, Decision{ActionHold, err.Error()})
	}
	if n := len(r.st.Events); n > 0 && r.st.Events[n-1].Message == line {
		return nil
	}
	r.logf("%s", line)
	return r.save(ctx)
}

// evaluate judges the step and acts; done is true when the run has ended. The window
// starts once the router's change has settled and the warm-up has passed.
func (r *runner) evaluate(ctx context.Context) (bool, error) {
	from := r.st.StepStarted.Add(settleTime(r.cfg.Router) + r.cfg.Plan.Warmup)
	if r.cfg.now().Before(from) {
		d := Decision{ActionHold, fmt.Sprintf("warming up for %s after the weight change", from.Sub(r.cfg.now()).Round(time.Second))}
		if r.cfg.OnEvaluate != nil {
			r.cfg.OnEvaluate(r.st, d)
		}
		return false, nil
	}
	sample, err := r.cfg.Metrics.Sample(ctx, from)
	if err != nil {
		r.logf("metrics: %v (holding)", err)
		sample = analysis.Sample{}
	}
	if r.cfg.Plan.Judged(r.st.Step) == traffic.Total {
		if r.st.Reference != nil {
			sample.Legacy, sample.Shifted = *r.st.Reference, true
		}
	} else if sample.New.Requests > 0 {
		ref := sample.New
		r.st.Reference = &ref
	}
	results := make([]analysis.Result, 0, len(r.cfg.Gates))
	for _, g := range r.cfg.Gates {
		results = append(results, g.Evaluate(sample))
	}
	r.st.Gates, r.st.Sample = results, &sample
	d := r.guardStepUp(ctx, Decide(r.cfg.Plan, r.st, results, sample.New.Requests, r.cfg.now()))
	if r.cfg.OnEvaluate != nil {
		r.cfg.OnEvaluate(r.st, d)
	}
	switch d.Action {
	case ActionAbort:
		return r.aborted(r.abort(ctx, d.Reason))
	case ActionAdvance:
		return false, r.advance(ctx, d.Reason)
	case ActionComplete:
		if r.cfg.Plan.Judged(r.st.Step) < traffic.Total {
			// Judged beside a control: record 100 % before applying it, then finish.
			r.st.Target = traffic.KubernetesShare(traffic.Total)
			r.logf("%s: %s to kubernetes", d.Reason, traffic.FormatPercent(traffic.Total))
			if err := r.save(ctx); err != nil {
				return true, err
			}
			if err := r.applyTarget(ctx); errors.Is(err, errRouter) {
				return false, r.holdOnRouter(ctx, err)
			} else if err != nil {
				return true, err
			}
		}
		return r.finish(ctx, d.Reason)
	}
	return false, r.save(ctx)
}

// finishing reports whether the last step passed beside its control and its 100 %
// is applied: only a pass there records a target of 100 % for a step judged below it.
func (r *runner) finishing() bool {
	last := len(r.cfg.Plan.Steps) - 1
	return r.st.Step == last && r.cfg.Plan.Judged(last) < traffic.Total && r.st.Applied.Kubernetes == traffic.Total
}

// finish completes the migration and notifies; while OnComplete fails it holds at
// the last step and tries again at the next evaluation.
func (r *runner) finish(ctx context.Context, reason string) (bool, error) {
	if err := r.complete(ctx, reason); errors.Is(err, errOnComplete) {
		return false, r.save(ctx)
	} else if err != nil {
		return true, err
	}
	r.notify(ctx, "completed", reason)
	return true, nil
}

// complete runs OnComplete, then records the migration as completed. When OnComplete
// fails, the migration stays at its final step and the error wraps errOnComplete.
func (r *runner) complete(ctx context.Context, reason string) error {
	if r.cfg.OnComplete != nil {
		if err := r.cfg.OnComplete(ctx, r.logf); err != nil {
			r.logf("on completion: %v (holding at the final step; trying again)", err)
			return fmt.Errorf("%w: %w", errOnComplete, err)
		}
	}
	r.st.Phase = PhaseCompleted
	r.logf("completed: %s", reason)
	return r.save(ctx)
}

// advance records the next step before its weight is applied, so a crash in between
// re-applies it rather than exceeding it.
func (r *runner) advance(ctx context.Context, reason string) error {
	r.st.Step++
	r.st.Target = traffic.KubernetesShare(r.cfg.Plan.Judged(r.st.Step))
	r.st.Gates, r.st.Sample = nil, nil
	r.logf("step %d: %s to kubernetes (%s)", r.st.Step+1, traffic.FormatPercent(r.st.Target.Kubernetes), reason)
	return r.save(ctx)
}

// aborted turns abort's outcome into once's: an abort that legacy's capacity limited
// is not done, and the next evaluation carries it on.
func (r *runner) aborted(err error) (done bool, _ error) {
	if errors.Is(err, ErrAbortLimited) {
		return false, nil
	}
	return true, err
}

// abort records the abort, sends all traffic to legacy in one router call (retrying
// until it succeeds or ctx ends), records the outcome and notifies. With the
// legacy-capacity guard on, it sends legacy only as much as it can take: the
// migration then stays aborting, the first such limit is alerted, and abort returns
// an error wrapping ErrAbortLimited; called again, it sends back more as legacy
// recovers.
func (r *runner) abort(ctx context.Context, reason string) error {
	if r.st.Phase != PhaseAborting {
		r.st.Phase, r.st.Reason = PhaseAborting, reason
		r.st.Target = traffic.KubernetesShare(0)
		r.logf("aborting: %s", reason)
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	target, limit, kind := r.abortTarget(ctx)
	if target != r.st.Applied || limit == "" {
		if err := r.setAbortWeights(ctx, target); err != nil {
			return err
		}
	}
	if limit != "" {
		return r.limitedAbort(ctx, target, limit, kind)
	}
	r.st.Applied, r.st.Guard = target, ""
	r.st.Phase = PhaseAborted
	r.logf("aborted: all traffic back to legacy")
	if err := r.save(ctx); err != nil {
		return err
	}
	r.notify(ctx, "aborted", r.st.Reason)
	return fmt.Errorf("%w: %s", ErrAborted, r.st.Reason)
}

// setAbortWeights sets an abort's weights in one router call, retrying until it
// succeeds or ctx ends.
func (r *runner) setAbortWeights(ctx context.Context, w traffic.Weights) error {
	backoff := 200 * time.Millisecond
	for {
		callCtx, cancel := context.WithTimeout(ctx, routerTimeout(r.cfg.Router))
		err := r.cfg.Router.SetWeights(callCtx, w)
		cancel()
		if err == nil {
			return nil
		}
		r.logf("abort: router: %v (retrying)", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("abort interrupted before the weights went back to legacy (run it again to finish): %w", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// limitedAbort records an abort that sent legacy only what it can take (applied
// now): logged and saved when the weights or the reason changed, alerted the first
// time.
func (r *runner) limitedAbort(ctx context.Context, applied traffic.Weights, limit, kind string) error {
	const prefix = "abort limited: "
	first := !strings.HasPrefix(r.st.Guard, prefix)
	if applied != r.st.Applied {
		kind = "" // new weights: always logged
	}
	if r.guardNote(prefix+limit, prefix+kind) || first {
		r.st.Applied = applied
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	if first {
		r.notify(ctx, "abort-limited", r.st.Reason+"; "+r.st.Guard)
	}
	if r.cfg.OnEvaluate != nil {
		r.cfg.OnEvaluate(r.st, Decision{ActionAbort, r.st.Guard})
	}
	return fmt.Errorf("%w: %s", ErrAbortLimited, limit)
}

// notify tells every receiver of the migration's end; a receiver that fails is logged
// and the log saved.
func (r *runner) notify(ctx context.Context, event, reason string) {
	if r.cfg.Notify == nil {
		return
	}
	n := Notice{Migration: r.st.Name, Event: event, Step: traffic.FormatPercent(r.cfg.Plan.Steps[r.st.Step].BasisPoints),
		Weights: r.st.Applied, Reason: reason, Time: r.cfg.now().UTC()}
	errs := r.cfg.Notify.Send(ctx, n)
	for _, err := range errs {
		r.logf("%v", err) // redacted by Send
	}
	if len(errs) > 0 {
		// Recorded, so that a failure outlives the process that saw it (a manual abort
		// with no runner ends right after). A conflict here changes nothing: the
		// migration has ended and the lines went to OnEvent.
		_ = r.save(ctx)
	}
}
