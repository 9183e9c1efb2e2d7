package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"

	"ferry.dev/ferry/internal/traffic"
)

// errQueued means a request was left for the running process.
var errQueued = errors.New("request queued for the running migration")

// ErrQueued reports whether err means the request went to a running process.
func ErrQueued(err error) bool { return errors.Is(err, errQueued) }

// Control carries out a manual action: pause, resume, promote (skip the rest of the
// current step) or abort. When another process runs the migration, the action is
// left for it and errQueued returned; otherwise it is done here and now.
func Control(ctx context.Context, cfg Config, req Request) error {
	switch req.Action {
	case "pause", "resume", "promote", "abort":
	default:
		return fmt.Errorf("unknown action %q", req.Action)
	}
	req.At = cfg.now()
	unlock, err := cfg.Store.Lock()
	if errors.Is(err, ErrRunnerActive) {
		if err := cfg.Store.PutRequest(req); err != nil {
			return err
		}
		return errQueued
	}
	if err != nil {
		return err
	}
	defer unlock()
	st, err := cfg.Store.Load()
	if err != nil {
		return err
	}
	if st.Phase.Done() {
		return fmt.Errorf("the migration has already %s", st.Phase)
	}
	r := &runner{cfg: cfg, st: st}
	if err := r.apply(ctx, req); err != nil {
		if errors.Is(err, errOnComplete) {
			_ = r.save() // keep the log line that says why
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
		return fmt.Errorf("apply weights: %w", err)
	}
	return r.save()
}

// handleRequest applies a request another process left, if any.
func (r *runner) handleRequest(ctx context.Context) error {
	req, err := r.cfg.Store.TakeRequest()
	if err != nil || req == nil {
		return err
	}
	err = r.apply(ctx, *req)
	if errors.Is(err, errOnComplete) {
		return r.save() // logged; the loop keeps the final step and tries again
	}
	return err
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
		if err := r.advance("promoted by hand " + reason); err != nil {
			return err
		}
	case "abort":
		if reason == "" {
			reason = "aborted by hand"
		}
		r.st.Phase, r.st.Reason = PhaseAborting, reason
		r.st.Target = traffic.KubernetesShare(0)
		r.logf("aborting: %s", reason)
	}
	return r.save()
}

// peekRequest reports whether a request is waiting, without taking it.
func (f *FileStore) peekRequest() (struct{}, error) {
	_, err := os.Stat(f.Path + ".request")
	return struct{}{}, err
}
