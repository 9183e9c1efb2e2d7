package migrate

import (
	"context"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/traffic"
)

func TestStepUpHold(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    traffic.Capacity
		at   int
		want string // "" when the step may go
	}{
		{"every server healthy", traffic.Capacity{Servers: 3, Healthy: 3}, 500, ""},
		{"two of three down", traffic.Capacity{Servers: 3, Healthy: 1}, 500,
			"legacy has 1 of 3 servers healthy: it could take 33.33% of the traffic, and an abort from the next step would send it 100%; holding at 5% until legacy can take it all"},
		{"one of three down", traffic.Capacity{Servers: 3, Healthy: 2}, 1000, "it could take 66.66% of the traffic"},
		{"one of three down but the two carried it all at their peak", traffic.Capacity{Servers: 3, Healthy: 2, RPS: 90, HealthyPeakRPS: 100}, 1000, ""},
		{"nothing known", traffic.Capacity{}, 1000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := stepUpHold(tc.c, tc.at)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("stepUpHold(%+v, %d) = %q, want %q", tc.c, tc.at, got, tc.want)
			}
		})
	}
}

func TestAbortLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       traffic.Capacity
		applied traffic.Weights
		want    traffic.Weights
		reason  string
	}{
		{"legacy whole: everything back", traffic.Capacity{Servers: 3, Healthy: 3}, traffic.KubernetesShare(5000), traffic.KubernetesShare(0), ""},
		{"one of three at 50%: a third back", traffic.Capacity{Servers: 3, Healthy: 1}, traffic.KubernetesShare(9000), traffic.Weights{Legacy: 3333, Kubernetes: 6667},
			"legacy has 1 of 3 servers healthy: it can take 33.33% of the traffic, so the abort sends it 33.33% and kubernetes keeps 66.67% until legacy can take more"},
		{"one of three at 5%: legacy keeps what it has", traffic.Capacity{Servers: 3, Healthy: 1}, traffic.KubernetesShare(500), traffic.KubernetesShare(500),
			"so the abort sends it 95% and kubernetes keeps 5%"},
		{"nothing healthy: kubernetes keeps what it has", traffic.Capacity{Servers: 1}, traffic.KubernetesShare(1000), traffic.KubernetesShare(1000), "legacy has 0 of 1 server healthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := abortLimit(tc.c, tc.applied)
			if got != tc.want || (reason == "") != (tc.reason == "") || !strings.Contains(reason, tc.reason) {
				t.Fatalf("abortLimit(%+v, %s) = %s, %q; want %s, %q", tc.c, tc.applied, got, reason, tc.want, tc.reason)
			}
		})
	}
}

// capacityAnswers answers the guard's questions in turn.
type capacityAnswers []traffic.Capacity

func (a *capacityAnswers) LegacyCapacity(context.Context) (traffic.Capacity, error) {
	c := (*a)[0]
	*a = (*a)[1:]
	return c, nil
}

// TestAShrunkenFleetIsJudgedAgainstTheOneThatCarriedItAll: a load balancer knows only
// the targets registered now. When an autoscaler deregisters legacy targets as
// legacy's share falls, the guard counts the ones gone as down, and the count
// survives a restart (it is in the recorded state).
func TestAShrunkenFleetIsJudgedAgainstTheOneThatCarriedItAll(t *testing.T) {
	answers := capacityAnswers{
		{Servers: 4, Healthy: 4}, // the first check: the fleet that carried all of it
		{Servers: 2, Healthy: 2}, // two targets deregistered
		{Servers: 6, Healthy: 5}, // scaled out: judged as it is
	}
	r := &runner{cfg: Config{Capacity: &answers}, st: &State{}}
	ctx := context.Background()
	for i, want := range []struct {
		c      traffic.Capacity
		phrase string
	}{
		{traffic.Capacity{Servers: 4, Healthy: 4}, "legacy has 4 of 4 servers healthy"},
		{traffic.Capacity{Servers: 4, Healthy: 2, Gone: 2}, "legacy has 2 of 4 servers healthy (2 no longer registered since the migration began)"},
		{traffic.Capacity{Servers: 6, Healthy: 5}, "legacy has 5 of 6 servers healthy"},
	} {
		c, ok, err := r.capacity(ctx)
		if err != nil || !ok || c != want.c || c.String() != want.phrase {
			t.Fatalf("check %d: %+v (%q), %v, %v; want %+v (%q)", i+1, c, c.String(), ok, err, want.c, want.phrase)
		}
		if i == 1 && stepUpHold(c, 1000) == "" {
			t.Error("a step up goes on with half of the fleet deregistered")
		}
		if r.st.LegacyServers != 4 {
			t.Fatalf("check %d: the state remembers %d servers, want the first check's 4", i+1, r.st.LegacyServers)
		}
	}
	all := traffic.KubernetesShare(0)
	if err := (&State{Phase: PhaseRunning, Target: all, Applied: all, LegacyServers: -1}).check(1); err == nil || !strings.Contains(err.Error(), "legacyServers") {
		t.Errorf("a negative legacyServers: %v, want it refused by name", err)
	}
}
