package migrate

import (
	"fmt"
	"strings"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

// Action is what the runner does next.
type Action string

// Actions decided for a step.
const (
	ActionHold     Action = "hold"
	ActionAdvance  Action = "advance"
	ActionComplete Action = "complete"
	ActionAbort    Action = "abort"
)

// Decision is an action with its reason.
type Decision struct {
	Action Action
	Reason string
}

// Decide judges the current step from the gates' verdicts: any failure aborts; the
// step advances only when every gate passes, the hold time has passed and the step's
// minimum requests are in; a step still short of data at the deadline aborts, because
// "no data" is never "healthy".
func Decide(p *plan.Plan, st *State, results []analysis.Result, newRequests int64, now time.Time) Decision {
	step := p.Steps[st.Step]
	at := traffic.FormatPercent(p.Judged(st.Step))
	for _, r := range results {
		if r.Verdict == analysis.Fail {
			return Decision{ActionAbort, fmt.Sprintf("gate %s failed at %s: %s", r.Gate, at, r.Message)}
		}
	}
	elapsed := now.Sub(st.StepStarted)
	var waiting []string
	for _, r := range results {
		if r.Verdict != analysis.Pass {
			waiting = append(waiting, r.Gate)
		}
	}
	if newRequests < step.MinRequests {
		waiting = append(waiting, fmt.Sprintf("%d more requests", step.MinRequests-newRequests))
	}
	if len(waiting) > 0 {
		if elapsed >= p.Deadline {
			return Decision{ActionAbort, fmt.Sprintf("step %s gathered too little data within the %s deadline (waiting for %s)", at, p.Deadline, strings.Join(waiting, ", "))}
		}
		return Decision{ActionHold, "waiting for " + strings.Join(waiting, ", ")}
	}
	if elapsed < step.Hold {
		return Decision{ActionHold, fmt.Sprintf("gates pass; holding %s more", (step.Hold - elapsed).Round(time.Second))}
	}
	if st.Step == len(p.Steps)-1 {
		return Decision{ActionComplete, fmt.Sprintf("every gate passed at %s", at)}
	}
	return Decision{ActionAdvance, fmt.Sprintf("every gate passed at %s", at)}
}
