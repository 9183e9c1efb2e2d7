package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

// Phase is where a migration stands.
type Phase string

// Phases. Aborting is recorded before the weights go back to legacy, so a run killed
// in between finishes the abort when it starts again.
const (
	PhaseRunning   Phase = "running"
	PhasePaused    Phase = "paused"
	PhaseAborting  Phase = "aborting"
	PhaseAborted   Phase = "aborted"
	PhaseCompleted Phase = "completed"
)

// Done reports whether the migration has ended.
func (p Phase) Done() bool { return p == PhaseAborted || p == PhaseCompleted }

// State is a migration's record: written before every action it takes.
type State struct {
	Name string `json:"name"`
	// Run identifies one run of the plan, from its start to its end: a migration
	// started again after an abort is a new run.
	Run   string `json:"run,omitempty"`
	Phase Phase  `json:"phase"`
	// Step is the index of the current step in the plan.
	Step        int       `json:"step"`
	StepStarted time.Time `json:"stepStarted"`
	// Target is the weight the current step (or an abort) calls for; Applied is the
	// weight the router last confirmed. Applied never exceeds the current step's.
	Target  traffic.Weights `json:"target"`
	Applied traffic.Weights `json:"applied"`
	// Gates are the latest verdicts of the current step.
	Gates []analysis.Result `json:"gates,omitempty"`
	// Sample is the latest window the gates judged.
	Sample *analysis.Sample `json:"sample,omitempty"`
	// Reference is what the final step compares with: with all traffic on Kubernetes
	// there is no live legacy side, so the Kubernetes side as it was at the previous
	// step — already judged against legacy then — stands in for it.
	Reference *analysis.Side `json:"reference,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	// Guard is the legacy-capacity guard's latest finding: why it holds the step, why
	// an abort sent back only part of the traffic, or that it cannot check; empty
	// when it has nothing to say.
	Guard string `json:"guard,omitempty"`
	// LegacyServers is how many legacy servers the router knew at the guard's first
	// check of the migration: the fleet that carried all of the traffic. Servers it no
	// longer knows later count as down (see runner.rememberFleet).
	LegacyServers int       `json:"legacyServers,omitempty"`
	Started       time.Time `json:"started"`
	Updated       time.Time `json:"updated"`
	Events        []Event   `json:"events,omitempty"`
	// Version is the store's version of the record this state was loaded from or last
	// saved as (a revision counter, a resourceVersion); the next Save succeeds only if
	// the record is still at it. Empty: nothing recorded yet. Opaque to the runner.
	Version string `json:"-"`
}

// Event is one line of a migration's log.
type Event struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// maxEvents bounds the log kept in the state.
const maxEvents = 200

func (s *State) log(now time.Time, format string, args ...any) {
	s.Events = append(s.Events, Event{Time: now, Message: fmt.Sprintf(format, args...)})
	if len(s.Events) > maxEvents {
		s.Events = s.Events[len(s.Events)-maxEvents:]
	}
}

// ErrUnusableState means the recorded state cannot be read or holds an impossible
// value (a crash of the disk, a hand edit). Nothing but an abort acts on it: the abort
// sends all traffic to legacy by the plan alone and records a fresh state in its place.
var ErrUnusableState = errors.New("unusable migration state")

// LoadState loads the recorded state and checks it against the plan: a state that
// cannot be read, or with a field no run could have written (a step outside the plan,
// an unknown phase, weights outside 0..100 %), is an error wrapping ErrUnusableState
// that names the record (a Store that is a fmt.Stringer, such as FileStore, by it)
// and the field. With that error the State, when not nil, still carries the record's
// Version, so that a Save can replace it.
func LoadState(ctx context.Context, store Store, p *plan.Plan) (*State, error) {
	st, err := store.Load(ctx)
	if err != nil {
		return st, err
	}
	if err := st.check(len(p.Steps)); err != nil {
		where := "migration state"
		if s, ok := store.(fmt.Stringer); ok {
			where = s.String()
		}
		return st, fmt.Errorf("%w %s: %w", ErrUnusableState, where, err)
	}
	return st, nil
}

// check returns an error naming the first field of s that no run could have written.
func (s *State) check(steps int) error {
	switch s.Phase {
	case PhaseRunning, PhasePaused, PhaseAborting, PhaseAborted, PhaseCompleted:
	default:
		return fmt.Errorf("phase: %q is not a phase (running, paused, aborting, aborted, completed)", s.Phase)
	}
	if s.Step < 0 || s.Step >= steps {
		return fmt.Errorf("step: %d is out of range: the plan has %d steps, recorded as 0 to %d", s.Step, steps, steps-1)
	}
	for _, w := range []struct {
		field string
		w     traffic.Weights
	}{{"target", s.Target}, {"applied", s.Applied}} {
		if w.w.Validate() != nil {
			return fmt.Errorf("%s: legacy %d and kubernetes %d basis points: each must be 0 to %d, adding up to %d",
				w.field, w.w.Legacy, w.w.Kubernetes, traffic.Total, traffic.Total)
		}
	}
	if s.LegacyServers < 0 {
		return fmt.Errorf("legacyServers: %d is negative", s.LegacyServers)
	}
	return nil
}
