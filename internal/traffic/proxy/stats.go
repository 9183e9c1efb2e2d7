package proxy

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"ferry.dev/ferry/internal/traffic"
)

// Latencies are recorded in microseconds from 1 µs to one hour, with two significant
// digits (1 % precision): enough for percentiles and small enough to keep hours of
// buckets.
const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histSigFigs   = 2
)

// StatusClasses counts responses by the first digit of their status.
type StatusClasses struct {
	Informational int64 `json:"1xx"`
	Success       int64 `json:"2xx"`
	Redirect      int64 `json:"3xx"`
	ClientError   int64 `json:"4xx"`
	ServerError   int64 `json:"5xx"`
}

func (c *StatusClasses) add(o StatusClasses) {
	c.Informational += o.Informational
	c.Success += o.Success
	c.Redirect += o.Redirect
	c.ClientError += o.ClientError
	c.ServerError += o.ServerError
}

func (c *StatusClasses) count(status int) {
	switch status / 100 {
	case 1:
		c.Informational++
	case 2:
		c.Success++
	case 3:
		c.Redirect++
	case 4:
		c.ClientError++
	default:
		c.ServerError++
	}
}

// bucket is one time slice of one side's statistics.
type bucket struct {
	start   int64 // unix nanoseconds, a multiple of the bucket width
	status  StatusClasses
	errors  int64 // requests no backend answered (counted as 5xx too)
	latency *hdrhistogram.Histogram
	// clientFailures counts requests the client broke, forced those sent to a side by
	// the force header or cookie; both are kept out of everything above.
	clientFailures int64
	forced         ForcedStats
	// routes are the counts by route index (see routeTable), grown as routes appear.
	routes []routeCounts
}

// routeCounts are one route's requests in one bucket.
type routeCounts struct {
	status  StatusClasses
	errors  int64
	latency routeHist
}

// sideStats is a ring of buckets for one side.
type sideStats struct {
	mu      sync.Mutex
	buckets []bucket
}

// statsRecorder keeps per-side statistics in time buckets.
type statsRecorder struct {
	width time.Duration
	sides [2]sideStats
}

func newStatsRecorder(width, retention time.Duration) *statsRecorder {
	n := int(retention/width) + 1
	s := &statsRecorder{width: width}
	for i := range s.sides {
		s.sides[i].buckets = make([]bucket, n)
	}
	return s
}

// lock locks side's statistics and returns the bucket of now; the caller unlocks ss.mu.
func (s *statsRecorder) lock(side traffic.Side, now time.Time) (*sideStats, *bucket) {
	start := now.UnixNano() - now.UnixNano()%int64(s.width)
	ss := &s.sides[side]
	ss.mu.Lock()
	b := &ss.buckets[(start/int64(s.width))%int64(len(ss.buckets))]
	if b.start != start {
		b.reset(start)
	}
	return ss, b
}

// record adds one request of the route with index route that ended at now.
func (s *statsRecorder) record(side traffic.Side, route int, status int, failed bool, latency time.Duration, now time.Time) {
	us := min(max(latency.Microseconds(), histMinMicros), histMaxMicros)
	ss, b := s.lock(side, now)
	b.status.count(status)
	if failed {
		b.errors++
	}
	_ = b.latency.RecordValue(us) // in range by construction
	if route >= len(b.routes) {
		b.routes = append(b.routes, make([]routeCounts, route+1-len(b.routes))...)
	}
	rc := &b.routes[route]
	rc.status.count(status)
	if failed {
		rc.errors++
	}
	rc.latency.record(us)
	ss.mu.Unlock()
}

// recordForced counts one forced request that ended at now.
func (s *statsRecorder) recordForced(side traffic.Side, status int, failed bool, now time.Time) {
	ss, b := s.lock(side, now)
	b.forced.count(status, failed)
	ss.mu.Unlock()
}

// recordClientFailure counts one request the client broke, at now.
func (s *statsRecorder) recordClientFailure(side traffic.Side, now time.Time) {
	ss, b := s.lock(side, now)
	b.clientFailures++
	ss.mu.Unlock()
}

func (b *bucket) reset(start int64) {
	b.start, b.status, b.errors, b.clientFailures, b.forced = start, StatusClasses{}, 0, 0, ForcedStats{}
	if b.latency == nil {
		b.latency = hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
	} else {
		b.latency.Reset()
	}
	// The routes' bins keep their room: the same routes come back in the next bucket.
	for i := range b.routes {
		r := &b.routes[i]
		r.status, r.errors, r.latency.bins = StatusClasses{}, 0, r.latency.bins[:0]
	}
}

