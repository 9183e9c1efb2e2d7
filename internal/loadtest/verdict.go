package loadtest

import (
	"fmt"
	"math"
)

// Default thresholds of the verdict.
const (
	DefaultMaxRatio             = 1.2
	DefaultMaxBaselineRatio     = 1.2
	DefaultMaxErrorRateIncrease = 0.01
	DefaultMinDelta             = Millis(1)
	DefaultMinSamples           = 100
)

// Thresholds decide the verdict. Zero fields take the defaults.
type Thresholds struct {
	// MaxRatio is the highest kubernetes/legacy ratio of mean and p99 latency.
	MaxRatio float64 `json:"maxRatio"`
	// MaxBaselineRatio is the highest kubernetes/baseline ratio of mean and p99 (p95
	// when the baseline has no p99).
	MaxBaselineRatio float64 `json:"maxBaselineRatio"`
	// MaxErrorRateIncrease is how much higher the Kubernetes error rate may be than
	// the legacy one, as a fraction (0.01 = one percentage point).
	MaxErrorRateIncrease float64 `json:"maxErrorRateIncrease"`
	// MinDelta is a latency difference too small to fail on, whatever the ratio.
	MinDelta Millis `json:"minDeltaMs"`
	// MinSamples is the fewest responses per side that a check needs; with fewer it
	// is skipped, and with fewer in total the verdict is inconclusive.
	MinSamples int64 `json:"minSamples"`
}

func (t Thresholds) withDefaults() Thresholds {
	if t.MaxRatio == 0 {
		t.MaxRatio = DefaultMaxRatio
	}
	if t.MaxBaselineRatio == 0 {
		t.MaxBaselineRatio = DefaultMaxBaselineRatio
	}
	if t.MaxErrorRateIncrease == 0 {
		t.MaxErrorRateIncrease = DefaultMaxErrorRateIncrease
	}
	if t.MinDelta == 0 {
		t.MinDelta = DefaultMinDelta
	}
	if t.MinSamples == 0 {
		t.MinSamples = DefaultMinSamples
	}
	return t
}

func (t Thresholds) validate() error {
	switch {
	case t.MaxRatio < 0 || t.MaxRatio > 0 && t.MaxRatio < 1:
		return fmt.Errorf("%w: max ratio %g must be at least 1", ErrConfig, t.MaxRatio)
	case t.MaxBaselineRatio < 0 || t.MaxBaselineRatio > 0 && t.MaxBaselineRatio < 1:
		return fmt.Errorf("%w: max baseline ratio %g must be at least 1", ErrConfig, t.MaxBaselineRatio)
	case t.MaxErrorRateIncrease < 0 || t.MaxErrorRateIncrease > 1:
		return fmt.Errorf("%w: max error-rate increase %g must be between 0 and 1", ErrConfig, t.MaxErrorRateIncrease)
	case t.MinDelta < 0 || t.MinSamples < 0:
		return fmt.Errorf("%w: min delta and min samples must not be negative", ErrConfig)
	}
	return nil
}

// Outcome is the result of one check or of the whole verdict.
type Outcome string

// Outcomes. A check is skipped when it lacks samples or a reference; a verdict is
// inconclusive when the run as a whole lacks samples: no data is never a pass.
const (
	Pass         Outcome = "pass"
	Fail         Outcome = "fail"
	Skip         Outcome = "skip"
	Inconclusive Outcome = "inconclusive"
)

// Check is one comparison the verdict made.
type Check struct {
	// Endpoint is the endpoint compared, or TotalEndpoint.
	Endpoint string `json:"endpoint"`
	// Metric names what was compared: "p99 vs legacy", "mean vs baseline", "error rate".
	Metric string `json:"metric"`
	// Value is the Kubernetes side's figure, Reference what it was compared with
	// (milliseconds, or fractions for error rates).
	Value     float64 `json:"value"`
	Reference float64 `json:"reference"`
	// Limit is the highest ratio (or error-rate increase) allowed.
	Limit   float64 `json:"limit"`
	Outcome Outcome `json:"outcome"`
	// Detail says in words why the check came out as it did.
	Detail string `json:"detail"`
}

// Verdict is the judgement of a run.
type Verdict struct {
	Outcome    Outcome    `json:"outcome"`
	Reasons    []string   `json:"reasons,omitempty"`
	Thresholds Thresholds `json:"thresholds"`
	Checks     []Check    `json:"checks"`
}

// TotalEndpoint names the row of all requests together.
const TotalEndpoint = "(all)"

