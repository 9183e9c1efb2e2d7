package analysis

import (
	"fmt"
	"math"
	"time"
)

// Verdict is a gate's judgement of one window.
type Verdict string

// Verdicts. Hold means "not enough data to say": never healthy, never failed.
const (
	Pass Verdict = "pass"
	Hold Verdict = "hold"
	Fail Verdict = "fail"
)

// Side is one side's traffic over a window.
type Side struct {
	Requests int64 `json:"requests"`
	// Errors counts failed requests (5xx, no answer).
	Errors  int64        `json:"errors"`
	Latency Distribution `json:"latency,omitempty"`
}

// ErrorRate is Errors/Requests, 0 without requests.
func (s Side) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// Sample is both sides over the same window.
type Sample struct {
	Legacy Side `json:"legacy"`
	New    Side `json:"new"`
	// Shifted says Legacy is not from the same window but an earlier reference (with
	// all traffic on the new side there is no concurrent control): latency then moves
	// with load and time of day as much as with the code, so its ratios are held to
	// ShiftedFactor times the usual p50 limit; the rank and tail tests are not used.
	Shifted bool `json:"shifted,omitempty"`
	// Endpoints are both sides by endpoint ("GET /users/{id}") over the same window,
	// when the source gives them, for the per-endpoint gates. They are not kept with a
	// migration's state: its latest verdicts say what they showed.
	Endpoints []Endpoint `json:"-"`
}

// Endpoint is one endpoint's traffic on both sides over a sample's window.
type Endpoint struct {
	Name   string `json:"name"`
	Legacy Side   `json:"legacy"`
	New    Side   `json:"new"`
}

// ShiftedFactor widens the latency ratios allowed against an earlier reference.
const ShiftedFactor = 3

// Result is one gate's verdict with what it saw and, when holding, how many more
// requests on the new side it needs.
type Result struct {
	Gate     string  `json:"gate"`
	Verdict  Verdict `json:"verdict"`
	Message  string  `json:"message"`
	NeedMore int64   `json:"needMore,omitempty"`
	// Endpoints are a per-endpoint gate's verdicts: every failed or critical endpoint
	// and the busiest others.
	Endpoints []EndpointResult `json:"endpoints,omitempty"`
}

// Gate judges a sample.
type Gate interface {
	// Name identifies the gate in results.
	Name() string
	// Evaluate judges both sides over one window. It may be called again and again
	// over growing windows: its false-alarm rate holds across all those looks.
	Evaluate(s Sample) Result
}

// ErrorRateGate fails when the new side's error rate is higher than legacy's by a
// margin that matters, with evidence that holds under repeated looks (a mixture
// SPRT), and passes only once it has seen enough requests to rule out the smallest
// regression it is meant to catch.
type ErrorRateGate struct {
	// Alpha bounds the false-alarm rate over all looks at one step (default 0.0005:
	// a migration has several steps and a fleet many migrations, so a false abort must
	// be rare; a 0.5% → 3% regression is still caught within about 250 requests).
	Alpha float64
	// Power is the chance of catching a regression of the detectable size (default 0.8).
	Power float64
	// MinAbsolute and MinRelative set the smallest regression to catch: the larger of
	// an absolute increase (default 0.005, half a percentage point) and a relative one
	// (default 1.0: double the legacy rate).
	MinAbsolute float64
	MinRelative float64
	// MaxRate, when positive, fails the new side above this error rate whatever
	// legacy does.
	MaxRate float64

	// failAlpha, when set, is the bound a failure is judged at instead of Alpha: an
	// endpoint's share of a bound split across endpoints (EndpointGate). Passing still
	// takes Alpha's confidence.
	failAlpha float64
}

var _ Gate = ErrorRateGate{}

// Name implements Gate.
func (ErrorRateGate) Name() string { return "error-rate" }

func (g ErrorRateGate) withDefaults() ErrorRateGate {
	if g.Alpha <= 0 {
		g.Alpha = 0.0005
	}
	if g.Power <= 0 {
		g.Power = 0.8
	}
	if g.MinAbsolute <= 0 {
		g.MinAbsolute = 0.005
	}
	if g.MinRelative <= 0 {
		g.MinRelative = 1
	}
	return g
}

// Detectable returns the smallest error-rate increase the gate catches given the
// legacy rate, and the number of new-side requests needed to rule it out.
func (g ErrorRateGate) Detectable(legacyRate float64) (float64, int64) {
	g = g.withDefaults()
	d := math.Max(g.MinAbsolute, g.MinRelative*legacyRate)
	// A legacy side without errors still has some rate: assume a floor so the sample
	// size does not collapse to a handful of requests.
	p0 := math.Max(legacyRate, 0.001)
	return d, requiredSamples(p0, p0+d, g.Alpha, g.Power)
}

