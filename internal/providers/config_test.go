package providers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
)

// latencyGate returns the one latency gate of cfg.
func latencyGate(t *testing.T, cfg migrate.Config) analysis.LatencyGate {
	t.Helper()
	for _, g := range cfg.Gates {
		if lg, ok := g.(analysis.LatencyGate); ok {
			return lg
		}
	}
	t.Fatalf("no latency gate among %v", cfg.Gates)
	return analysis.LatencyGate{}
}

// sides is a sample with the same latency on both sides, so that only absolute limits
// can fail it.
func sides(latency time.Duration) analysis.Sample {
	d := analysis.Distribution{{Value: latency.Microseconds(), Count: 1000}}
	s := analysis.Side{Requests: 1000, Latency: d}
	return analysis.Sample{Legacy: s, New: s}
}

// The APM baseline a plan names (gates.latency.baseline, relative to the plan) reaches
// the latency gate that Config builds: its limits, with the plan's tolerance, fail a
// new side slower than the baseline even when legacy is as slow.
func TestConfigGivesTheLatencyGateTheBaselineLimits(t *testing.T) {
	p, err := plan.Load(filepath.Join("testdata", "baseline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := providers.Config(context.Background(), p, providers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	limits := latencyGate(t, cfg).Limits
	// shop-apm.csv has no overall row: the largest p95, p99 and max of its endpoints.
	if limits == nil || limits.P95 != 210*time.Millisecond || limits.P99 != 480*time.Millisecond ||
		limits.Max != 5100*time.Millisecond || limits.Mean <= 0 || limits.Tolerance != 1.5 {
		t.Fatalf("latency gate limits %+v, want the baseline's with tolerance 1.5", limits)
	}
	// The mean limit is the endpoints' count-weighted mean, about 27ms: 1.5 times
	// that is about 41ms.
	for _, tc := range []struct {
		name    string
		latency time.Duration
		want    analysis.Verdict
		message string
	}{
		{"within the baseline", 20 * time.Millisecond, analysis.Pass, ""},
		{"mean over the baseline", 45 * time.Millisecond, analysis.Fail, "over the baseline's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := latencyGate(t, cfg).Evaluate(sides(tc.latency))
			if r.Verdict != tc.want || !strings.Contains(r.Message, tc.message) {
				t.Fatalf("%s: %s, want %s with %q", r.Verdict, r.Message, tc.want, tc.message)
			}
		})
	}

	// Without the baseline the same slow sample passes: the sides are alike.
	p.Gates.Latency = nil
	cfg, err = providers.Config(context.Background(), p, providers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := latencyGate(t, cfg); g.Limits != nil || g.Evaluate(sides(45*time.Millisecond)).Verdict != analysis.Pass {
		t.Fatalf("without a baseline: limits %+v, verdict %s", g.Limits, g.Evaluate(sides(45*time.Millisecond)).Verdict)
	}
}

func TestConfigRefusesAMissingBaseline(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "baseline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse(data, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = providers.Config(context.Background(), p, providers.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "gates.latency.baseline: read baseline:") {
		t.Fatalf("Config: %v, want the missing baseline named", err)
	}
}
