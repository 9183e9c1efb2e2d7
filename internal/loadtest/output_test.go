package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sampleReport runs a short real load test with a baseline, for the output tests.
func sampleReport(t *testing.T, cfg Config) *Report {
	t.Helper()
	legacy := newLatencyServer(t, 2*time.Millisecond, 100*time.Microsecond)
	kube := newLatencyServer(t, 3*time.Millisecond, 150*time.Microsecond)
	cfg.Legacy, cfg.Kubernetes = legacy.URL, kube.URL
	cfg.Rate, cfg.Duration = 100, 2*time.Second
	cfg.Paths = []string{"/products/1", "/products/2", "/cart", "/about"}
	cfg.BaselinePath = "testdata/shop-apm.json"
	cfg.Thresholds.MinSamples = 20
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportOutputs(t *testing.T) {
	r := sampleReport(t, Config{})
	t.Run("table", func(t *testing.T) {
		var b bytes.Buffer
		if err := r.WriteTable(&b, 0); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"SIDE", "legacy", "kubernetes", "GET /products/{id}", "GET /cart", "GET /about", "(all)",
			"24.6ms/140.0ms", "verdict: " + strings.ToUpper(string(r.Verdict.Outcome)), "thresholds: kubernetes/legacy"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Sides) != 2 || back.Sides[0].Stats.Count != r.Sides[0].Stats.Count || back.Verdict.Outcome != r.Verdict.Outcome {
			t.Errorf("JSON round trip lost data: %s", data)
		}
		var products *EndpointRow
		for i, e := range back.Endpoints {
			if e.Endpoint == "GET /products/{id}" {
				products = &back.Endpoints[i]
			}
		}
		if products == nil || products.Baseline == nil || products.Baseline.P99 != 140 || products.Legacy.Count < 80 {
			t.Errorf("products row %+v, want half the requests and the baseline's p99 of 140ms", products)
		}
	})
	t.Run("html is self-contained", func(t *testing.T) {
		var b bytes.Buffer
		if err := r.WriteHTML(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{`id="chart-latency-over-time"`, `id="chart-latency-distribution"`, `class="series"`, "GET /products/{id}"} {
			if !strings.Contains(out, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
		for _, banned := range []string{"<script src", "<link", "@import", "url(http", `src="http`} {
			if strings.Contains(out, banned) {
				t.Errorf("HTML fetches something (%q)", banned)
			}
		}
	})
}

func TestProgress(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tty       bool
		wantLines int
		want      string
	}{
		{"plain lines when not a terminal", false, 2, "legacy "},
		{"a bar redrawn on a terminal", true, 1, "\r["},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			legacy, kube := newLatencyServer(t, 0, 0), newLatencyServer(t, 0, 0)
			_, err := Run(context.Background(), Config{Legacy: legacy.URL, Kubernetes: kube.URL, Rate: 20, Duration: 1500 * time.Millisecond,
				Progress: &b, ProgressTTY: tc.tty, ProgressEvery: 400 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			out := b.String()
			lines := strings.Count(out, "\n")
			if lines < tc.wantLines || !strings.Contains(out, tc.want) || !strings.Contains(out, "kubernetes ") {
				t.Errorf("progress %q: %d lines, want at least %d containing %q", out, lines, tc.wantLines, tc.want)
			}
			if !tc.tty && strings.Contains(out, "\r") {
				t.Errorf("plain progress contains carriage returns: %q", out)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.1: 2, 3: 5, 7: 10, 49.2: 50, 51: 100, 120: 200} {
		if got := niceCeil(in); got < want*0.9999 || got > want*1.0001 {
			t.Errorf("niceCeil(%g) = %g, want %g", in, got, want)
		}
	}
}
