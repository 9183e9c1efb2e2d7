package migrate

import (
	"context"
	"errors"
	"fmt"

	"ferry.dev/ferry/internal/traffic"
)

// errQueued means a request was left for the running process.
var errQueued = errors.New("request queued for the running migration")

// IsQueued reports whether err means the request went to a running process.
func IsQueued(err error) bool { return errors.Is(err, errQueued) }

// Control carries out a manual action: pause, resume, promote (skip the rest of the
// current step) or abort. When another process runs the migration, the request is
// queued for it (marked with the run it was meant for) and an error for which IsQueued
// is true returned; otherwise it is done here and now.
func Control(ctx context.Context, cfg Config, req Request) error {
	switch req.Action {
	case "pause", "resume", "promote", "abort":
	default:
		return fmt.Errorf("unknown action %q", req.Action)
	}
	req.At = cfg.now()
	if req.ID == "" {
		req.ID = newID()
	}
	unlock, err := cfg.Store.Lock(ctx)
	if errors.Is(err, ErrRunnerActive) {
		if st, err := cfg.Store.Load(ctx); err == nil {
			req.Run = st.Run
		}
		if err := cfg.Store.PutRequest(ctx, req); err != nil {
			return err
		}
		return errQueued
	}
	if err != nil {
		return err
	}
	defer unlock()
	st, err := cfg.Store.Load(ctx)
	if err != nil {
		return err
	}
	if st.Phase.Done() {
		return fmt.Errorf("the migration has already %s", st.Phase)
	}
	req.Run = st.Run
	r := &runner{cfg: cfg, st: st}
	if err := r.apply(ctx, req); err != nil {
		if errors.Is(err, errOnComplete) {
			_ = r.save(ctx) // keep the log line that says why
		}
		return err
	}
	if r.st.Phase == PhaseAborting {
		err := r.abort(ctx, r.st.Reason)
		if errors.Is(err, ErrAborted) {
			return nil
		}
		return err
	}
	if err := r.applyTarget(ctx); err != nil {
		return err
	}
	return r.save(ctx)
}

// takeRequests takes the queued requests; a store that cannot give them is logged
// (once per distinct error) and the run goes on without them.
func (r *runner) takeRequests(ctx context.Context) []Request {
	reqs, err := r.cfg.Store.TakeRequests(ctx)
	if err != nil {
		if msg := err.Error(); msg != r.takeErr {
			r.logf("manual requests: %v", err)
			r.takeErr = msg
		}
	} else {
		r.takeErr = ""
	}
	return reqs
}

// handleRequests applies requests another process queued, in order. When one fails,
// it and those after it go back to the queue, in their places, for the next runner.
func (r *runner) handleRequests(ctx context.Context, reqs []Request) error {
	for i, req := range reqs {
		err := r.apply(ctx, req)
		if errors.Is(err, errOnComplete) {
			err = r.save(ctx) // logged; the loop keeps the final step and tries again
		}
		if err != nil {
			var errs []error
			for _, back := range reqs[i:] {
				errs = append(errs, r.cfg.Store.PutRequest(ctx, back))
			}
			if perr := errors.Join(errs...); perr != nil {
				return fmt.Errorf("%w (and the requests could not be queued again: %w)", err, perr)
			}
			return err
		}
	}
	return nil
}

// apply changes the recorded state for a manual action; the runner's loop or the
// caller carries out the weights.
func (r *runner) apply(ctx context.Context, req Request) error {
	reason := req.Reason
	switch req.Action {
	case "pause":
		if r.st.Phase == PhaseRunning {
			r.st.Phase = PhasePaused
			r.logf("paused by hand %s", reason)
		}
	case "resume":
		if r.st.Phase == PhasePaused {
			r.st.Phase = PhaseRunning
			r.logf("resumed by hand %s", reason)
		}
	case "promote":
		if r.st.Step == len(r.cfg.Plan.Steps)-1 {
			return r.complete(ctx, "promoted by hand "+reason)
		}
		return r.advance(ctx, "promoted by hand "+reason)
	case "abort":
		if reason == "" {
			reason = "aborted by hand"
		}
		r.st.Phase, r.st.Reason = PhaseAborting, reason
		r.st.Target = traffic.KubernetesShare(0)
		r.logf("aborting: %s", reason)
	}
	return r.save(ctx)
}
