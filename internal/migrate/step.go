package migrate

import (
	"context"
	"errors"
	"fmt"
)

// Step runs one evaluation of the migration, the same one Start's loop runs between
// its waits, for a caller that schedules evaluations itself (the controller, once per
// reconcile): it begins the run when nothing is recorded (after the same preflight as
// Start), applies the queued requests, finishes an abort, applies the recorded target
// weight, judges the step and records the decision, each record saved before the
// action it announces. A migration that has ended is returned as it is: it is never
// started again here.
//
// An abort or a completion is a result, not an error: Step returns the state, whose
// Phase says so. After an error (ErrConflict above all) the caller must not act on
// the state returned; it loads the migration again at the next evaluation.
func Step(ctx context.Context, cfg Config) (*State, error) {
	unlock, err := cfg.Store.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := cfg.Store.Load(ctx)
	var notes []string
	switch {
	case errors.Is(err, ErrNoMigration):
		if notes, err = preflight(ctx, cfg); err != nil {
			return nil, err
		}
		if st, err = begin(ctx, cfg, ""); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case st.Phase.Done():
		return st, nil
	case st.Step >= len(cfg.Plan.Steps):
		return nil, fmt.Errorf("the recorded migration is at step %d but the plan has %d steps", st.Step+1, len(cfg.Plan.Steps))
	}
	r := &runner{cfg: cfg, st: st}
	for _, n := range notes {
		r.logf("%s", n)
	}
	if _, err := r.once(ctx, r.takeRequests(ctx)); err != nil && !errors.Is(err, ErrAborted) {
		return r.st, err
	}
	return r.st, nil
}
