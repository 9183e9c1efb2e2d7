package dashboard

import (
	"time"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/analysis"
)

// point is one sample a Migration's status carried: both sides over the window the
// gates judged, at the step it was judged at.
type point struct {
	At     time.Time
	Step   int // counted from 1
	Weight string
	Legacy sideStats
	New    sideStats
}

// sideStats is one side of a sample.
type sideStats struct {
	Requests  int64
	ErrorRate float64
	// P50 and P99 are latencies in milliseconds.
	P50, P99 float64
}

func statsOf(s analysis.Side) sideStats {
	return sideStats{
		Requests: s.Requests, ErrorRate: s.ErrorRate(),
		P50: float64(s.Latency.Quantile(0.5)) / 1000, P99: float64(s.Latency.Quantile(0.99)) / 1000,
	}
}

// series is a bounded ring of one Migration's samples, one per saved status
// revision that carried a sample.
type series struct {
	max          int
	buf          []point
	next         int
	lastRevision int64
}

// observe records m's sample if its status is a save not seen before.
func (sr *series) observe(m *v1alpha1.Migration) {
	if m.Status.Revision == 0 || m.Status.Revision == sr.lastRevision {
		return
	}
	sr.lastRevision = m.Status.Revision
	st := engineState(m)
	if st == nil || st.Sample == nil {
		return
	}
	p := point{At: st.Updated, Step: st.Step + 1, Weight: m.Status.AppliedWeight, Legacy: statsOf(st.Sample.Legacy), New: statsOf(st.Sample.New)}
	if p.At.IsZero() {
		p.At = time.Now()
	}
	if len(sr.buf) < sr.max {
		sr.buf = append(sr.buf, p)
		return
	}
	sr.buf[sr.next] = p
	sr.next = (sr.next + 1) % sr.max
}

// points returns the samples, oldest first.
func (sr *series) points() []point {
	out := make([]point, 0, len(sr.buf))
	out = append(out, sr.buf[sr.next:]...)
	return append(out, sr.buf[:sr.next]...)
}
