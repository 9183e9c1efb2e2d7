package analysis

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// EndpointGate runs the error-rate and latency gates on every endpoint of a sample
// ("GET /payroll/{id}"), so a regression confined to an endpoint with a few percent
// of the traffic, which moves the whole side's numbers by a few hundredths, is seen
// by the endpoint's own numbers. Each gate's false-alarm bound (its Alpha) is shared
// by all endpoints with Holm's step-down: fifty endpoints do not make fifty times the
// false alarms. An endpoint with too little traffic neither fails nor passes: it is
// "not enough data yet" and does not hold the step unless it is critical.
type EndpointGate struct {
	// ErrorRate and Latency are the gates run on each endpoint; nil leaves one out.
	// Their absolute limits (MaxRate, MaxRatio, Limits) are not used per endpoint: an
	// endpoint's own rates and latencies differ from the app's, and a limit checked
	// on each of fifty endpoints would not keep the shared bound.
	ErrorRate *ErrorRateGate
	Latency   *LatencyGate
	// Critical endpoints must pass before a step passes: while one lacks data the
	// step holds (and fails at the deadline, as any gate short of data).
	Critical []string
	// Ignore leaves endpoints out (health checks, a noisy admin page).
	Ignore []string
	// MaxEndpoints, when positive, judges the busiest endpoints and every critical
	// one apart, up to this many, and the rest together as "other": fewer endpoints
	// leave each a larger share of the bound.
	MaxEndpoints int
}

// OtherEndpoint names the endpoints judged together past a cap.
const OtherEndpoint = "other"

// EndpointResult is one endpoint's verdict.
type EndpointResult struct {
	Endpoint string  `json:"endpoint"`
	Verdict  Verdict `json:"verdict"`
	Critical bool    `json:"critical,omitempty"`
	// Requests on the new side in the window.
	Requests int64  `json:"requests"`
	Message  string `json:"message"`
	NeedMore int64  `json:"needMore,omitempty"`
}

var _ Gate = EndpointGate{}

// EndpointGateName is the name of EndpointGate's results.
const EndpointGateName = "endpoints"

// Name implements Gate.
func (EndpointGate) Name() string { return EndpointGateName }

// maxListed bounds the endpoints a result lists besides the failed and critical ones.
const maxListed = 10

// Matches says whether pattern names endpoint: the same "METHOD /template", or a
// template alone ("/health") for every method.
func Matches(pattern, endpoint string) bool {
	if pattern == endpoint {
		return true
	}
	_, template, ok := strings.Cut(endpoint, " ")
	return ok && strings.HasPrefix(pattern, "/") && pattern == template
}

func matchesAny(patterns []string, endpoint string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return Matches(p, endpoint) })
}

// Evaluate implements Gate.
func (g EndpointGate) Evaluate(s Sample) Result {
	r := Result{Gate: g.Name()}
	if s.Shifted {
		// At 100 % no legacy traffic runs beside the new side; an earlier step's
		// endpoints are no control for this one's, so the whole-side gates judge alone.
		r.Verdict, r.Message = Pass, "not judged: no legacy traffic beside the new side at this step (the whole-side gates judge it against the previous step)"
		return r
	}
	var eps []Endpoint
	for _, e := range s.Endpoints {
		if !matchesAny(g.Ignore, e.Name) {
			eps = append(eps, e)
		}
	}
	eps = g.capped(eps)
	verdicts := make([]EndpointResult, len(eps))
	for i, e := range eps {
		verdicts[i] = EndpointResult{Endpoint: e.Name, Verdict: Pass, Critical: matchesAny(g.Critical, e.Name), Requests: e.New.Requests}
	}
	if g.ErrorRate != nil {
		eg := *g.ErrorRate
		eg.MaxRate = 0
		holm(eps, verdicts, func(e Endpoint, alpha float64) Result {
			eg.failAlpha = alpha
			return eg.Evaluate(Sample{Legacy: e.Legacy, New: e.New})
		}, eg.withDefaults().Alpha)
	}
	if g.Latency != nil {
		lg := *g.Latency
		lg.MaxRatio, lg.Limits = 0, nil
		alpha := lg.withDefaults().Alpha
		holm(eps, verdicts, func(e Endpoint, a float64) Result {
			lg.Alpha = a
			return lg.Evaluate(Sample{Legacy: e.Legacy, New: e.New})
		}, alpha)
	}
	return g.summarize(r, verdicts)
}

// capped keeps the critical endpoints and the busiest others up to MaxEndpoints,
// and merges the rest into "other".
func (g EndpointGate) capped(eps []Endpoint) []Endpoint {
	if g.MaxEndpoints <= 0 || len(eps) <= g.MaxEndpoints {
		return eps
	}
	eps = slices.Clone(eps)
	sort.SliceStable(eps, func(i, j int) bool {
		ci, cj := matchesAny(g.Critical, eps[i].Name), matchesAny(g.Critical, eps[j].Name)
		if ci != cj {
			return ci
		}
		return eps[i].Legacy.Requests+eps[i].New.Requests > eps[j].Legacy.Requests+eps[j].New.Requests
	})
	keep := eps[:g.MaxEndpoints-1]
	other := Endpoint{Name: OtherEndpoint}
	for _, e := range eps[g.MaxEndpoints-1:] {
		other.Legacy, other.New = addSides(other.Legacy, e.Legacy), addSides(other.New, e.New)
	}
	if i := slices.IndexFunc(keep, func(k Endpoint) bool { return k.Name == OtherEndpoint }); i >= 0 {
		keep[i].Legacy, keep[i].New = addSides(keep[i].Legacy, other.Legacy), addSides(keep[i].New, other.New)
		return keep
	}
	return append(keep, other)
}

