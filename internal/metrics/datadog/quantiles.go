package datadog

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	"ferry.dev/ferry/internal/analysis"
)

// quantile is one latency percentile: q in (0, 1], "max" being 1, and its value in
// microseconds.
type quantile struct {
	q     float64
	value int64
}

// parseQuantile reads a latency query's name: p50, p99, p99.9, max.
func parseQuantile(name string) (float64, error) {
	if name == "max" {
		return 1, nil
	}
	p, err := strconv.ParseFloat(strings.TrimPrefix(name, "p"), 64)
	if !strings.HasPrefix(name, "p") || err != nil || p <= 0 || p >= 100 {
		return 0, errors.New("name a latency query p50, p90, p99, p99.9 … or max")
	}
	return p / 100, nil
}

// fromQuantiles rebuilds a distribution of n requests from percentiles: the requests
// between two percentiles stand at the upper one's value, those above the highest at
// its value. Datadog's query API gives aggregates, not histograms: the result is coarse
// but built alike for both sides, which is what a comparison needs. Values are made
// non-decreasing, as percentiles are.
func fromQuantiles(n int64, qs []quantile) analysis.Distribution {
	if n <= 0 || len(qs) == 0 {
		return nil
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].q < qs[j].q })
	var d analysis.Distribution
	var assigned, prevV int64
	for i, x := range qs {
		v := max(x.value, prevV)
		count := int64(math.Round(x.q*float64(n))) - assigned
		if i == len(qs)-1 {
			count = n - assigned // the rest, above the highest percentile, at its value
		}
		if count > 0 {
			d = append(d, analysis.Bin{Value: v, Count: count})
			assigned += count
		}
		prevV = v
	}
	return d.Normalize()
}
