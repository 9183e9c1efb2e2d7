package proxystats

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"ferry.dev/ferry/internal/traffic/proxy"
)

// FleetStats reads every replica of a fleet over a window, one snapshot each.
type FleetStats func(ctx context.Context, window time.Duration) ([]proxy.Snapshot, error)

// FromFleet reads a fleet of proxies: stats returns one snapshot per replica and
// byRoute the same with each side's routes (for ByEndpoint), which the source merges
// (Merge), so the gates judge the whole fleet's traffic. An error of either (a
// replica that cannot be read) is the sample's error: the gates judge the whole
// fleet or nothing.
func FromFleet(stats, byRoute FleetStats) *Source {
	merged := func(read FleetStats) func(context.Context, time.Duration) (proxy.Snapshot, error) {
		return func(ctx context.Context, w time.Duration) (proxy.Snapshot, error) {
			snaps, err := read(ctx, w)
			if err != nil {
				return proxy.Snapshot{}, err
			}
			return Merge(snaps), nil
		}
	}
	return &Source{stats: merged(stats), byRoute: merged(byRoute)}
}

// Merge adds up the snapshots of several proxies over the same window: their
// counters side by side and their latency histograms bin by bin (the proxies record
// latencies into equal bins, so a bin's upper value names it). The merged sides
// carry LatencyBins and the percentiles of the merged distribution, no Histogram.
// Routes of the same name add up the same way, busiest first; each replica's "other"
// (what is past its cap of templates) goes into the merged "other". The window spans
// all of theirs; the weights are the first snapshot's.
func Merge(snaps []proxy.Snapshot) proxy.Snapshot {
	var out proxy.Snapshot
	for i := range snaps {
		s := &snaps[i]
		if i == 0 || s.From.Before(out.From) {
			out.From = s.From
		}
		if i == 0 {
			out.Weights = s.Weights
		}
		if s.To.After(out.To) {
			out.To = s.To
		}
	}
	out.Legacy = mergeSide(snaps, func(s *proxy.Snapshot) *proxy.SideStats { return &s.Legacy })
	out.Kubernetes = mergeSide(snaps, func(s *proxy.Snapshot) *proxy.SideStats { return &s.Kubernetes })
	return out
}

func mergeSide(snaps []proxy.Snapshot, side func(*proxy.Snapshot) *proxy.SideStats) proxy.SideStats {
	var out proxy.SideStats
	bins := map[int64]int64{}
	routes := map[string]*routeMerge{}
	for i := range snaps {
		s := side(&snaps[i])
		out.Side = s.Side
		out.Requests += s.Requests
		addStatus(&out.Status, s.Status)
		out.Errors += s.Errors
		out.ClientFailures += s.ClientFailures
		out.Forced.Requests += s.Forced.Requests
		addStatus(&out.Forced.Status, s.Forced.Status)
		out.Forced.Errors += s.Forced.Errors
		addBins(bins, latencyBins(s))
		for _, r := range s.Routes {
			m := routes[r.Route]
			if m == nil {
				m = &routeMerge{stats: proxy.RouteStats{Route: r.Route}, bins: map[int64]int64{}}
				routes[r.Route] = m
			}
			m.stats.Requests += r.Requests
			addStatus(&m.stats.Status, r.Status)
			m.stats.Errors += r.Errors
			addBins(m.bins, r.LatencyBins)
		}
	}
	out.LatencyBins = sortedBins(bins)
	out.ErrorRate = errorRate(out.Status.ServerError, out.Requests)
	out.Latency = summary(out.LatencyBins)
	for _, m := range routes {
		r := m.stats
		r.LatencyBins = sortedBins(m.bins)
		r.ErrorRate = errorRate(r.Status.ServerError, r.Requests)
		r.Latency = summary(r.LatencyBins)
		out.Routes = append(out.Routes, r)
	}
	slices.SortFunc(out.Routes, func(a, b proxy.RouteStats) int {
		if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
			return c
		}
		return strings.Compare(a.Route, b.Route)
	})
	return out
}

// routeMerge is one route's sums over the replicas, its latencies by bin.
type routeMerge struct {
	stats proxy.RouteStats
	bins  map[int64]int64
}

func addBins(to map[int64]int64, bins [][2]int64) {
	for _, b := range bins {
		to[b[0]] += b[1]
	}
}

// sortedBins are the non-empty bins in order of their value.
func sortedBins(bins map[int64]int64) [][2]int64 {
	var out [][2]int64
	for _, v := range slices.Sorted(maps.Keys(bins)) {
		if bins[v] > 0 {
			out = append(out, [2]int64{v, bins[v]})
		}
	}
	return out
}

func errorRate(errors5xx, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(errors5xx) / float64(requests)
}

// latencyBins is a side's distribution as [microseconds, count] pairs, from its
// histogram in this process or its bins from an admin API.
func latencyBins(s *proxy.SideStats) [][2]int64 {
	if s.Histogram == nil {
		return s.LatencyBins
	}
	var out [][2]int64
	for _, b := range Bins(s.Histogram) {
		out = append(out, [2]int64{b.Value, b.Count})
	}
	return out
}

func addStatus(to *proxy.StatusClasses, c proxy.StatusClasses) {
	to.Informational += c.Informational
	to.Success += c.Success
	to.Redirect += c.Redirect
	to.ClientError += c.ClientError
	to.ServerError += c.ServerError
}

// summary returns the percentiles of sorted bins: each the value of the bin in which
// the quantile falls, as a histogram gives it.
func summary(bins [][2]int64) proxy.LatencySummary {
	var n int64
	var sum float64
	for _, b := range bins {
		n += b[1]
		sum += float64(b[0]) * float64(b[1])
	}
	if n == 0 {
		return proxy.LatencySummary{}
	}
	at := func(q float64) int64 {
		want := int64(q*float64(n) + 0.5)
		var seen int64
		for _, b := range bins {
			if seen += b[1]; seen >= max(want, 1) {
				return b[0]
			}
		}
		return bins[len(bins)-1][0]
	}
	return proxy.LatencySummary{
		Mean: sum / float64(n), P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999),
		Max: bins[len(bins)-1][0],
	}
}
