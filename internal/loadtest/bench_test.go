package loadtest

import (
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkRecordResult measures the per-request cost of ferry's own bookkeeping
// (endpoint lookup and histograms), which bounds the top rate beside vegeta's.
func BenchmarkRecordResult(b *testing.B) {
	rec := newRecorder(time.Minute)
	res := &vegeta.Result{Method: "GET", URL: "http://127.0.0.1:8080/products/42", Code: 200, Latency: 3 * time.Millisecond}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d := time.Duration(i) * 100 * time.Microsecond
		rec.add(sample{endpoint: endpointOf(res), due: d, sent: d, done: d + res.Latency, code: 200})
	}
}
