package migrate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
)

const minimalPlan = "name: shop\nrouter:\n  proxy:\n    admin: http://127.0.0.1:9901\nmetrics:\n  proxy: {}\n"

func TestParsePlanDefaults(t *testing.T) {
	p, err := ParsePlan([]byte(minimalPlan), "/srv")
	if err != nil {
		t.Fatal(err)
	}
	var weights []int
	for _, s := range p.Steps {
		weights = append(weights, s.BasisPoints)
		if s.Hold != DefaultHold {
			t.Errorf("step hold %s, want the default", s.Hold)
		}
	}
	if len(weights) != 5 || weights[0] != 100 || weights[4] != 10000 {
		t.Fatalf("default steps %v, want 1,5,10,50,100%%", weights)
	}
	if p.State != "/srv/.ferry/migration-shop.json" || p.Deadline != DefaultDeadline || p.Interval != DefaultInterval {
		t.Fatalf("defaults: %+v", p)
	}
	if gates := p.BuildGates(nil); len(gates) != 2 {
		t.Fatalf("%d gates, want both", len(gates))
	}
}

func TestParsePlanRefusesBadPlans(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "the file is empty"},
		{"unknown field", minimalPlan + "speed: fast\n", "field speed not found"},
		{"no name", strings.Replace(minimalPlan, "name: shop\n", "", 1), "name is required"},
		{"weights out of order", minimalPlan + "steps: [{weight: 10}, {weight: 5}, {weight: 100}]\n", "steps[1].weight: 5% is not above the previous step's 10%"},
		{"weight above 100", minimalPlan + "steps: [{weight: 50}, {weight: 150}]\n", "must not exceed 100"},
		{"does not end at 100", minimalPlan + "steps: [{weight: 1}, {weight: 50}]\n", "last step must send 100%"},
		{"too many decimals", minimalPlan + "steps: [{weight: 0.001}, {weight: 100}]\n", "at most two decimals"},
		{"unknown router", "name: x\nrouter:\n  nginx: {}\nmetrics:\n  proxy: {}\n", "field nginx not found"},
		{"no router", "name: x\nmetrics:\n  proxy: {}\n", "router: name a router"},
		{"gates without a metric source", "name: x\nrouter:\n  proxy:\n    admin: http://a\n", "metrics: name a metric source"},
		{"every gate disabled", minimalPlan + "gates:\n  disable: [error-rate, latency]\n", "at least one gate"},
		{"unknown gate", minimalPlan + "gates:\n  disable: [speed]\n", `unknown gate "speed"`},
		{"notify without target", minimalPlan + "notify: [{}]\n", "notify[0]: name exactly one"},
		{"bad duration", minimalPlan + "deadline: soon\n", "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tc.yaml), "/x")
			if !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidPlan containing %q", err, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	plan, err := ParsePlan([]byte(minimalPlan+"deadline: 10m\nsteps:\n- {weight: 1, hold: 1m, minRequests: 100}\n- {weight: 100, hold: 1m}\n"), "/x")
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
		{"the last step completes", 1, []analysis.Result{pass}, 500, 2 * time.Minute, ActionComplete, "100%"},
		{"too little data past the deadline aborts", 0, []analysis.Result{hold}, 5, 11 * time.Minute, ActionAbort, "too little data within the 10m0s deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &State{Step: tc.step, StepStarted: start}
			d := Decide(plan, st, tc.results, tc.requests, start.Add(tc.after))
			if d.Action != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("%s: %s, want %s with %q", d.Action, d.Reason, tc.want, tc.reason)
			}
		})
	}
}
