package migrate

import (
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/plan"
)

const minimalPlan = "name: shop\nrouter:\n  proxy:\n    admin: http://127.0.0.1:9901\nmetrics:\n  proxy: {}\n"

func TestDecide(t *testing.T) {
	p, err := plan.Parse([]byte(minimalPlan+"deadline: 10m\nsteps:\n- {weight: 1, hold: 1m, minRequests: 100}\n- {weight: 100, hold: 1m}\n"), "/x")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	pass := analysis.Result{Gate: "error-rate", Verdict: analysis.Pass}
	hold := analysis.Result{Gate: "latency", Verdict: analysis.Hold, NeedMore: 10}
	fail := analysis.Result{Gate: "error-rate", Verdict: analysis.Fail, Message: "new 3%"}
	for _, tc := range []struct {
		name     string
		step     int
		results  []analysis.Result
		requests int64
		after    time.Duration
		want     Action
		reason   string
	}{
		{"a failed gate aborts at once", 0, []analysis.Result{fail, hold}, 5, time.Second, ActionAbort, "gate error-rate failed at 1%"},
		{"a holding gate holds", 0, []analysis.Result{pass, hold}, 500, 2 * time.Minute, ActionHold, "waiting for latency"},
		{"no results never pass", 0, nil, 0, 2 * time.Minute, ActionHold, "100 more requests"},
		{"passing gates still hold for the hold time", 0, []analysis.Result{pass}, 500, 30 * time.Second, ActionHold, "holding 30s more"},
		{"passing gates short of the step's requests hold", 0, []analysis.Result{pass}, 40, 2 * time.Minute, ActionHold, "60 more requests"},
		{"all passed, held, enough requests: advance", 0, []analysis.Result{pass}, 500, 2 * time.Minute, ActionAdvance, "every gate passed at 1%"},
		{"the last step completes where it was judged, beside the 1% control", 1, []analysis.Result{pass}, 500, 2 * time.Minute, ActionComplete, "every gate passed at 99%"},
		{"too little data past the deadline aborts", 0, []analysis.Result{hold}, 5, 11 * time.Minute, ActionAbort, "too little data within the 10m0s deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &State{Step: tc.step, StepStarted: start}
			d := Decide(p, st, tc.results, tc.requests, start.Add(tc.after))
			if d.Action != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("%s: %s, want %s with %q", d.Action, d.Reason, tc.want, tc.reason)
			}
		})
	}
	noControl, err := plan.Parse([]byte(minimalPlan+"final: {control: '0'}\nsteps:\n- {weight: 1}\n- {weight: 100, hold: 1m}\n"), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if d := Decide(noControl, &State{Step: 1, StepStarted: start}, []analysis.Result{pass}, 500, start.Add(2*time.Minute)); d.Action != ActionComplete || !strings.Contains(d.Reason, "at 100%") {
		t.Fatalf("without a control: %s: %s, want complete at 100%%", d.Action, d.Reason)
	}
}
