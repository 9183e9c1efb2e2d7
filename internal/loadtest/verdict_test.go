package loadtest

import (
	"strings"
	"testing"
)

func stats(n int64, errRate float64, mean, p99 Millis) Stats {
	return Stats{Count: n, Responses: n, Errors: int64(errRate * float64(n)), ErrorRate: errRate, Mean: mean, P95: p99 * 0.9, P99: p99}
}

func TestJudge(t *testing.T) {
	th := Thresholds{MinSamples: 100}
	ok := stats(1000, 0, 20, 50)
	for _, tc := range []struct {
		name        string
		total       EndpointRow
		rows        []EndpointRow
		th          Thresholds
		want        Outcome
		wantReason  string
		wantChecked int
	}{
		{"equal sides pass", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: ok}, nil, th, Pass, "", 3},
		{"p99 30% slower fails", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: stats(1000, 0, 20, 65)}, nil, th, Fail, "p99 vs legacy 1.30×", 3},
		{"p99 at the limit passes", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: stats(1000, 0, 20, 60)}, nil, th, Pass, "", 3},
		{"mean 25% slower fails", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: stats(1000, 0, 25, 50)}, nil, th, Fail, "mean vs legacy 1.25×", 3},
		{"faster passes", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: stats(1000, 0, 10, 20)}, nil, th, Pass, "", 3},
		{"tiny latencies ignore ratio under min delta", EndpointRow{Endpoint: TotalEndpoint, Legacy: stats(1000, 0, 0.3, 0.6), Kubernetes: stats(1000, 0, 0.6, 1.2)}, nil, th, Pass, "", 3},
		{"error rate up 2 points fails", EndpointRow{Endpoint: TotalEndpoint, Legacy: stats(1000, 0.001, 20, 50), Kubernetes: stats(1000, 0.021, 20, 50)}, nil, th, Fail, "error rate 2.10% vs 0.10%", 3},
		{"error rate up half a point passes", EndpointRow{Endpoint: TotalEndpoint, Legacy: stats(1000, 0.001, 20, 50), Kubernetes: stats(1000, 0.006, 20, 50)}, nil, th, Pass, "", 3},
		{"too few samples is inconclusive", EndpointRow{Endpoint: TotalEndpoint, Legacy: stats(50, 0, 20, 50), Kubernetes: stats(50, 0, 20, 50)}, nil, th, Inconclusive, "only 50 legacy and 50 kubernetes", 0},
		{"no responses is inconclusive", EndpointRow{Endpoint: TotalEndpoint}, nil, th, Inconclusive, "only 0 legacy", 0},
		{"a slow endpoint fails the run", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: ok},
			[]EndpointRow{{Endpoint: "GET /slow", Legacy: ok, Kubernetes: stats(500, 0, 20, 90)}}, th, Fail, "GET /slow: p99 vs legacy 1.80×", 6},
		{"a thin endpoint is skipped", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: ok},
			[]EndpointRow{{Endpoint: "GET /thin", Legacy: stats(10, 0, 20, 50), Kubernetes: stats(10, 0.5, 90, 900)}}, th, Pass, "", 3},
		{"worse than baseline fails", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: ok},
			[]EndpointRow{{Endpoint: "GET /", Legacy: ok, Kubernetes: ok, Baseline: &BaselineRow{Mean: 10, P99: 30}}}, th, Fail, "GET /: mean vs baseline 2.00×", 8},
		{"baseline without p99 uses p95", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: ok},
			[]EndpointRow{{Endpoint: "GET /", Legacy: ok, Kubernetes: ok, Baseline: &BaselineRow{Mean: 20, P95: 30}}}, th, Fail, "p95 vs baseline 1.50×", 8},
		{"looser ratio passes", EndpointRow{Endpoint: TotalEndpoint, Legacy: ok, Kubernetes: stats(1000, 0, 20, 65)}, nil, Thresholds{MaxRatio: 1.5, MinSamples: 100}, Pass, "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(tc.total, tc.rows, tc.th)
			if v.Outcome != tc.want {
				t.Fatalf("outcome %s, want %s (reasons %v)", v.Outcome, tc.want, v.Reasons)
			}
			joined := strings.Join(v.Reasons, "; ")
			if tc.wantReason != "" && !strings.Contains(joined, tc.wantReason) {
				t.Errorf("reasons %q, want one containing %q", joined, tc.wantReason)
			}
			if tc.want == Pass && len(v.Reasons) > 0 {
				t.Errorf("a pass with reasons %v", v.Reasons)
			}
			judged := 0
			for _, c := range v.Checks {
				if c.Outcome != Skip {
					judged++
				}
			}
			if judged != tc.wantChecked {
				t.Errorf("%d checks judged, want %d: %+v", judged, tc.wantChecked, v.Checks)
			}
			if v.Thresholds.MaxRatio == 0 || v.Thresholds.MinDelta == 0 {
				t.Errorf("verdict does not carry the thresholds it used: %+v", v.Thresholds)
			}
		})
	}
}

func TestThresholdsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   Thresholds
		ok   bool
	}{
		{"zero takes defaults", Thresholds{}, true},
		{"ratio below 1", Thresholds{MaxRatio: 0.8}, false},
		{"baseline ratio below 1", Thresholds{MaxBaselineRatio: 0.5}, false},
		{"error increase above 1", Thresholds{MaxErrorRateIncrease: 2}, false},
		{"negative samples", Thresholds{MinSamples: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.th.validate(); (err == nil) != tc.ok {
				t.Errorf("validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want []string
	}{
		{"healthy", Report{Mode: "constant", Rate: 100, Sides: []Side{{Name: "legacy", Pacing: Pacing{Sent: 300, AchievedRate: 100, LagP99: 1}}}}, nil},
		{"late sends", Report{Mode: "constant", Rate: 100, Sides: []Side{{Name: "legacy", Pacing: Pacing{Sent: 300, AchievedRate: 99, LagP99: 25}}}}, []string{"legacy: the generator sent late"}},
		{"rate not reached", Report{Mode: "constant", Rate: 100, Sides: []Side{{Name: "kubernetes", Pacing: Pacing{Sent: 300, AchievedRate: 60}}}}, []string{"kubernetes: achieved 60.0 req/s of 100.0"}},
		{"interrupted", Report{Mode: "constant", Rate: 100, Interrupted: true, Elapsed: 1.5, Planned: 30, Sides: []Side{{Name: "legacy", Pacing: Pacing{Sent: 100, AchievedRate: 60, Aborted: 2}}}},
			[]string{"legacy: 2 requests in flight", "interrupted after 1.5s of 30.0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := warnings(&tc.r)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %q, want prefix %q", got[i], w)
				}
			}
		})
	}
}
