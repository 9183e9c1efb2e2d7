package prometheus

import (
	"math"
	"sort"

	"ferry.dev/ferry/internal/analysis"
)

// bucket is one cumulative histogram bucket: observations at or below le seconds.
type bucket struct {
	le    float64
	count float64
}

// distribution turns cumulative buckets into a latency distribution: each bucket's own
// observations at its upper bound, in microseconds. The +Inf bucket's stand at twice
// the largest finite bound. Counts from increase() are estimates that can dip between
// buckets; they are rounded and made cumulative again before the difference is taken.
func distribution(buckets []bucket) analysis.Distribution {
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	var d analysis.Distribution
	var cum, lastFinite float64
	for _, b := range buckets {
		c := math.Max(cum, math.Round(b.count))
		value := b.le
		if math.IsInf(b.le, 1) {
			if lastFinite == 0 {
				continue
			}
			value = 2 * lastFinite
		} else {
			lastFinite = b.le
		}
		if n := int64(c - cum); n > 0 {
			d = append(d, analysis.Bin{Value: int64(math.Round(value * 1e6)), Count: n})
		}
		cum = c
	}
	return d.Normalize()
}
