package datadog_test

// Datadog is not reachable from tests: ddServer speaks its documented metrics query API
// (GET /api/v1/query with from, to and query; DD-API-KEY and DD-APPLICATION-KEY headers;
// {"errors": [...]} on refusals; 429 with X-RateLimit-Reset when rate limited).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/metrics/datadog"
)

type point struct {
	at    time.Time
	value *float64
}

type ddServer struct {
	*httptest.Server
	mu      sync.Mutex
	data    map[string][]point // query → points
	limited int                // answer the next requests with 429
	seen    []string           // "query from to" of each answered request
	refused int
}

func newDDServer(t *testing.T) *ddServer {
	s := &ddServer{data: map[string][]point{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *ddServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/query" {
		writeJSON(w, http.StatusNotFound, map[string][]string{"errors": {"Not found"}})
		return
	}
	if r.Header.Get("DD-API-KEY") != "api-key" || r.Header.Get("DD-APPLICATION-KEY") != "app-key" {
		writeJSON(w, http.StatusForbidden, map[string][]string{"errors": {"Forbidden"}})
		return
	}
	if s.limited > 0 {
		s.limited--
		s.refused++
		w.Header().Set("X-RateLimit-Limit", "1600")
		w.Header().Set("X-RateLimit-Period", "3600")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string][]string{"errors": {"Rate limit of 1600 requests in 3600 seconds reached."}})
		return
	}
	q := r.URL.Query()
	from, errF := strconv.ParseInt(q.Get("from"), 10, 64)
	to, errT := strconv.ParseInt(q.Get("to"), 10, 64)
	query := q.Get("query")
	if errF != nil || errT != nil || query == "" {
		writeJSON(w, http.StatusBadRequest, map[string][]string{"errors": {"The from, to and query parameters are required"}})
		return
	}
	if strings.Count(query, "{") != strings.Count(query, "}") {
		writeJSON(w, http.StatusBadRequest, map[string][]string{"errors": {"Error parsing query: unbalanced braces in " + query}})
		return
	}
	s.seen = append(s.seen, fmt.Sprintf("%s %d %d", query, from, to))
	var list [][2]any
	for _, p := range s.data[query] {
		if sec := p.at.Unix(); sec >= from && sec <= to {
			list = append(list, [2]any{p.at.UnixMilli(), p.value})
		}
	}
	series := []map[string]any{}
	if len(list) > 0 {
		series = append(series, map[string]any{"metric": strings.SplitN(query, "{", 2)[0], "scope": "service:shop", "interval": 10, "length": len(list), "pointlist": list})
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "res_type": "time_series", "resp_version": 1, "query": query,
		"from_date": from * 1000, "to_date": to * 1000, "series": series, "message": "", "group_by": []string{}})
}

// every puts a point every 10 seconds over the last five minutes, value(i) for the
// i-th (nil for none).
func (s *ddServer) every(query string, value func(i int) *float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for i := 0; i < 30; i++ {
		s.data[query] = append(s.data[query], point{at: now.Add(-time.Duration(300-10*i) * time.Second), value: value(i)})
	}
}

func f(v float64) *float64 { return &v }

var queries = datadog.Queries{
	Requests: "sum:trace.rack.request.hits{service:shop,side:{{.Side}}}.as_count()",
	Errors:   "sum:trace.rack.request.errors{service:shop,side:{{.Side}}}.as_count()",
	Latency: map[string]string{
		"p50": "p50:trace.rack.request{service:shop,side:{{.Side}}}",
		"p99": "p99:trace.rack.request{service:shop,side:{{.Side}}}",
		"max": "max:trace.rack.request{service:shop,side:{{.Side}}}",
	},
}

// newSource serves legacy at 100 requests and 1 error per 10s, kubernetes at 100 and 20
// (with a gap), latency in seconds.
func newSource(t *testing.T, mutate func(*datadog.Config)) (*ddServer, *datadog.Source) {
	s := newDDServer(t)
	for side, v := range map[string]struct{ req, errs, p50, p99, max float64 }{
		"legacy": {100, 1, 0.012, 0.080, 0.300}, "kubernetes": {100, 20, 0.015, 0.120, 0.500},
	} {
		s.every("sum:trace.rack.request.hits{service:shop,side:"+side+"}.as_count()", func(int) *float64 { return f(v.req) })
		s.every("sum:trace.rack.request.errors{service:shop,side:"+side+"}.as_count()", func(i int) *float64 {
			if i%3 == 0 {
				return nil // an interval with no data
			}
			return f(v.errs)
		})
		s.every("p50:trace.rack.request{service:shop,side:"+side+"}", func(i int) *float64 { return f(v.p50 * (0.9 + 0.2*float64(i%2))) })
		s.every("p99:trace.rack.request{service:shop,side:"+side+"}", func(int) *float64 { return f(v.p99) })
		s.every("max:trace.rack.request{service:shop,side:"+side+"}", func(i int) *float64 { return f(v.max * float64(i+1) / 30) })
	}
	cfg := datadog.Config{Site: s.URL, APIKey: "api-key", AppKey: "app-key", Queries: queries}
	if mutate != nil {
		mutate(&cfg)
	}
	src, err := datadog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, src
}

// expect adds up the points the server holds for query within the window, as Datadog
// would return them.
func (s *ddServer) expect(query string, from time.Time, combine func(vals []float64) float64) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var vals []float64
	for _, p := range s.data[query] {
		if p.value != nil && p.at.Unix() >= from.Unix() {
			vals = append(vals, *p.value)
		}
	}
	return combine(vals)
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