// Judge decides a verdict from the total row and the endpoint rows. It is pure: the
// same rows and thresholds always give the same verdict.
func Judge(total EndpointRow, rows []EndpointRow, th Thresholds) Verdict {
	th = th.withDefaults()
	v := Verdict{Outcome: Pass, Thresholds: th}
	v.Checks = append(v.Checks, rowChecks(total, th)...)
	for _, r := range rows {
		v.Checks = append(v.Checks, rowChecks(r, th)...)
	}
	for _, c := range v.Checks {
		if c.Outcome == Fail {
			v.Outcome = Fail
			v.Reasons = append(v.Reasons, c.Endpoint+": "+c.Detail)
		}
	}
	if v.Outcome == Pass && (total.Legacy.Responses < th.MinSamples || total.Kubernetes.Responses < th.MinSamples) {
		v.Outcome = Inconclusive
		v.Reasons = append(v.Reasons, fmt.Sprintf("only %d legacy and %d kubernetes responses; at least %d each are needed",
			total.Legacy.Responses, total.Kubernetes.Responses, th.MinSamples))
	}
	return v
}

// rowChecks compares one endpoint's sides with each other and with its baseline.
func rowChecks(r EndpointRow, th Thresholds) []Check {
	enough := r.Legacy.Responses >= th.MinSamples && r.Kubernetes.Responses >= th.MinSamples
	checks := []Check{
		latencyCheck(r.Endpoint, "p99 vs legacy", r.Kubernetes.P99, r.Legacy.P99, th.MaxRatio, th.MinDelta, enough),
		latencyCheck(r.Endpoint, "mean vs legacy", r.Kubernetes.Mean, r.Legacy.Mean, th.MaxRatio, th.MinDelta, enough),
		errorRateCheck(r.Endpoint, r.Kubernetes, r.Legacy, th),
	}
	if b := r.Baseline; b != nil {
		kEnough := r.Kubernetes.Responses >= th.MinSamples
		checks = append(checks, latencyCheck(r.Endpoint, "mean vs baseline", r.Kubernetes.Mean, b.Mean, th.MaxBaselineRatio, th.MinDelta, kEnough))
		if b.P99 > 0 {
			checks = append(checks, latencyCheck(r.Endpoint, "p99 vs baseline", r.Kubernetes.P99, b.P99, th.MaxBaselineRatio, th.MinDelta, kEnough))
		} else {
			checks = append(checks, latencyCheck(r.Endpoint, "p95 vs baseline", r.Kubernetes.P95, b.P95, th.MaxBaselineRatio, th.MinDelta, kEnough))
		}
	}
	return checks
}

// latencyCheck fails when value is more than limit times ref and more than minDelta
// above it; it skips without enough samples or without a reference.
func latencyCheck(endpoint, metric string, value, ref Millis, limit float64, minDelta Millis, enough bool) Check {
	c := Check{Endpoint: endpoint, Metric: metric, Value: float64(value), Reference: float64(ref), Limit: limit}
	switch {
	case !enough:
		c.Outcome, c.Detail = Skip, metric+": too few samples"
	case ref <= 0:
		c.Outcome, c.Detail = Skip, metric+": no reference"
	default:
		ratio := float64(value) / float64(ref)
		c.Detail = fmt.Sprintf("%s %.2f× (%.1fms vs %.1fms), limit %.2f×", metric, ratio, value, ref, limit)
		c.Outcome = Pass
		if ratio > limit && value-ref > minDelta {
			c.Outcome = Fail
		}
	}
	return c
}

// errorRateCheck fails when the Kubernetes error rate exceeds the legacy one by more
// than the allowed increase.
func errorRateCheck(endpoint string, k, l Stats, th Thresholds) Check {
	c := Check{Endpoint: endpoint, Metric: "error rate", Value: k.ErrorRate, Reference: l.ErrorRate, Limit: th.MaxErrorRateIncrease}
	if k.Count < th.MinSamples || l.Count < th.MinSamples {
		c.Outcome, c.Detail = Skip, "error rate: too few samples"
		return c
	}
	c.Detail = fmt.Sprintf("error rate %.2f%% vs %.2f%%, limit +%.2f points", 100*k.ErrorRate, 100*l.ErrorRate, 100*th.MaxErrorRateIncrease)
	c.Outcome = Pass
	// A tiny epsilon keeps float rounding from failing a difference exactly at the limit.
	if k.ErrorRate-l.ErrorRate > th.MaxErrorRateIncrease+1e-12 {
		c.Outcome = Fail
	}
	return c
}

// ratio returns a/b, or 0 when b is 0 (no reference).
func ratio(a, b Millis) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1000) / 1000
}
