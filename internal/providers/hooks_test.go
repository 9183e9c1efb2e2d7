package providers

import (
	"testing"

	"ferry.dev/ferry/internal/plan"
)

func TestWeightTable(t *testing.T) {
	steps := func(bps ...int) []plan.Step {
		var out []plan.Step
		for _, bp := range bps {
			out = append(out, plan.Step{BasisPoints: bp})
		}
		return out
	}
	for _, tc := range []struct {
		steps []plan.Step
		limit int
		want  string
	}{
		{steps(100, 500, 1000, 5000, 10000), 255, "1% 99:1, 5% 95:5, 10% 90:10, 50% 50:50, 100% 0:100"},
		{steps(30, 10000), 255, "0.3% 255:1 (0.39% in effect), 100% 0:100"},
		{steps(30, 10000), 999, "0.3% 997:3, 100% 0:100"},
		{steps(3333, 10000), 255, "33.33% 2:1, 100% 0:100"},
	} {
		if got := weightTable(tc.steps, tc.limit); got != tc.want {
			t.Errorf("weightTable(%v, %d) = %q, want %q", tc.steps, tc.limit, got, tc.want)
		}
	}
}