// SideStats are one side's statistics over a window.
type SideStats struct {
	Side     string        `json:"side"`
	Requests int64         `json:"requests"`
	Status   StatusClasses `json:"status"`
	// Errors counts requests that no backend answered (connection errors, timeouts);
	// the proxy answered them with 502 or 504 and they are in Status too.
	Errors int64 `json:"errors"`
	// ClientFailures counts requests the client broke: an upload aborted or too slow, a
	// malformed body. They are the client's failures, not the backend's, so they are in
	// none of the other fields, which the migration gates read.
	ClientFailures int64 `json:"clientFailures"`
	// Forced counts the requests sent to this side by the force header or cookie. They
	// are in none of the other fields: a tester's (or anyone's who may force) requests
	// must neither fail a migration step nor hide a regression.
	Forced ForcedStats `json:"forced"`
	// ErrorRate is the share of 5xx responses, 0 without requests.
	ErrorRate float64        `json:"errorRate"`
	Latency   LatencySummary `json:"latencyMicros"`
	// Histogram holds every recorded latency in microseconds, for callers that merge or
	// compare distributions. It is nil without requests.
	Histogram *hdrhistogram.Histogram `json:"-"`
	// LatencyBins is the histogram as [microseconds, count] pairs, filled only when the
	// admin API is asked for them (?bins=true), for metric sources in other processes.
	LatencyBins [][2]int64 `json:"latencyBins,omitempty"`
	// Routes are the statistics by endpoint ("GET /users/{id}", and "other" for what
	// is past the proxy's cap of templates), busiest first, when asked for (StatsByRoute,
	// or ?routes=true on the admin API). Their counts add up to the side's.
	Routes []RouteStats `json:"routes,omitempty"`
}

// RouteStats are one endpoint's statistics on one side over a window.
type RouteStats struct {
	Route    string        `json:"route"`
	Requests int64         `json:"requests"`
	Status   StatusClasses `json:"status"`
	// Errors counts requests no backend answered (in Status as 5xx too).
	Errors int64 `json:"errors"`
	// ErrorRate is the share of 5xx responses.
	ErrorRate float64        `json:"errorRate"`
	Latency   LatencySummary `json:"latencyMicros"`
	// LatencyBins are the latencies as [microseconds, count] pairs, in bins of at most
	// 3 %, each named by its largest value. In process they are always there; the
	// admin API sends them with ?bins=true.
	LatencyBins [][2]int64 `json:"latencyBins,omitempty"`
}

// fillBins copies the histogram into LatencyBins.
func (s *SideStats) fillBins() {
	if s.Histogram == nil {
		return
	}
	for _, bar := range s.Histogram.Distribution() {
		if bar.Count > 0 {
			s.LatencyBins = append(s.LatencyBins, [2]int64{bar.To, bar.Count})
		}
	}
}

// ForcedStats counts forced requests.
type ForcedStats struct {
	Requests int64         `json:"requests"`
	Status   StatusClasses `json:"status"`
	// Errors counts forced requests no backend answered (in Status as 5xx too).
	Errors int64 `json:"errors"`
}

func (f *ForcedStats) count(status int, failed bool) {
	f.Requests++
	f.Status.count(status)
	if failed {
		f.Errors++
	}
}

func (f *ForcedStats) add(o ForcedStats) {
	f.Requests += o.Requests
	f.Status.add(o.Status)
	f.Errors += o.Errors
}

// LatencySummary gives latency percentiles in microseconds, up to the response headers.
type LatencySummary struct {
	Mean float64 `json:"mean"`
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p999"`
	Max  int64   `json:"max"`
}

// Snapshot is both sides' statistics over one window.
type Snapshot struct {
	From       time.Time       `json:"from"`
	To         time.Time       `json:"to"`
	Weights    traffic.Weights `json:"weights"`
	Legacy     SideStats       `json:"legacy"`
	Kubernetes SideStats       `json:"kubernetes"`
}

// Side returns the statistics of side s.
func (s *Snapshot) Side(side traffic.Side) *SideStats {
	if side == traffic.Kubernetes {
		return &s.Kubernetes
	}
	return &s.Legacy
}

