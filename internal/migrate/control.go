package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// errQueued means a request was left for the running process.
var errQueued = errors.New("request queued for the running migration")

// IsQueued reports whether err means the request went to a running process.
func IsQueued(err error) bool { return errors.Is(err, errQueued) }

// Control carries out a manual action: pause, resume, promote (skip the rest of the
// current step) or abort. When another process runs the migration, the request is
// queued for it, marked with the run it is meant for, and an error for which IsQueued
// is true returned; otherwise it is done here and now. A request is refused, and never
// queued, when no migration is recorded (ErrNoMigration) or the recorded one has ended.
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
		st, err := LoadState(ctx, cfg.Store, cfg.Plan)
		if errors.Is(err, ErrUnusableState) && st != nil && req.Action == "abort" {
			// The runner cannot save on it either: its next save fails and it stops.
			return abortAfresh(ctx, cfg, st.Version, err, req)
		}
		if err != nil {
			return err
		}
		if err := acceptable(st, req); err != nil {
			return err
		}
		req.Run = st.Run
		if err := cfg.Store.PutRequest(ctx, req); err != nil {
			return err
		}
		return errQueued
	}
	if err != nil {
		return err
	}
	defer unlock()
	st, err := LoadState(ctx, cfg.Store, cfg.Plan)
	if errors.Is(err, ErrUnusableState) && st != nil && req.Action == "abort" {
		return abortAfresh(ctx, cfg, st.Version, err, req)
	}
	if err != nil {
		return err
	}
	if err := acceptable(st, req); err != nil {
		return err
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
		if errors.Is(err, ErrAbortLimited) {
			return fmt.Errorf("%w (ferry migrate start, or another abort, sends back the rest as legacy recovers)", err)
		}
		return err
	}
	if err := r.applyTarget(ctx); err != nil {
		return err
	}
	return r.save(ctx)
}

// abortAfresh sends all traffic to legacy when the recorded state cannot be used: the
// router comes from the plan alone, and a fresh aborted state, saying why, replaces
// the record at version.
func abortAfresh(ctx context.Context, cfg Config, version string, cause error, req Request) error {
	now := cfg.now()
	reason := cmp.Or(req.Reason, "aborted by hand")
	st := &State{Name: cfg.Plan.Name, Run: newID(), Started: now, StepStarted: now,
		Target: traffic.KubernetesShare(0), Applied: traffic.KubernetesShare(0), Version: version}
	r := &runner{cfg: cfg, st: st}
	r.logf("the recorded state could not be used (%v): sending all traffic to legacy by the plan alone and recording a fresh aborted state", cause)
	err := r.abort(ctx, reason)
	if errors.Is(err, ErrAborted) {
		return nil
	}
	return err
}

// acceptable refuses a request the recorded state rules out: one for a migration that
// has ended, or anything but an abort for one that is aborting.
func acceptable(st *State, req Request) error {
	switch {
	case st.Phase.Done():
		return fmt.Errorf("the migration has already %s: nothing to %s", st.Phase, req.Action)
	case st.Phase == PhaseAborting && req.Action != "abort":
		return fmt.Errorf("the migration is aborting: nothing to %s (ferry migrate abort finishes the abort)", req.Action)
	}
	return nil
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

// handleRequests applies requests another process queued, in order, after admit has
// dropped those that must not act on this run. When one fails, it and those after it
// go back to the queue, in their places, for the next runner.
func (r *runner) handleRequests(ctx context.Context, reqs []Request) error {
	reqs, dropped := r.admit(reqs)
	if dropped && len(reqs) == 0 {
		if err := r.save(ctx); err != nil { // keep the log lines that say why
			return err
		}
	}
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

// admit returns the requests that may act on this run, logging each one it drops:
// those meant for another run (a request queued as its run ended must not steer the
// next one), those older than RequestExpiry but an abort, and, when the batch holds an
// abort, everything but the first abort: an abort wins over whatever was asked with
// it, before or after. While the run is aborting, only an abort is admitted.
func (r *runner) admit(reqs []Request) (admitted []Request, dropped bool) {
	aborting := r.st.Phase == PhaseAborting
	for _, req := range reqs {
		if req.Run == r.st.Run && req.Action == "abort" && !aborting {
			aborting = true
			admitted = []Request{req}
		}
	}
	now := r.cfg.now()
	drop := func(req Request, why string, args ...any) {
		r.logf("dropped the %s request %s: %s", req.Action, req.ID, fmt.Sprintf(why, args...))
		dropped = true
	}
	for _, req := range reqs {
		switch {
		case req.Run != r.st.Run:
			drop(req, "it was meant for run %s, this is run %s", cmp.Or(req.Run, "(none)"), r.st.Run)
		case aborting && req.Action != "abort":
			drop(req, "the migration is aborting")
		case aborting:
			if len(admitted) == 0 || admitted[0].ID != req.ID {
				drop(req, "an abort is already under way")
			}
		case now.Sub(req.At) > RequestExpiry:
			drop(req, "it expired (asked %s ago, requests last %s)", now.Sub(req.At).Round(time.Second), RequestExpiry)
		default:
			admitted = append(admitted, req)
		}
	}
	return admitted, dropped
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

// RequestExpiry is how long a queued request stays valid: a pause, resume or promote
// the runner takes later than this after it was asked (a runner busy with a slow router,
// a runner that died and was started again) is dropped with a log line, since whoever
// asked for it may have moved on. An abort of the same run is applied however late:
// sending all traffic back to legacy is what its asker was told would happen, and is
// always safe.
const RequestExpiry = 5 * time.Minute
