package proxystats

import (
	"context"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// Source reads per-side statistics from a proxy, in-process or over its admin API.
type Source struct {
	// ByEndpoint adds each endpoint's statistics to the samples (the proxy's routes),
	// for the per-endpoint gates.
	ByEndpoint bool

	stats, byRoute func(ctx context.Context, window time.Duration) (proxy.Snapshot, error)
}

// FromProxy reads a proxy running in this process.
func FromProxy(p *proxy.Proxy) *Source {
	return &Source{
		stats:   func(_ context.Context, w time.Duration) (proxy.Snapshot, error) { return p.Stats(w), nil },
		byRoute: func(_ context.Context, w time.Duration) (proxy.Snapshot, error) { return p.StatsByRoute(w), nil },
	}
}

// FromAdmin reads a proxy through its admin API.
func FromAdmin(c *proxy.AdminClient) *Source {
	return &Source{stats: c.Stats, byRoute: c.StatsByRoute}
}

// Sample returns both sides over the window from since until now: requests, failed
// requests (5xx, including the proxy's own 502/504 for unreachable backends) and the
// latency distribution.
func (s *Source) Sample(ctx context.Context, since time.Time) (analysis.Sample, error) {
	window := max(time.Since(since), time.Second)
	read := s.stats
	if s.ByEndpoint {
		read = s.byRoute
	}
	snap, err := read(ctx, window)
	if err != nil {
		return analysis.Sample{}, err
	}
	out := analysis.Sample{Legacy: side(&snap.Legacy), New: side(&snap.Kubernetes)}
	if s.ByEndpoint {
		out.Endpoints = endpoints(&snap)
	}
	return out, nil
}

// endpoints pairs both sides' routes by name, busiest (on legacy) first.
func endpoints(snap *proxy.Snapshot) []analysis.Endpoint {
	var out []analysis.Endpoint
	at := map[string]int{}
	for i, sideStats := range []*proxy.SideStats{&snap.Legacy, &snap.Kubernetes} {
		for _, r := range sideStats.Routes {
			j, ok := at[r.Route]
			if !ok {
				j = len(out)
				at[r.Route] = j
				out = append(out, analysis.Endpoint{Name: r.Route})
			}
			s := analysis.Side{Requests: r.Requests, Errors: r.Status.ServerError}
			for _, b := range r.LatencyBins {
				s.Latency = append(s.Latency, analysis.Bin{Value: b[0], Count: b[1]})
			}
			if i == 0 {
				out[j].Legacy = s
			} else {
				out[j].New = s
			}
		}
	}
	return out
}

func side(s *proxy.SideStats) analysis.Side {
	out := analysis.Side{Requests: s.Requests, Errors: s.Status.ServerError}
	switch {
	case s.Histogram != nil:
		out.Latency = Bins(s.Histogram)
	case len(s.LatencyBins) > 0:
		for _, b := range s.LatencyBins {
			out.Latency = append(out.Latency, analysis.Bin{Value: b[0], Count: b[1]})
		}
	}
	return out
}

// Bins turns an HdrHistogram into a distribution, one bin per recorded value range.
func Bins(h *hdrhistogram.Histogram) analysis.Distribution {
	var d analysis.Distribution
	for _, bar := range h.Distribution() {
		if bar.Count > 0 {
			d = append(d, analysis.Bin{Value: bar.To, Count: bar.Count})
		}
	}
	return d.Normalize()
}