// snapshot merges the buckets that overlap [now-window, now]. The window is rounded out
// to whole buckets and capped at the retention.
// With routes (which returns the route table's names by index, read after the merge
// so that it names every route the buckets hold) it adds each side's routes.
func (s *statsRecorder) snapshot(window time.Duration, now time.Time, routes func() []string) Snapshot {
	w := int64(s.width)
	end := now.UnixNano() - now.UnixNano()%w
	first := end - (int64(window)+w-1)/w*w + w
	if oldest := end - int64(len(s.sides[0].buckets)-1)*w; first < oldest {
		first = oldest
	}
	if first > end {
		first = end
	}
	snap := Snapshot{From: time.Unix(0, first).UTC(), To: now.UTC()}
	var merged [2][]routeMerge
	for _, side := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		*snap.Side(side), merged[side] = s.sides[side].merge(side, first, end, routes != nil)
	}
	if routes != nil {
		names := routes()
		for _, side := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
			snap.Side(side).Routes = routeStats(merged[side], names)
		}
	}
	return snap
}

// merge sums the buckets from first to last and, when routes is set, each route's.
func (ss *sideStats) merge(side traffic.Side, first, last int64, routes bool) (SideStats, []routeMerge) {
	out := SideStats{Side: side.String()}
	hist := hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
	var byRoute []routeMerge
	ss.mu.Lock()
	for i := range ss.buckets {
		b := &ss.buckets[i]
		if b.latency == nil || b.start < first || b.start > last {
			continue
		}
		out.Status.add(b.status)
		out.Errors += b.errors
		out.ClientFailures += b.clientFailures
		out.Forced.add(b.forced)
		hist.Merge(b.latency)
		if routes && len(b.routes) > len(byRoute) {
			byRoute = append(byRoute, make([]routeMerge, len(b.routes)-len(byRoute))...)
		}
		for i := range byRoute[:min(len(byRoute), len(b.routes))] {
			byRoute[i].add(&b.routes[i])
		}
	}
	ss.mu.Unlock()
	out.Requests = hist.TotalCount()
	if out.Requests == 0 {
		return out, byRoute
	}
	out.ErrorRate = float64(out.Status.ServerError) / float64(out.Requests)
	out.Histogram = hist
	out.Latency = LatencySummary{
		Mean: hist.Mean(), P50: hist.ValueAtQuantile(50), P90: hist.ValueAtQuantile(90),
		P99: hist.ValueAtQuantile(99), P999: hist.ValueAtQuantile(99.9), Max: hist.Max(),
	}
	return out, byRoute
}

// routeMerge gathers one route's buckets.
type routeMerge struct {
	status StatusClasses
	errors int64
	bins   []int64 // by bin index, allocated on the first request
}

func (m *routeMerge) add(rc *routeCounts) {
	if len(rc.latency.bins) == 0 {
		return
	}
	if m.bins == nil {
		m.bins = make([]int64, routeBins)
	}
	m.status.add(rc.status)
	m.errors += rc.errors
	rc.latency.addTo(m.bins)
}

// routeStats turns the merged routes into statistics, busiest first.
func routeStats(merged []routeMerge, names []string) []RouteStats {
	var out []RouteStats
	for i := range merged {
		m := &merged[i]
		if m.bins == nil || i >= len(names) {
			continue
		}
		r := RouteStats{Route: names[i], Status: m.status, Errors: m.errors}
		var sum float64
		for idx, n := range m.bins {
			if n > 0 {
				top := routeBinTop(uint16(idx))
				r.LatencyBins = append(r.LatencyBins, [2]int64{top, n})
				r.Requests += n
				sum += float64(top) * float64(n)
			}
		}
		r.ErrorRate = float64(r.Status.ServerError) / float64(r.Requests)
		r.Latency = LatencySummary{
			Mean: sum / float64(r.Requests), P50: binQuantile(r.LatencyBins, r.Requests, 0.5), P90: binQuantile(r.LatencyBins, r.Requests, 0.9),
			P99: binQuantile(r.LatencyBins, r.Requests, 0.99), P999: binQuantile(r.LatencyBins, r.Requests, 0.999), Max: r.LatencyBins[len(r.LatencyBins)-1][0],
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Requests > out[j].Requests })
	return out
}

// binQuantile returns the value at quantile q of bins holding n values.
func binQuantile(bins [][2]int64, n int64, q float64) int64 {
	rank := max(int64(math.Ceil(q*float64(n))), 1)
	var seen int64
	for _, b := range bins {
		if seen += b[1]; seen >= rank {
			return b[0]
		}
	}
	return bins[len(bins)-1][0]
}