// Evaluate implements Gate.
func (g ErrorRateGate) Evaluate(s Sample) Result {
	g = g.withDefaults()
	r := Result{Gate: g.Name()}
	if s.Legacy.Requests == 0 {
		r.Verdict, r.Message = Hold, "no legacy requests to compare with yet"
		return r
	}
	p0, p1 := s.Legacy.ErrorRate(), s.New.ErrorRate()
	d, need := g.Detectable(p0)
	if s.New.Requests == 0 {
		r.Verdict, r.NeedMore = Hold, need
		r.Message = fmt.Sprintf("no requests on the new side yet; needs %d", need)
		return r
	}
	seen := fmt.Sprintf("new %s (%d/%d) vs legacy %s (%d/%d)", pct(p1), s.New.Errors, s.New.Requests, pct(p0), s.Legacy.Errors, s.Legacy.Requests)
	n1, n0 := float64(s.New.Requests), float64(s.Legacy.Requests)
	pooled := float64(s.New.Errors+s.Legacy.Errors) / (n1 + n0)
	v := pooled * (1 - pooled) * (1/n1 + 1/n0)
	est := p1 - p0
	if g.MaxRate > 0 && s.New.Requests >= 100 && wilsonLower(s.New.Errors, s.New.Requests, 2.33) > g.MaxRate {
		r.Verdict, r.Message = Fail, fmt.Sprintf("%s: above the limit of %s", seen, pct(g.MaxRate))
		return r
	}
	// The normal approximation behind the test flatters a handful of errors: a failure
	// needs at least minErrors of them on the new side, and as many errors must also be
	// unlikely by the exact binomial tail at the rate both sides share (one look's test,
	// which the mixture's bound over many looks cannot replace where errors are rare).
	failAlpha := g.Alpha
	if g.failAlpha > 0 {
		failAlpha = g.failAlpha
	}
	if ev := msprt(est, v, d*d); est > d/2 && s.New.Errors >= minErrors && ev >= 1/failAlpha &&
		binomialTail(s.New.Errors, s.New.Requests, pooled) <= failAlpha {
		r.Verdict, r.Message = Fail, fmt.Sprintf("%s: higher by %s, beyond chance (evidence %s, bar %s)", seen, pp(est), ratioText(ev), ratioText(1/failAlpha))
		return r
	}
	if s.New.Requests < need {
		r.Verdict, r.NeedMore = Hold, need-s.New.Requests
		r.Message = fmt.Sprintf("%s: needs %d more requests to rule out +%s", seen, r.NeedMore, pp(d))
		return r
	}
	// Enough data: pass only if the regression is shown to be smaller than d. Against
	// an earlier reference no more reference data can come, so the bound could never
	// tighten: there the sample size and the failure test decide alone.
	if mid, half := differenceBound(s.New, s.Legacy, normalQuantile(1-g.Alpha)); mid+half >= d && !s.Shifted {
		// The bound's half-width shrinks as the square root of the new side's requests.
		more := int64(math.Ceil(n1 * (math.Pow((mid+half)/d, 2) - 1)))
		if mid < d {
			more = int64(math.Ceil(n1 * (math.Pow(half/(d-mid), 2) - 1)))
		}
		r.Verdict, r.NeedMore = Hold, max(more, 1)
		r.Message = fmt.Sprintf("%s: inconclusive, could be up to +%s; needs about %d more requests", seen, pp(mid+half), r.NeedMore)
		return r
	}
	r.Verdict, r.Message = Pass, fmt.Sprintf("%s: no regression of +%s or more", seen, pp(d))
	return r
}

// differenceBound returns the centre and the half-width of the Agresti–Caffo
// confidence bound (z standard errors) of the new side's error rate less legacy's:
// one error and one success are added to each side before the Wald bound is taken.
// The plain Wald bound, with the pooled variance, is far too narrow when a side has
// seen only a handful of errors: one error in 150 requests made a real 0.5 % → 3 %
// regression look ruled out about one time in forty.
func differenceBound(newSide, legacy Side, z float64) (mid, half float64) {
	p1 := float64(newSide.Errors+1) / float64(newSide.Requests+2)
	p0 := float64(legacy.Errors+1) / float64(legacy.Requests+2)
	v := p1*(1-p1)/float64(newSide.Requests+2) + p0*(1-p0)/float64(legacy.Requests+2)
	return p1 - p0, z * math.Sqrt(v)
}

