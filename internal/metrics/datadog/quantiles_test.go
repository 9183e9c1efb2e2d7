package datadog

import (
	"math"
	"reflect"
	"testing"

	"ferry.dev/ferry/internal/analysis"
)

func TestParseQuantile(t *testing.T) {
	for name, want := range map[string]float64{"p50": 0.5, "p99": 0.99, "p99.9": 0.999, "max": 1, "p0": 0, "p100": 0, "median": 0, "99": 0} {
		got, err := parseQuantile(name)
		if (err != nil) != (want == 0) || math.Abs(got-want) > 1e-12 {
			t.Errorf("parseQuantile(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
}

func TestFromQuantiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int64
		qs   []quantile
		want analysis.Distribution
	}{
		{"percentiles and max", 1000,
			[]quantile{{0.99, 50000}, {0.5, 10000}, {1, 200000}, {0.9, 20000}},
			analysis.Distribution{{Value: 10000, Count: 500}, {Value: 20000, Count: 400}, {Value: 50000, Count: 90}, {Value: 200000, Count: 10}}},
		{"the rest stands at the highest percentile", 200,
			[]quantile{{0.5, 8000}, {0.95, 30000}},
			analysis.Distribution{{Value: 8000, Count: 100}, {Value: 30000, Count: 100}}},
		{"percentiles that dip are made non-decreasing", 100,
			[]quantile{{0.5, 9000}, {0.9, 8000}, {1, 12000}},
			analysis.Distribution{{Value: 9000, Count: 90}, {Value: 12000, Count: 10}}},
		{"few requests", 3,
			[]quantile{{0.5, 1000}, {0.99, 5000}},
			analysis.Distribution{{Value: 1000, Count: 2}, {Value: 5000, Count: 1}}},
		{"no requests", 0, []quantile{{0.5, 1000}}, nil},
		{"no percentiles", 100, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fromQuantiles(tc.n, tc.qs)
			if !reflect.DeepEqual(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
				t.Fatalf("fromQuantiles = %v, want %v", got, tc.want)
			}
			if len(got) > 0 && got.Count() != tc.n {
				t.Fatalf("%d observations for %d requests", got.Count(), tc.n)
			}
		})
	}
}