func TestSampleFromTheQueryAPI(t *testing.T) {
	s, src := newSource(t, nil)
	since := time.Now().Add(-95 * time.Second)
	sample, err := src.Sample(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []struct {
		tag string
		got analysis.Side
	}{{"legacy", sample.Legacy}, {"kubernetes", sample.New}} {
		req := s.expect("sum:trace.rack.request.hits{service:shop,side:"+side.tag+"}.as_count()", since, sum)
		errs := s.expect("sum:trace.rack.request.errors{service:shop,side:"+side.tag+"}.as_count()", since, sum)
		p50 := s.expect("p50:trace.rack.request{service:shop,side:"+side.tag+"}", since, func(v []float64) float64 { return sum(v) / float64(len(v)) })
		top := s.expect("max:trace.rack.request{service:shop,side:"+side.tag+"}", since, func(v []float64) float64 { return v[len(v)-1] })
		if side.got.Requests != int64(req) || side.got.Errors != int64(errs) || req == 0 {
			t.Errorf("%s: %d requests, %d errors; the API holds %v and %v in the window", side.tag, side.got.Requests, side.got.Errors, req, errs)
		}
		if got, want := side.got.Latency.Quantile(0.5), int64(math.Round(p50*1e6)); got != want {
			t.Errorf("%s: p50 %dµs, want the mean of the window's p50 points %dµs", side.tag, got, want)
		}
		if got, want := side.got.Latency.Max(), int64(math.Round(top*1e6)); got != want {
			t.Errorf("%s: max %dµs, want the window's largest %dµs", side.tag, got, want)
		}
		if side.got.Latency.Count() != side.got.Requests {
			t.Errorf("%s: %d latency observations for %d requests", side.tag, side.got.Latency.Count(), side.got.Requests)
		}
	}
	wantFrom := strconv.FormatInt(since.Unix(), 10)
	for _, q := range s.seen {
		if fields := strings.Fields(q); fields[1] != wantFrom {
			t.Fatalf("query %q asked from %s, want the window's start %s", fields[0], fields[1], wantFrom)
		}
	}
	if len(s.seen) != 2*(2+3) {
		t.Fatalf("%d queries, want requests, errors and three percentiles per side", len(s.seen))
	}
	// The Kubernetes side fails 20% against legacy's 1%: the error gate sees it.
	if r := (analysis.ErrorRateGate{}).Evaluate(sample); r.Verdict != analysis.Fail {
		t.Errorf("error gate %s: %s", r.Verdict, r.Message)
	}
}

func TestQueriesOfAWindowAreSpaced(t *testing.T) {
	s, src := newSource(t, func(c *datadog.Config) { c.MinInterval = time.Hour })
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	first, err := src.Sample(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	again, err := src.Sample(ctx, since)
	if err != nil || len(s.seen) != 10 || again.Legacy.Requests != first.Legacy.Requests {
		t.Fatalf("a second look at the same window within MinInterval: %v, %d queries in all, want the 10 of the first", err, len(s.seen))
	}
	if _, err := src.Sample(ctx, since.Add(-time.Minute)); err != nil || len(s.seen) != 20 {
		t.Fatalf("another window: %v, %d queries in all, want 10 more", err, len(s.seen))
	}
}

func TestRateLimitsAreWaitedOut(t *testing.T) {
	s, src := newSource(t, nil)
	s.limited = 2
	start := time.Now()
	if _, err := src.Sample(context.Background(), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); s.refused != 2 || took < 2*time.Second {
		t.Fatalf("%d requests refused, Sample took %s: want two waits of the 1s reset", s.refused, took)
	}
}

func TestRefusalsAreOneLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*datadog.Config)
		want   string
		is     error
	}{
		{"wrong keys", func(c *datadog.Config) { c.AppKey = "other" }, "403 Forbidden: Forbidden", nil},
		{"a query Datadog cannot parse", func(c *datadog.Config) { c.Queries.Errors = "sum:errors{side:{{.Side}}" }, "400 Bad Request: Error parsing query", nil},
		{"side tags that match nothing", func(c *datadog.Config) { c.Legacy, c.Kubernetes = "ec2", "eks" }, "the requests query matches nothing for ec2 or eks", datadog.ErrNoSeries},
		{"unreachable", func(c *datadog.Config) { c.Site = "http://127.0.0.1:1" }, "connection refused", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, src := newSource(t, tc.mutate)
			_, err := src.Sample(context.Background(), time.Now().Add(-time.Minute))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Sample: %v, want one line with %q", err, tc.want)
			}
		})
	}
}

func TestNewRefusesBadQueries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*datadog.Queries)
		want   string
	}{
		{"no requests query", func(q *datadog.Queries) { q.Requests = "" }, "queries.requests is required"},
		{"a query without the side", func(q *datadog.Queries) { q.Errors = "sum:trace.rack.request.errors{service:shop}.as_count()" }, "queries.errors does not use {{.Side}}"},
		{"a percentile without a name", func(q *datadog.Queries) { q.Latency = map[string]string{"median": "p50:x{side:{{.Side}}}"} }, "queries.latency.median: name a latency query p50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := queries
			q.Latency = map[string]string{"p50": queries.Latency["p50"]}
			tc.mutate(&q)
			_, err := datadog.New(datadog.Config{APIKey: "a", AppKey: "b", Queries: q})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want %q", err, tc.want)
			}
		})
	}
}
