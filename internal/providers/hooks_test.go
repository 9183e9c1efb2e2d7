package providers

import (
	"testing"

	"ferry.dev/ferry/internal/plan"
)

func TestWeightTable(t *testing.T) {
	steps := func(control int, bps ...int) *plan.Plan {
		p := &plan.Plan{Final: plan.FinalConfig{ControlBasisPoints: control}}
		for _, bp := range bps {
			p.Steps = append(p.Steps, plan.Step{BasisPoints: bp})
		}
		return p
	}
	for _, tc := range []struct {
		plan  *plan.Plan
		limit int
		want  string
	}{
		{steps(0, 100, 500, 1000, 5000, 10000), 255, "1% 99:1, 5% 95:5, 10% 90:10, 50% 50:50, 100% 0:100"},
		{steps(100, 100, 500, 1000, 5000, 10000), 255, "1% 99:1, 5% 95:5, 10% 90:10, 50% 50:50, 99% 1:99, 100% 0:100"},
		{steps(0, 30, 10000), 255, "0.3% 255:1 (0.39% in effect), 100% 0:100"},
		{steps(50, 30, 10000), 255, "0.3% 255:1 (0.39% in effect), 99.5% 1:199, 100% 0:100"},
		{steps(0, 30, 10000), 999, "0.3% 997:3, 100% 0:100"},
		{steps(0, 3333, 10000), 255, "33.33% 2:1, 100% 0:100"},
	} {
		if got := weightTable(tc.plan, tc.limit); got != tc.want {
			t.Errorf("weightTable(%v, %d) = %q, want %q", tc.plan.Steps, tc.limit, got, tc.want)
		}
	}
}