// LatencyGate fails when the new side is slower than legacy by a margin that matters
// with evidence beyond chance: the whole distribution (Mann–Whitney, as Kayenta) with
// the p50 ratio, and the tail (the share of new requests slower than legacy's p99)
// with the p99 ratio. Optional absolute limits come from an APM baseline.
type LatencyGate struct {
	// Alpha bounds false alarms over repeated looks (default 0.001 per test).
	Alpha float64
	// MaxP50Ratio and MaxP99Ratio are the slowdowns that matter (defaults 1.2, 1.3).
	MaxP50Ratio float64
	MaxP99Ratio float64
	// MaxRatio, when positive, fails when the new side's max exceeds legacy's by it.
	MaxRatio float64
	// MinRequests on the new side before the gate can pass (default 500).
	MinRequests int64
	// Limits, when set, are absolute limits (from an APM baseline) with Tolerance.
	Limits *Limits
}

// Limits are absolute latency limits; zero fields are not checked.
type Limits struct {
	Mean, P95, P99, Max time.Duration
	// Tolerance is the allowed excess ratio over each limit (default 1.2).
	Tolerance float64
}

var _ Gate = LatencyGate{}

// Name implements Gate.
func (LatencyGate) Name() string { return "latency" }

func (g LatencyGate) withDefaults() LatencyGate {
	if g.Alpha <= 0 {
		g.Alpha = 0.001
	}
	if g.MaxP50Ratio <= 0 {
		g.MaxP50Ratio = 1.2
	}
	if g.MaxP99Ratio <= 0 {
		g.MaxP99Ratio = 1.3
	}
	if g.MinRequests <= 0 {
		g.MinRequests = 500
	}
	return g
}

// The latency tests' effect sizes: rankTau is the mixture's spread for the rank
// test (a new request the slower of a pair 60 % of the time, about a 1.2x slowdown
// of a log-normal with σ 0.5); tailMargin is how much more of the new side than of
// legacy must be beyond legacy's p99 (1 % of each when nothing changed: three times
// that share counts) and tailTau the mixture's spread above it.
const (
	rankTau    = 0.1
	tailMargin = 0.02
	tailTau    = 0.03
)

// minErrors is the fewest new-side errors the error-rate gate fails on.
const minErrors = 5

// minJudged is the fewest new-side requests latency is judged on at all.
const minJudged = 50

// minTailLegacy is the legacy sample below which its p99 is too uncertain to judge
// the new side's tail against (of 200 requests, two are expected above it).
const minTailLegacy = 200

// Evaluate implements Gate.
func (g LatencyGate) Evaluate(s Sample) Result {
	g = g.withDefaults()
	r := Result{Gate: g.Name()}
	lat, leg := s.New.Latency, s.Legacy.Latency
	n := lat.Count()
	if leg.Count() == 0 {
		r.Verdict, r.Message = Hold, "no legacy latency to compare with yet"
		return r
	}
	if n < minJudged {
		r.Verdict, r.NeedMore = Hold, g.MinRequests-n
		r.Message = fmt.Sprintf("%d requests on the new side; needs %d more", n, r.NeedMore)
		return r
	}
	p50, p99, lp50, lp99 := lat.Quantile(0.5), lat.Quantile(0.99), leg.Quantile(0.5), leg.Quantile(0.99)
	seen := fmt.Sprintf("p50 %s vs %s, p99 %s vs %s", us(p50), us(lp50), us(p99), us(lp99))
	if s.Shifted {
		seen += " (the reference is the previous step)"
		if x := ratio(p50, lp50); x > ShiftedFactor*g.MaxP50Ratio {
			r.Verdict, r.Message = Fail, fmt.Sprintf("%s: p50 %.2fx the reference", seen, x)
			return r
		}
		// The p99 of a short window is made by bursts; without a concurrent control a
		// burst cannot be told from a regression, so only the median and the absolute
		// limits are judged here.
		return g.finish(r, seen, lat, leg, n)
	}
	if x := ratio(p50, lp50); x > g.MaxP50Ratio {
		// The whole distribution: how often a new request is slower than a legacy one.
		est, v := rankShift(lat, leg)
		if ev := msprt(est, v, rankTau*rankTau); est > 0 && ev >= 1/g.Alpha {
			r.Verdict, r.Message = Fail, fmt.Sprintf("%s: p50 %.2fx legacy, slower beyond chance (a new request is the slower of a pair %s of the time; evidence %s, bar %s)",
				seen, x, pct(0.5+est), ratioText(ev), ratioText(1/g.Alpha))
			return r
		}
	}
	tailReady := leg.Count() >= minTailLegacy
	if n >= 100 && tailReady && ratio(p99, lp99) > g.MaxP99Ratio {
		// The tail: the shares of each side slower than legacy's p99. Legacy's p99 is
		// read from its own requests: from few of them (one endpoint at a 50 % step)
		// it may sit well below the true p99, so the variance counts legacy's
		// share as an estimate too. Bursts (a pause in one new pod hits a large share
		// of a small sample) push the new share up without any regression, so it must
		// be tailMargin above legacy's before it counts.
		n0 := leg.Count()
		k1, k0 := lat.Above(lp99), leg.Above(lp99)
		p1, p0 := float64(k1)/float64(n), float64(k0)/float64(n0)
		pooled := float64(k1+k0) / float64(n+n0)
		v := pooled * (1 - pooled) * (1/float64(n) + 1/float64(n0))
		if ev := msprt(p1-p0-tailMargin, v, tailTau*tailTau); p1-p0 > tailMargin && ev >= 1/g.Alpha {
			r.Verdict, r.Message = Fail, fmt.Sprintf("%s: p99 %.2fx legacy; %s of new requests slower than legacy's p99, %s of legacy (evidence %s, bar %s)",
				seen, ratio(p99, lp99), pct(p1), pct(p0), ratioText(ev), ratioText(1/g.Alpha))
			return r
		}
	}
	r = g.finish(r, seen, lat, leg, n)
	if r.Verdict == Pass && !tailReady {
		r.Verdict = Hold
		r.Message = fmt.Sprintf("%s: needs %d more legacy requests to judge the tail", seen, minTailLegacy-leg.Count())
	}
	return r
}

