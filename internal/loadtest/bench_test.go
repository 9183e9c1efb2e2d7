package loadtest

import (
	"testing"
	"time"
)

// BenchmarkRecordResult measures the per-request cost of ferry's own bookkeeping
// (histograms of the side, the endpoint, the time series and the send lag), which
// every request pays beside the HTTP client's.
func BenchmarkRecordResult(b *testing.B) {
	rec := newRecorder(time.Minute)
	endpoint := newRequest("GET", "/products/42").endpoint
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d := time.Duration(i) * 100 * time.Microsecond
		rec.add(sample{endpoint: endpoint, due: d, sent: d, done: d + 3*time.Millisecond, code: 200})
	}
}
