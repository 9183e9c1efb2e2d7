package loadtest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// reportOf builds a report from samples given per endpoint, each side alike.
func reportOf(t *testing.T, latencies map[string][]time.Duration) *Report {
	t.Helper()
	cfg := Config{}.withDefaults()
	p := &plan{cfg: cfg, sched: schedule{rate: 100, end: time.Second}, mode: "constant"}
	sides := []*sideRun{{name: SideLegacy, rec: newRecorder(time.Second)}, {name: SideKubernetes, rec: newRecorder(time.Second)}}
	for endpoint, ls := range latencies {
		for _, l := range ls {
			for _, s := range sides {
				s.rec.add(sample{endpoint: endpoint, done: l, code: 200})
			}
		}
	}
	return p.report(time.Now(), time.Second, false, sides)
}

func TestTableTopAndOther(t *testing.T) {
	repeat := func(n int, d time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	// The two endpoints left out: 98 requests at 2ms and 2 at 300ms. Merged, their
	// p99 is 300ms and their mean 7.96ms; an average of their p99s would be neither.
	r := reportOf(t, map[string][]time.Duration{
		"GET /busiest": repeat(500, time.Millisecond),
		"GET /second":  repeat(200, time.Millisecond),
		"GET /fast":    repeat(98, 2*time.Millisecond),
		"GET /slow":    repeat(2, 300*time.Millisecond),
	})
	for _, tc := range []struct {
		top       int
		want      []string
		wantOther bool
	}{
		{0, []string{"GET /busiest", "GET /second", "GET /fast", "GET /slow"}, false},
		{2, []string{"GET /busiest", "GET /second", "(2 others)"}, true},
		{4, []string{"GET /busiest", "GET /second", "GET /fast", "GET /slow"}, false},
		{10, []string{"GET /busiest", "GET /second", "GET /fast", "GET /slow"}, false},
	} {
		t.Run(fmt.Sprint("top ", tc.top), func(t *testing.T) {
			rows := r.topRows(tc.top)
			var names []string
			for _, row := range rows {
				names = append(names, row.Endpoint)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("rows %v, want %v", names, tc.want)
			}
			var b bytes.Buffer
			if err := r.WriteTable(&b, tc.top); err != nil {
				t.Fatal(err)
			}
			for _, name := range tc.want {
				if !strings.Contains(b.String(), name) {
					t.Errorf("table lacks %q:\n%s", name, b.String())
				}
			}
			if !tc.wantOther {
				return
			}
			other := rows[len(rows)-1]
			near := func(got, want Millis) bool { return got >= want*0.999 && got <= want*1.001 }
			for _, st := range []Stats{other.Legacy, other.Kubernetes} {
				if st.Count != 100 || !near(st.P50, 2) || !near(st.P99, 300) || !near(st.Max, 300) || !near(st.Mean, 7.96) {
					t.Errorf("other row %+v, want 100 requests, p50 2ms, p99 and max 300ms, mean 7.96ms (three digits)", st)
				}
			}
			if len(r.Endpoints) != 4 {
				t.Errorf("report keeps %d endpoints, want all 4", len(r.Endpoints))
			}
		})
	}
}