// finish applies the max and absolute limits, then passes or holds on sample size.
func (g LatencyGate) finish(r Result, seen string, lat, leg Distribution, n int64) Result {
	if g.MaxRatio > 0 && n >= g.MinRequests && ratio(lat.Max(), leg.Max()) > g.MaxRatio {
		r.Verdict, r.Message = Fail, fmt.Sprintf("%s: max %s is %.1fx legacy's %s", seen, us(lat.Max()), ratio(lat.Max(), leg.Max()), us(leg.Max()))
		return r
	}
	if msg := g.overLimits(lat); msg != "" && n >= g.MinRequests {
		r.Verdict, r.Message = Fail, seen+": "+msg
		return r
	}
	if n < g.MinRequests {
		r.Verdict, r.NeedMore = Hold, g.MinRequests-n
		r.Message = fmt.Sprintf("%s: needs %d more requests", seen, r.NeedMore)
		return r
	}
	r.Verdict, r.Message = Pass, seen
	return r
}

func (g LatencyGate) overLimits(d Distribution) string {
	l := g.Limits
	if l == nil {
		return ""
	}
	tol := l.Tolerance
	if tol <= 0 {
		tol = 1.2
	}
	check := func(name string, got int64, limit time.Duration) string {
		if limit > 0 && float64(got) > tol*float64(limit.Microseconds()) {
			return fmt.Sprintf("%s %s over the baseline's %s", name, us(got), limit)
		}
		return ""
	}
	for _, c := range []struct {
		name  string
		got   int64
		limit time.Duration
	}{{"mean", d.mean(), l.Mean}, {"p95", d.Quantile(0.95), l.P95}, {"p99", d.Quantile(0.99), l.P99}, {"max", d.Max(), l.Max}} {
		if msg := check(c.name, c.got, c.limit); msg != "" {
			return msg
		}
	}
	return ""
}

func (d Distribution) mean() int64 {
	var sum, n float64
	for _, b := range d {
		sum += float64(b.Value) * float64(b.Count)
		n += float64(b.Count)
	}
	if n == 0 {
		return 0
	}
	return int64(sum / n)
}

// wilsonLower is the lower end of the Wilson score interval for k of n at z.
func wilsonLower(k, n int64, z float64) float64 {
	if n == 0 {
		return 0
	}
	p, nf := float64(k)/float64(n), float64(n)
	center := p + z*z/(2*nf)
	margin := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return (center - margin) / (1 + z*z/nf)
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		if a <= 0 {
			return 1
		}
		return math.Inf(1)
	}
	return float64(a) / float64(b)
}

// ratioText shows a likelihood ratio: 2000, 3.1e+05.
func ratioText(f float64) string {
	if f >= 1e5 {
		return fmt.Sprintf("%.2g", f)
	}
	return fmt.Sprintf("%.0f", f)
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }
func pp(f float64) string  { return fmt.Sprintf("%.2fpp", 100*f) }
func us(v int64) string    { return (time.Duration(v) * time.Microsecond).String() }
