package loadtest

import (
	"maps"
	"math"
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram ranges, in microseconds. Latencies past the top are recorded at the top.
const (
	histMin     = 1
	histMax     = int64(2 * time.Minute / time.Microsecond)
	histDigits  = 3
	seriesDigit = 2
	maxPoints   = 200
)

// sample is one completed request as the recorder needs it.
type sample struct {
	endpoint string
	// due is when the request should have been sent, sent when it was, done when it
	// completed; all as offsets from the run's start.
	due, sent, done time.Duration
	code            int
	failed          bool
}

// latency is measured from the due time, so a late send counts against the side.
func (s sample) latency() time.Duration { return s.done - s.due }

// tally accumulates the requests of one side or one endpoint.
type tally struct {
	count, errors int64
	hist          *hdrhistogram.Histogram
}

func newTally() *tally { return &tally{hist: hdrhistogram.New(histMin, histMax, histDigits)} }

func (t *tally) add(s sample) {
	t.count++
	if s.failed || s.code >= 500 {
		t.errors++
	}
	if s.code != 0 {
		recordClamped(t.hist, s.latency())
	}
}

// merge adds another tally's requests to t, histograms bucket by bucket, so that
// percentiles are over all the requests, not averages of percentiles.
func (t *tally) merge(o *tally) {
	t.count += o.count
	t.errors += o.errors
	t.hist.Merge(o.hist)
}

func recordClamped(h *hdrhistogram.Histogram, d time.Duration) {
	us := max(d.Microseconds(), histMin)
	_ = h.RecordValue(min(us, h.HighestTrackableValue()))
}

func (t *tally) stats() Stats {
	s := Stats{Count: t.count, Errors: t.errors, Responses: t.hist.TotalCount()}
	if t.count > 0 {
		s.ErrorRate = math.Round(float64(t.errors)/float64(t.count)*1e6) / 1e6
	}
	if s.Responses == 0 {
		return s
	}
	h := t.hist
	s.Mean = microsToMillis(int64(math.Round(h.Mean())))
	s.P50 = microsToMillis(h.ValueAtPercentile(50))
	s.P90 = microsToMillis(h.ValueAtPercentile(90))
	s.P95 = microsToMillis(h.ValueAtPercentile(95))
	s.P99 = microsToMillis(h.ValueAtPercentile(99))
	s.P999 = microsToMillis(h.ValueAtPercentile(99.9))
	s.Max = microsToMillis(h.Max())
	return s
}

// recorder collects one side's samples. Add is called by one goroutine; snapshot
// may be called concurrently by the progress display.
type recorder struct {
	mu        sync.Mutex
	total     *tally
	endpoints map[string]*tally
	lag       *hdrhistogram.Histogram
	codes     map[int]int64
	width     time.Duration
	series    []*tally
	firstSent time.Duration
	lastSent  time.Duration
	aborted   int64
}

// newRecorder makes a recorder whose time series covers planned in at most maxPoints
// intervals of at least 100ms.
func newRecorder(planned time.Duration) *recorder {
	width := max(100*time.Millisecond, (planned / maxPoints).Round(100*time.Millisecond))
	for planned/width >= maxPoints {
		width += 100 * time.Millisecond
	}
	return &recorder{
		total:     newTally(),
		endpoints: map[string]*tally{},
		lag:       hdrhistogram.New(histMin, histMax, histDigits),
		codes:     map[int]int64{},
		width:     width,
		firstSent: -1,
	}
}

func (r *recorder) add(s sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total.add(s)
	t := r.endpoints[s.endpoint]
	if t == nil {
		t = newTally()
		r.endpoints[s.endpoint] = t
	}
	t.add(s)
	r.codes[s.code]++
	recordClamped(r.lag, s.sent-s.due)
	if r.firstSent < 0 || s.sent < r.firstSent {
		r.firstSent = s.sent
	}
	r.lastSent = max(r.lastSent, s.sent)
	i := int(s.sent / r.width)
	if i >= maxPoints*2 {
		return
	}
	for len(r.series) <= i {
		r.series = append(r.series, &tally{hist: hdrhistogram.New(histMin, histMax, seriesDigit)})
	}
	r.series[i].add(s)
}

func (r *recorder) abort() {
	r.mu.Lock()
	r.aborted++
	r.mu.Unlock()
}

// progress is what the progress display shows of a side.
type progress struct {
	count, errors int64
	p99           Millis
}

func (r *recorder) progress() progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return progress{count: r.total.count, errors: r.total.errors, p99: microsToMillis(r.total.hist.ValueAtPercentile(99))}
}

// side summarises the recorder into a report side.
func (r *recorder) side(name, url string) Side {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Side{Name: name, URL: url, Stats: r.total.stats(), Codes: map[string]int64{}}
	for code, n := range r.codes {
		s.Codes[strconv.Itoa(code)] = n
	}
	s.Pacing = Pacing{
		Sent:    r.total.count,
		LagP50:  microsToMillis(r.lag.ValueAtPercentile(50)),
		LagP99:  microsToMillis(r.lag.ValueAtPercentile(99)),
		LagMax:  microsToMillis(r.lag.Max()),
		Aborted: r.aborted,
	}
	if span := r.lastSent - r.firstSent; r.total.count > 1 && span > 0 {
		s.Pacing.AchievedRate = math.Round(float64(r.total.count-1)/span.Seconds()*10) / 10
	}
	for i, t := range r.series {
		p := Point{T: (time.Duration(i) * r.width).Seconds(), Count: t.count, Errors: t.errors}
		if t.hist.TotalCount() > 0 {
			p.P50 = microsToMillis(t.hist.ValueAtPercentile(50))
			p.P99 = microsToMillis(t.hist.ValueAtPercentile(99))
			p.Max = microsToMillis(t.hist.Max())
		}
		s.Series = append(s.Series, p)
	}
	s.Distribution = distribution(r.total.hist)
	return s
}

// endpointStats returns each endpoint's stats.
func (r *recorder) endpointStats() map[string]Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Stats, len(r.endpoints))
	for name, t := range r.endpoints {
		out[name] = t.stats()
	}
	return out
}

// endpointTallies returns each endpoint's tally, for merging after the run.
func (r *recorder) endpointTallies() map[string]*tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.endpoints)
}

// distribution returns latencies at percentiles spaced evenly on a log scale of
// 1/(1-p), from 0 to 99.999, and the maximum at 100.
func distribution(h *hdrhistogram.Histogram) []Quantile {
	if h.TotalCount() == 0 {
		return nil
	}
	var out []Quantile
	for k := 0; k <= 50; k++ {
		p := 100 * (1 - math.Pow(10, -float64(k)/10))
		out = append(out, Quantile{Percentile: math.Round(p*1000) / 1000, Latency: microsToMillis(h.ValueAtPercentile(p))})
	}
	out = append(out, Quantile{Percentile: 100, Latency: microsToMillis(h.Max())})
	return out
}
