package prometheus

import (
	"math"
	"reflect"
	"testing"

	"ferry.dev/ferry/internal/analysis"
)

func TestDistribution(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name string
		in   []bucket
		want analysis.Distribution
	}{
		{"each bucket's own count at its bound",
			[]bucket{{0.01, 10}, {0.025, 30}, {0.05, 31}, {inf, 31}},
			analysis.Distribution{{Value: 10000, Count: 10}, {Value: 25000, Count: 20}, {Value: 50000, Count: 1}}},
		{"unsorted input",
			[]bucket{{inf, 5}, {0.1, 5}, {0.05, 2}},
			analysis.Distribution{{Value: 50000, Count: 2}, {Value: 100000, Count: 3}}},
		{"observations above the largest bound stand at twice it",
			[]bucket{{0.5, 8}, {1, 9}, {inf, 12}},
			analysis.Distribution{{Value: 500000, Count: 8}, {Value: 1000000, Count: 1}, {Value: 2000000, Count: 3}}},
		{"extrapolated counts are rounded and never dip",
			[]bucket{{0.01, 9.6}, {0.025, 9.4}, {0.05, 20.2}, {inf, 20.49}},
			analysis.Distribution{{Value: 10000, Count: 10}, {Value: 50000, Count: 10}}},
		{"no observations", []bucket{{0.01, 0}, {inf, 0}}, nil},
		{"only +Inf has no scale", []bucket{{inf, 4}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := distribution(tc.in)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("distribution = %v, want %v", got, tc.want)
			}
		})
	}
}