// addSides adds two sides' counts and latencies.
func addSides(a, b Side) Side {
	return Side{Requests: a.Requests + b.Requests, Errors: a.Errors + b.Errors, Latency: append(append(Distribution(nil), a.Latency...), b.Latency...).Normalize()}
}

// holm judges every endpoint with one gate, the bound alpha shared by Holm's
// step-down: the endpoints are judged at alpha/m; those that fail leave the family
// and the rest are judged again at alpha/(m-failed), until no more fail. Because a
// gate fails at a bound exactly when its evidence passes that bound, this rejects what
// Holm's procedure on the endpoints' p-values rejects, and keeps the chance that any
// endpoint without a regression fails at most alpha, however many there are. Each
// endpoint's verdict takes the worse of its current one and this gate's.
func holm(eps []Endpoint, verdicts []EndpointResult, judge func(Endpoint, float64) Result, alpha float64) {
	m := len(eps)
	results := make([]Result, m)
	failed := make([]bool, m)
	nFailed := 0
	for {
		more := false
		for i, e := range eps {
			if failed[i] {
				continue
			}
			results[i] = judge(e, alpha/float64(m-nFailed))
			if results[i].Verdict == Fail {
				failed[i], more = true, true
			}
		}
		if !more {
			break
		}
		nFailed = 0
		for _, f := range failed {
			if f {
				nFailed++
			}
		}
		if nFailed == m {
			break
		}
	}
	for i, res := range results {
		v := &verdicts[i]
		text := res.Gate + ": " + res.Message
		switch {
		case res.Verdict == Fail && v.Verdict != Fail:
			v.Verdict, v.Message, v.NeedMore = Fail, text, 0
		case res.Verdict == Hold && v.Verdict == Pass:
			v.Verdict, v.Message, v.NeedMore = Hold, text, res.NeedMore
		case res.Verdict == Hold && v.Verdict == Hold:
			v.Message += "; " + text
			v.NeedMore = max(v.NeedMore, res.NeedMore)
		case res.Verdict == Pass && v.Verdict == Pass:
			v.Message = strings.TrimPrefix(v.Message+"; "+text, "; ")
		}
	}
}

// summarize turns the endpoints' verdicts into the gate's: fail when one failed,
// hold while a critical endpoint has not passed, pass otherwise.
func (g EndpointGate) summarize(r Result, verdicts []EndpointResult) Result {
	sort.SliceStable(verdicts, func(i, j int) bool { return verdicts[i].Requests > verdicts[j].Requests })
	var failed, waiting, passed, short []EndpointResult
	for _, v := range verdicts {
		switch {
		case v.Verdict == Fail:
			failed = append(failed, v)
		case v.Critical && v.Verdict != Pass:
			waiting = append(waiting, v)
		case v.Verdict == Pass:
			passed = append(passed, v)
		default:
			short = append(short, v)
		}
	}
	// Critical endpoints without any traffic yet are waited for too.
	for _, c := range g.Critical {
		if !slices.ContainsFunc(verdicts, func(v EndpointResult) bool { return Matches(c, v.Endpoint) }) {
			waiting = append(waiting, EndpointResult{Endpoint: c, Verdict: Hold, Critical: true, Message: "no requests on either side yet"})
		}
	}
	for i := range short {
		short[i].Message = "not enough data yet: " + short[i].Message
	}
	counts := fmt.Sprintf("%d endpoints: %d pass, %d not enough data yet", len(verdicts), len(passed), len(short)+len(waiting))
	r.Endpoints = append(append(failed, waiting...), firstN(append(passed, short...), maxListed)...)
	switch {
	case len(failed) > 0:
		names := make([]string, len(failed))
		for i, f := range failed {
			names[i] = f.Endpoint + " (" + f.Message + ")"
		}
		r.Verdict = Fail
		r.Message = fmt.Sprintf("%s failed, the false-alarm bound shared by %d endpoints (Holm): %s", plural(len(failed), "endpoint"), len(verdicts), strings.Join(names, "; "))
	case len(waiting) > 0:
		names := make([]string, len(waiting))
		for i, w := range waiting {
			names[i] = w.Endpoint
			r.NeedMore = max(r.NeedMore, w.NeedMore)
		}
		r.Verdict = Hold
		r.Message = fmt.Sprintf("%s; waiting for critical %s", counts, strings.Join(names, ", "))
	default:
		r.Verdict, r.Message = Pass, counts+"; none fails"
	}
	return r
}

func firstN(v []EndpointResult, n int) []EndpointResult {
	return v[:min(len(v), n)]
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
