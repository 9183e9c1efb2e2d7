package proxy

import (
	"context"
	"slices"
	"sync"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

var _ traffic.CapacityReporter = (*Proxy)(nil)

// serverLoad counts the requests one server answered, per stats bucket, over the
// stats retention. It belongs to the proxy, not to a generation, so that a reload
// keeps a server's history.
type serverLoad struct {
	mu     sync.Mutex
	width  int64   // nanoseconds
	starts []int64 // unix nanoseconds of each slot's bucket
	counts []int64
}

func (l *serverLoad) add(now time.Time) {
	start := now.UnixNano() - now.UnixNano()%l.width
	i := (start / l.width) % int64(len(l.counts))
	l.mu.Lock()
	if l.starts[i] != start {
		l.starts[i], l.counts[i] = start, 0
	}
	l.counts[i]++
	l.mu.Unlock()
}

// buckets returns the buckets from first on that saw requests, as [start in unix
// seconds, requests] pairs, oldest first.
func (l *serverLoad) buckets(first int64) [][2]int64 {
	var out [][2]int64
	l.mu.Lock()
	for i, start := range l.starts {
		if start >= first && l.counts[i] > 0 {
			out = append(out, [2]int64{start / int64(time.Second), l.counts[i]})
		}
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	return out
}

// serverLoads keeps each configured server's load by side and URL.
type serverLoads struct {
	width time.Duration
	n     int
	mu    sync.Mutex
	m     map[string]*serverLoad
}

func newServerLoads(width, retention time.Duration) *serverLoads {
	return &serverLoads{width: width, n: int(retention/width) + 1, m: map[string]*serverLoad{}}
}

// attach gives every server of rt its load, the one it had under an earlier
// configuration if it had one, and forgets the servers rt no longer has.
func (ls *serverLoads) attach(rt *generation) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	keep := map[string]*serverLoad{}
	for _, pl := range rt.pools {
		for _, s := range pl.servers {
			key := s.side.String() + " " + s.url
			l := ls.m[key]
			if l == nil {
				l = &serverLoad{width: int64(ls.width), starts: make([]int64, ls.n), counts: make([]int64, ls.n)}
			}
			keep[key], s.load = l, l
		}
	}
	ls.m = keep
}

// CapacityReport is the legacy side's health and load, as GET /v1/capacity reports it.
type CapacityReport struct {
	// BucketSeconds is the width of the load buckets (stats.bucket).
	BucketSeconds float64 `json:"bucketSeconds"`
	// RPS is both sides' requests per second now: the busiest bucket of the last
	// minute, averaged over the bucket as the servers' peaks are, forced requests
	// included (they load the servers too). Requests holds those buckets, as
	// [start in unix seconds, requests] pairs, for MergeCapacity.
	RPS      float64    `json:"rps"`
	Requests [][2]int64 `json:"requests,omitempty"`
	// Legacy are the legacy servers, in the configuration's order.
	Legacy []ServerLoad `json:"legacy"`
}

// ServerLoad is one server's health and the load it carried over the stats retention.
type ServerLoad struct {
	URL string `json:"url"`
	// Healthy is true while the server passes its active checks and is not ejected.
	Healthy bool `json:"healthy"`
	// PeakRPS is the most requests per second it answered, averaged over one bucket.
	PeakRPS float64 `json:"peakRPS"`
	// Load is the requests it answered per bucket, as [bucket start in unix seconds,
	// requests] pairs, oldest first, buckets without requests left out: replicas of a
	// fleet merge them before taking the peak (MergeCapacity).
	Load [][2]int64 `json:"load,omitempty"`
}

// Capacity is the report in the traffic package's terms (see traffic.Capacity).
func (r CapacityReport) Capacity() traffic.Capacity {
	c := traffic.Capacity{Servers: len(r.Legacy), RPS: r.RPS}
	for _, s := range r.Legacy {
		if s.Healthy {
			c.Healthy++
			c.HealthyPeakRPS += s.PeakRPS
		}
	}
	return c
}

// peakRPS is the busiest bucket's requests per second.
func peakRPS(load [][2]int64, bucketSeconds float64) float64 {
	var peak int64
	for _, b := range load {
		peak = max(peak, b[1])
	}
	if bucketSeconds <= 0 {
		return 0
	}
	return float64(peak) / bucketSeconds
}

// MergeCapacity combines the reports of the replicas of a fleet, which share one
// configuration and each carry part of the traffic: the rates add up; a server's
// load is the sum of what each replica sent it in the same bucket, and its peak is
// taken from that sum; a server counts as healthy when at least half of the replicas
// that know it see it healthy (one replica cut off from it does not take it out, one
// that alone still reaches it does not keep it in).
func MergeCapacity(reports []CapacityReport) CapacityReport {
	var out CapacityReport
	type merged struct {
		healthy, seen int
		load          map[int64]int64
	}
	byURL := map[string]*merged{}
	var order []string
	requests := map[int64]int64{}
	for _, r := range reports {
		out.BucketSeconds = max(out.BucketSeconds, r.BucketSeconds)
		for _, b := range r.Requests {
			requests[b[0]] += b[1]
		}
		for _, s := range r.Legacy {
			m := byURL[s.URL]
			if m == nil {
				m = &merged{load: map[int64]int64{}}
				byURL[s.URL] = m
				order = append(order, s.URL)
			}
			m.seen++
			if s.Healthy {
				m.healthy++
			}
			for _, b := range s.Load {
				m.load[b[0]] += b[1]
			}
		}
	}
	out.Requests = sortedBuckets(requests)
	out.RPS = peakRPS(out.Requests, out.BucketSeconds)
	for _, url := range order {
		m := byURL[url]
		s := ServerLoad{URL: url, Healthy: 2*m.healthy >= m.seen, Load: sortedBuckets(m.load)}
		s.PeakRPS = peakRPS(s.Load, out.BucketSeconds)
		out.Legacy = append(out.Legacy, s)
	}
	return out
}

// sortedBuckets returns buckets by start as [start, requests] pairs, oldest first.
func sortedBuckets(m map[int64]int64) [][2]int64 {
	out := make([][2]int64, 0, len(m))
	for start, n := range m {
		out = append(out, [2]int64{start, n})
	}
	slices.SortFunc(out, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	return out
}

// CapacityReport returns the legacy servers' health and their load over the stats
// retention, and both sides' rate over the last minute.
func (p *Proxy) CapacityReport() CapacityReport {
	rt, now := p.rt.Load(), time.Now()
	width := rt.cfg.Stats.Bucket
	r := CapacityReport{BucketSeconds: width.Seconds()}
	first, lastMinute := now.Add(-rt.cfg.Stats.Retention).UnixNano(), now.Add(-time.Minute).UnixNano()
	requests := map[int64]int64{}
	for _, pl := range rt.pools {
		for _, s := range pl.servers {
			if s.load == nil {
				continue
			}
			for _, b := range s.load.buckets(lastMinute - lastMinute%int64(width)) {
				requests[b[0]] += b[1]
			}
		}
	}
	r.Requests = sortedBuckets(requests)
	r.RPS = peakRPS(r.Requests, r.BucketSeconds)
	for _, s := range rt.pools[traffic.Legacy].servers {
		sl := ServerLoad{URL: s.url, Healthy: s.available(now)}
		if s.load != nil {
			sl.Load = s.load.buckets(first)
		}
		sl.PeakRPS = peakRPS(sl.Load, r.BucketSeconds)
		r.Legacy = append(r.Legacy, sl)
	}
	return r
}

// LegacyCapacity implements traffic.CapacityReporter from CapacityReport.
func (p *Proxy) LegacyCapacity(context.Context) (traffic.Capacity, error) {
	return p.CapacityReport().Capacity(), nil
}
