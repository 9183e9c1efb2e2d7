package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/metrics/prometheus"
	"ferry.dev/ferry/internal/metrics/prometheus/promtest"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// perSide is how many requests each side gets: 8 s of the test's load or more, so
// that the gates below can judge and the extrapolation stays small.
const perSide = 1200

// proxyBuckets are the upper bounds in microseconds of the proxy's latency histogram.
var proxyBuckets = []int64{500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000}

// bucketOf returns the upper bound of the proxy's bucket that holds a latency of us
// microseconds.
func bucketOf(us int64) int64 {
	for _, b := range proxyBuckets {
		if us <= b {
			return b
		}
	}
	return 2 * proxyBuckets[len(proxyBuckets)-1]
}

// Real traffic through the embedded proxy, scraped by a real Prometheus: the source's
// numbers must agree with what the proxy counted itself.
func TestSampleAgreesWithTheProxy(t *testing.T) {
	legacy := migratetest.NewBackend(t, 0.005, 10*time.Millisecond, 20*time.Millisecond)
	kube := migratetest.NewBackend(t, 0.06, 30*time.Millisecond, 40*time.Millisecond)
	p := migratetest.StartProxy(t, legacy, kube)
	ctx := context.Background()
	if err := p.SetWeights(ctx, traffic.KubernetesShare(5000)); err != nil {
		t.Fatal(err)
	}
	prom := promtest.Start(t, p.AdminAddr())
	// The proxy makes a route's series (both sides, every status class) on its first
	// request; as in a real migration, where legacy served every route long before,
	// they exist, at 0 for the Kubernetes side, before the window opens.
	resp, err := http.Get(migratetest.URL(p))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	prom.WaitScrapedAfter(t, time.Now())
	since := time.Now()
	prom.WaitScrapedAfter(t, since) // a sample before any request of the window opens it
	load := migratetest.StartLoad(migratetest.URL(p), 300)
	devclustertest.WaitFor(t, time.Minute, fmt.Sprintf("%d requests on each side", perSide), func(context.Context) (bool, error) {
		s := p.Stats(time.Since(since) + time.Second)
		return s.Legacy.Requests >= perSide && s.Kubernetes.Requests >= perSide, nil
	})
	load.Stop()
	prom.WaitScrapedAfter(t, time.Now()) // the final counts scraped
	src, err := prometheus.New(prometheus.Config{Address: prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	sample, err := src.Sample(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	stats := p.Stats(time.Since(since) + time.Second)
	for _, side := range []struct {
		name       string
		got        analysis.Side
		proxy      proxy.SideStats
		minErrRate float64
	}{
		{"legacy", sample.Legacy, stats.Legacy, 0},
		{"kubernetes", sample.New, stats.Kubernetes, 0.03},
	} {
		// increase() extrapolates to the end of the window, by up to a scrape interval
		// of the 8 s or more the counts rose.
		requests := side.proxy.Requests
		if lo, hi := float64(requests)*0.97, float64(requests)*1.25; float64(side.got.Requests) < lo || float64(side.got.Requests) > hi {
			t.Errorf("%s: Prometheus says %d requests, the proxy counted %d", side.name, side.got.Requests, requests)
		}
		if n := side.got.Latency.Count(); n < side.got.Requests*9/10 || n > side.got.Requests*11/10 {
			t.Errorf("%s: %d latency observations for %d requests", side.name, n, side.got.Requests)
		}
		// The median's bucket is the one holding the proxy's own median, give or take
		// the requests near it: the extrapolation scales every bucket alike.
		lo, hi := bucketOf(side.proxy.Histogram.ValueAtQuantile(40)), bucketOf(side.proxy.Histogram.ValueAtQuantile(60))
		if p50 := side.got.Latency.Quantile(0.5); p50 < lo || p50 > hi {
			t.Errorf("%s: median in the bucket up to %dµs, want the bucket of the proxy's 40th to 60th percentile, %d to %dµs (%v)", side.name, p50, lo, hi, side.got.Latency)
		}
		if side.got.ErrorRate() < side.minErrRate || side.got.ErrorRate() > 0.1 {
			t.Errorf("%s: error rate %.3f", side.name, side.got.ErrorRate())
		}
	}
	// What the gates make of it: the Kubernetes side is both slower and failing more.
	// Slower shows in the buckets only while the machine keeps up: the proxy's own
	// medians in the buckets of the backends' latencies (10-20 ms, 30-40 ms). On a
	// machine so busy that waiting for the CPU makes most of every latency, both
	// medians land in one bucket and no correct gate can tell the sides apart.
	gates := []analysis.Gate{analysis.ErrorRateGate{MinAbsolute: 0.02}}
	legacyP50, kubeP50 := bucketOf(stats.Legacy.Latency.P50), bucketOf(stats.Kubernetes.Latency.P50)
	if legacyP50 == 25000 && kubeP50 == 50000 {
		gates = append(gates, analysis.LatencyGate{MinRequests: 200})
	} else {
		t.Logf("the machine was too busy to judge latency: the proxy's medians are in the buckets up to %dµs and %dµs", legacyP50, kubeP50)
	}
	for _, g := range gates {
		if r := g.Evaluate(sample); r.Verdict != analysis.Fail {
			t.Errorf("gate %s: %s (%s), want fail", r.Gate, r.Verdict, r.Message)
		}
	}

	t.Run("by endpoint", func(t *testing.T) {
		src, err := prometheus.New(prometheus.Config{Address: prom.URL, ByEndpoint: true})
		if err != nil {
			t.Fatal(err)
		}
		sample, err := src.Sample(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		// The load asks for / only: one endpoint, with the sides' own numbers.
		if len(sample.Endpoints) != 1 || sample.Endpoints[0].Name != "GET /" {
			t.Fatalf("endpoints %+v, want GET / alone", sample.Endpoints)
		}
		e := sample.Endpoints[0]
		if e.Legacy.Requests != sample.Legacy.Requests || e.New.Errors != sample.New.Errors || e.New.Latency.Count() != sample.New.Latency.Count() {
			t.Errorf("GET /: legacy %d requests, new %d errors, %d latencies; the sides: %d, %d, %d",
				e.Legacy.Requests, e.New.Errors, e.New.Latency.Count(), sample.Legacy.Requests, sample.New.Errors, sample.New.Latency.Count())
		}
		g := analysis.EndpointGate{ErrorRate: &analysis.ErrorRateGate{MinAbsolute: 0.02}}
		if r := g.Evaluate(sample); r.Verdict != analysis.Fail || !strings.Contains(r.Message, "GET /") {
			t.Errorf("per-endpoint gate: %s %s, want a failure of GET /", r.Verdict, r.Message)
		}
	})

	t.Run("bad settings are one-line errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			cfg  prometheus.Config
			want string
			is   error
		}{
			{"unreachable", prometheus.Config{Address: "http://127.0.0.1:1"}, "connect: connection refused", nil},
			{"a query Prometheus cannot parse", prometheus.Config{Address: prom.URL, Queries: prometheus.Queries{Requests: `sum(rate(x{side="{{.Side}}"}[{{.Window}}])`}}, "bad_data", nil},
			{"side labels that match nothing", prometheus.Config{Address: prom.URL, Legacy: "ec2", Kubernetes: "eks"}, "the requests query matches nothing for ec2 or eks", prometheus.ErrNoSeries},
		} {
			t.Run(tc.name, func(t *testing.T) {
				src, err := prometheus.New(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				_, err = src.Sample(ctx, time.Now().Add(-time.Minute))
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || tc.is != nil && !errors.Is(err, tc.is) {
					t.Fatalf("Sample: %v, want one line with %q", err, tc.want)
				}
			})
		}
	})
}

// A Prometheus behind an authenticating proxy: this server speaks the documented
// /api/v1/query API and answers only with the bearer token.
func TestBearerToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.FormValue("query"), "by (le)") {
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"le":"0.1"},"value":[1700000000,"7"]},{"metric":{"le":"+Inf"},"value":[1700000000,"7"]}]}}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"7"]}]}}`))
	}))
	defer srv.Close()
	for token, ok := range map[string]bool{"s3cret": true, "wrong": false} {
		src, err := prometheus.New(prometheus.Config{Address: srv.URL, BearerToken: token})
		if err != nil {
			t.Fatal(err)
		}
		s, err := src.Sample(context.Background(), time.Now().Add(-time.Minute))
		if ok && (err != nil || s.Legacy.Requests != 7 || s.Legacy.Errors != 7 || s.New.Latency.Count() != 7) {
			t.Fatalf("with the token: %+v, %v", s, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "401")) {
			t.Fatalf("with a wrong token: %v, want a 401", err)
		}
	}
}
