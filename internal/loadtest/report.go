package loadtest

import (
	"math"
	"time"
)

// Millis is a latency in milliseconds.
type Millis float64

func millis(d time.Duration) Millis { return microsToMillis(d.Microseconds()) }

func microsToMillis(us int64) Millis { return Millis(math.Round(float64(us)) / 1000) }

// Report is what a run measured, side by side, with its verdict.
type Report struct {
	// Started is when the load began; Elapsed how long it ran (seconds).
	Started time.Time `json:"started"`
	Elapsed float64   `json:"elapsedSeconds"`
	// Planned is how long the run was meant to take (seconds).
	Planned float64 `json:"plannedSeconds"`
	// Interrupted is true when the run was stopped before its end; the report then
	// covers what ran.
	Interrupted bool `json:"interrupted"`
	// Mode is "constant" (a fixed rate) or "replay" (the log's own timing).
	Mode string `json:"mode"`
	// Rate is the offered rate per side, in requests per second (the average in replay).
	Rate float64 `json:"rate"`
	// Mix says where the requests came from.
	Mix Mix `json:"mix"`
	// Sides are the legacy side and the Kubernetes side, in that order.
	Sides []Side `json:"sides"`
	// Total compares all requests of both sides; Endpoints each endpoint, busiest first.
	Total     EndpointRow   `json:"total"`
	Endpoints []EndpointRow `json:"endpoints"`
	// Baseline is the APM file compared with, if any.
	Baseline string `json:"baseline,omitempty"`
	// Warnings say what makes the figures less trustworthy (a generator that fell
	// behind its schedule, requests cut off by a stop).
	Warnings []string `json:"warnings,omitempty"`
	// Verdict is the judgement, with the thresholds it used.
	Verdict Verdict `json:"verdict"`

	// tallies are each endpoint's requests per side (legacy, kubernetes), kept to
	// merge the endpoints a table leaves out into one row.
	tallies map[string][2]*tally
}

// Mix describes the request mix.
type Mix struct {
	// Source is the access log, or "paths".
	Source string `json:"source"`
	// Format is the access log's format.
	Format string `json:"format,omitempty"`
	// Requests is the number of distinct requests in one pass of the mix.
	Requests int `json:"requests"`
	// Endpoints is the number of endpoint templates in the mix.
	Endpoints int `json:"endpoints"`
	// SkippedWrites counts log requests left out because they are not read-only.
	SkippedWrites int `json:"skippedWrites"`
	// SkippedLines counts log lines that did not parse.
	SkippedLines int `json:"skippedLines"`
}

// Side is one side's results.
type Side struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Stats are over all its requests.
	Stats Stats `json:"stats"`
	// Pacing tells how closely the sends kept to the schedule.
	Pacing Pacing `json:"pacing"`
	// Codes counts responses by status code ("0" for transport errors).
	Codes map[string]int64 `json:"codes"`
	// Series is the latency over time.
	Series []Point `json:"series"`
	// Distribution is the latency by percentile, for the distribution chart.
	Distribution []Quantile `json:"distribution"`
}

// Stats summarise the requests of one side (and one endpoint). Latencies count from
// the time each request was due to be sent, so a late send is not hidden.
type Stats struct {
	// Count is the requests that completed (responses and transport errors).
	Count int64 `json:"count"`
	// Responses is the requests that got an HTTP response; latencies are theirs.
	Responses int64 `json:"responses"`
	// Errors is transport errors and 5xx responses; ErrorRate is Errors / Count.
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"errorRate"`
	Mean      Millis  `json:"meanMs"`
	P50       Millis  `json:"p50Ms"`
	P90       Millis  `json:"p90Ms"`
	P95       Millis  `json:"p95Ms"`
	P99       Millis  `json:"p99Ms"`
	P999      Millis  `json:"p999Ms"`
	Max       Millis  `json:"maxMs"`
}

// Pacing compares actual send times with the schedule.
type Pacing struct {
	// Sent is the number of requests sent.
	Sent int64 `json:"sent"`
	// AchievedRate is the sent requests per second between the first and last send.
	AchievedRate float64 `json:"achievedRate"`
	// LagP50, LagP99 and LagMax are how late sends were against their due time.
	LagP50 Millis `json:"lagP50Ms"`
	LagP99 Millis `json:"lagP99Ms"`
	LagMax Millis `json:"lagMaxMs"`
	// Aborted counts requests cut off when the run was stopped; they are in no figure.
	Aborted int64 `json:"aborted"`
}

// Point is one interval of the latency-over-time series.
type Point struct {
	// T is the interval's start, in seconds from the run's start.
	T      float64 `json:"t"`
	Count  int64   `json:"count"`
	Errors int64   `json:"errors"`
	P50    Millis  `json:"p50Ms"`
	P99    Millis  `json:"p99Ms"`
	Max    Millis  `json:"maxMs"`
}

// Quantile is a latency at a percentile.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	Latency    Millis  `json:"latencyMs"`
}

// EndpointRow compares one endpoint's two sides.
type EndpointRow struct {
	// Endpoint is "METHOD /path/{id}", or TotalEndpoint.
	Endpoint   string `json:"endpoint"`
	Legacy     Stats  `json:"legacy"`
	Kubernetes Stats  `json:"kubernetes"`
	// Ratio is kubernetes/legacy per figure (0 without a legacy figure).
	Ratio Ratios `json:"ratio"`
	// Baseline is the APM figures for this endpoint, if the baseline has it.
	Baseline *BaselineRow `json:"baseline,omitempty"`
	// Outcome is the worst outcome of this endpoint's checks.
	Outcome Outcome `json:"outcome"`
}

// Ratios are quotients of two sides' figures.
type Ratios struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// BaselineRow is an endpoint's APM figures and how each side compares.
type BaselineRow struct {
	// Name is the endpoint as the baseline file names it.
	Name string `json:"name"`
	Mean Millis `json:"meanMs"`
	P95  Millis `json:"p95Ms"`
	P99  Millis `json:"p99Ms"`
	Max  Millis `json:"maxMs"`
	// Legacy and Kubernetes are each side's figures divided by the baseline's.
	Legacy     Ratios `json:"legacy"`
	Kubernetes Ratios `json:"kubernetes"`
}

func ratios(a, b Stats) Ratios {
	return Ratios{Mean: ratio(a.Mean, b.Mean), P50: ratio(a.P50, b.P50), P90: ratio(a.P90, b.P90), P99: ratio(a.P99, b.P99), Max: ratio(a.Max, b.Max)}
}

func baselineRatios(s Stats, b *BaselineRow) Ratios {
	return Ratios{Mean: ratio(s.Mean, b.Mean), P99: ratio(s.P99, b.P99), Max: ratio(s.Max, b.Max)}
}

// worst returns the worst outcome of the checks of one endpoint.
func worst(checks []Check, endpoint string) Outcome {
	out := Skip
	for _, c := range checks {
		if c.Endpoint != endpoint {
			continue
		}
		switch {
		case c.Outcome == Fail:
			return Fail
		case c.Outcome == Pass:
			out = Pass
		}
	}
	return out
}
