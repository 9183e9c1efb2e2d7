package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// shop is a simulated app: endpoints of different sizes (shares falling as 1/rank),
// each with its own error rate and log-normal latency.
type shop struct {
	endpoints []simEndpoint
	rng       *rand.Rand
}

type simEndpoint struct {
	name      string
	share     float64
	errorRate float64
	medianMs  float64
}

func newShop(n int, seed uint64) *shop {
	s := &shop{rng: rand.New(rand.NewPCG(seed, 7))}
	var total float64
	for i := range n {
		total += 1 / float64(i+1)
	}
	for i := range n {
		s.endpoints = append(s.endpoints, simEndpoint{
			name:      fmt.Sprintf("GET /e%02d/{id}", i),
			share:     1 / float64(i+1) / total,
			errorRate: []float64{0.001, 0.005, 0.02}[i%3],
			medianMs:  5 * float64(1+i%7),
		})
	}
	return s
}

// simSide counts one side's requests by endpoint, latencies in 3 % bins (index i
// is e^(0.03 i) µs).
type simSide struct {
	requests, errors []int64
	bins             [][]int64
	lo, hi           []int // the range of bins hit, by endpoint
}

const simBins = 600 // up to e^18 µs, about 18 hours

func newSimSide(n int) *simSide {
	s := &simSide{requests: make([]int64, n), errors: make([]int64, n), bins: make([][]int64, n), lo: make([]int, n), hi: make([]int, n)}
	for i := range s.bins {
		s.bins[i] = make([]int64, simBins)
		s.lo[i], s.hi[i] = simBins, -1
	}
	return s
}

// add sends n requests to the side; change, when set, alters one endpoint's
// error rate or latency.
func (s *shop) add(side *simSide, n int, change func(i int, errorRate, ms float64) (float64, float64)) {
	for range n {
		u, i := s.rng.Float64(), 0
		for ; i < len(s.endpoints)-1 && u > s.endpoints[i].share; i++ {
			u -= s.endpoints[i].share
		}
		e := s.endpoints[i]
		rate, ms := e.errorRate, e.medianMs*math.Exp(0.5*s.rng.NormFloat64())
		if change != nil {
			rate, ms = change(i, rate, ms)
		}
		side.requests[i]++
		if s.rng.Float64() < rate {
			side.errors[i]++
		}
		b := min(max(int(math.Round(math.Log(ms*1000)/0.03)), 0), simBins-1)
		side.bins[i][b]++
		side.lo[i], side.hi[i] = min(side.lo[i], b), max(side.hi[i], b)
	}
}

func (s *shop) sample(legacy, newSide *simSide) Sample {
	var out Sample
	totals := [2][]int64{make([]int64, simBins), make([]int64, simBins)}
	for i, e := range s.endpoints {
		ep := Endpoint{Name: e.name, Legacy: legacy.side(i, totals[0]), New: newSide.side(i, totals[1])}
		if ep.Legacy.Requests+ep.New.Requests > 0 {
			out.Endpoints = append(out.Endpoints, ep)
		}
		out.Legacy.Requests, out.Legacy.Errors = out.Legacy.Requests+ep.Legacy.Requests, out.Legacy.Errors+ep.Legacy.Errors
		out.New.Requests, out.New.Errors = out.New.Requests+ep.New.Requests, out.New.Errors+ep.New.Errors
	}
	out.Legacy.Latency, out.New.Latency = binned(totals[0], 0, simBins-1), binned(totals[1], 0, simBins-1)
	return out
}

// side returns endpoint i's side, adding its bins to total.
func (s *simSide) side(i int, total []int64) Side {
	for b := s.lo[i]; b <= s.hi[i]; b++ {
		total[b] += s.bins[i][b]
	}
	return Side{Requests: s.requests[i], Errors: s.errors[i], Latency: binned(s.bins[i], s.lo[i], s.hi[i])}
}

// binValues are the simulated bins' values in µs.
var binValues = func() (v [simBins]int64) {
	for b := range v {
		v[b] = int64(math.Exp(0.03 * float64(b)))
	}
	return v
}()

func binned(counts []int64, lo, hi int) Distribution {
	d := make(Distribution, 0, max(hi-lo+1, 0))
	for b := lo; b <= hi; b++ {
		if counts[b] > 0 {
			d = append(d, Bin{Value: binValues[b], Count: counts[b]})
		}
	}
	return d
}

func endpointGate() EndpointGate {
	return EndpointGate{ErrorRate: &ErrorRateGate{}, Latency: &LatencyGate{}}
}

// TestEndpointGateVerdicts checks the gate on hand-made samples.
func TestEndpointGateVerdicts(t *testing.T) {
	lat := func(ms int64, n int64) Distribution { return Distribution{{Value: ms * 1000, Count: n}} }
	healthy := func(name string, n int64) Endpoint {
		return Endpoint{Name: name, Legacy: Side{Requests: 20 * n, Errors: n / 10, Latency: lat(10, 20*n)}, New: Side{Requests: n, Errors: n / 200, Latency: lat(10, n)}}
	}
	broken := Endpoint{Name: "POST /payroll/{id}/run", Legacy: Side{Requests: 8000, Errors: 40, Latency: lat(30, 8000)}, New: Side{Requests: 400, Errors: 40, Latency: lat(30, 400)}}
	tiny := Endpoint{Name: "GET /reports/{id}", Legacy: Side{Requests: 60, Latency: lat(10, 60)}, New: Side{Requests: 3, Errors: 3, Latency: lat(10, 3)}}
	for _, tc := range []struct {
		name      string
		gate      EndpointGate
		endpoints []Endpoint
		want      Verdict
		msg       []string
	}{
		{"one broken endpoint fails, named with its rates and the evidence", endpointGate(),
			[]Endpoint{healthy("GET /", 5000), broken, tiny},
			Fail, []string{"POST /payroll/{id}/run", "new 10.00% (40/400) vs legacy 0.50% (40/8000)", "evidence", "shared by 3 endpoints (Holm)"}},
		{"a tiny endpoint with only errors neither fails nor holds", endpointGate(),
			[]Endpoint{healthy("GET /", 5000), tiny},
			Pass, []string{"2 endpoints: 1 pass, 1 not enough data yet"}},
		{"a critical endpoint without enough data holds", EndpointGate{ErrorRate: &ErrorRateGate{}, Critical: []string{"/reports/{id}"}},
			[]Endpoint{healthy("GET /", 5000), tiny},
			Hold, []string{"waiting for critical GET /reports/{id}"}},
		{"a critical endpoint not seen yet holds", EndpointGate{ErrorRate: &ErrorRateGate{}, Critical: []string{"POST /payroll/{id}/run"}},
			[]Endpoint{healthy("GET /", 5000)},
			Hold, []string{"waiting for critical POST /payroll/{id}/run"}},
		{"an ignored endpoint is not judged", EndpointGate{ErrorRate: &ErrorRateGate{}, Ignore: []string{"POST /payroll/{id}/run"}},
			[]Endpoint{healthy("GET /", 5000), broken},
			Pass, []string{"1 endpoints: 1 pass"}},
		{"no endpoints: nothing fails", endpointGate(), nil, Pass, []string{"0 endpoints"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.gate.Evaluate(Sample{Endpoints: tc.endpoints})
			if r.Verdict != tc.want {
				t.Fatalf("%s: %s, want %s", r.Verdict, r.Message, tc.want)
			}
			for _, m := range tc.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
	r := endpointGate().Evaluate(Sample{Endpoints: []Endpoint{broken}, Shifted: true})
	if r.Verdict != Pass || !strings.Contains(r.Message, "not judged") {
		t.Errorf("against an earlier reference: %s %s", r.Verdict, r.Message)
	}
}

// TestHolmSharesTheBound: the same evidence that fails one endpoint of one does not
// fail it when it is one of fifty, and two broken endpoints are both named.
func TestHolmSharesTheBound(t *testing.T) {
	ep := func(name string, newErrors int64) Endpoint {
		return Endpoint{Name: name, Legacy: Side{Requests: 20000, Errors: 100}, New: Side{Requests: 1000, Errors: newErrors}}
	}
	g := EndpointGate{ErrorRate: &ErrorRateGate{}}
	// 17 errors in 1000 against 0.5 %: enough evidence at 0.0005, not at 0.0005/50.
	if r := g.Evaluate(Sample{Endpoints: []Endpoint{ep("GET /a", 17)}}); r.Verdict != Fail {
		t.Fatalf("alone: %s %s, want fail", r.Verdict, r.Message)
	}
	many := []Endpoint{ep("GET /a", 17)}
	for i := range 49 {
		many = append(many, ep(fmt.Sprintf("GET /ok%d", i), 5))
	}
	if r := g.Evaluate(Sample{Endpoints: many}); r.Verdict == Fail {
		t.Fatalf("one of fifty: %s, want no failure at a fiftieth of the bound", r.Message)
	}
	many = append(many, ep("GET /b", 100), ep("GET /c", 100))
	r := g.Evaluate(Sample{Endpoints: many})
	if r.Verdict != Fail || !strings.Contains(r.Message, "GET /b") || !strings.Contains(r.Message, "GET /c") || !strings.HasPrefix(r.Message, "2 endpoints failed") {
		t.Fatalf("%s: %s, want both /b and /c failed", r.Verdict, r.Message)
	}
}

// TestAAFalseAlarmsWithEndpoints simulates 2 000 A/A steps (400 under the race
// detector: see race_test.go) of an app with
// 50 endpoints of different sizes, both sides the same, looked at 12 times per step
// on the growing window (1, 5, 10 and 50 % steps in turn) by the whole-side and the
// per-endpoint gates, and requires at most 1 % of the steps to fail.
func TestAAFalseAlarmsWithEndpoints(t *testing.T) {
	const steps, looks, perLook = aaSteps, 12, 1500
	s := newShop(50, 1)
	gates := []Gate{ErrorRateGate{}, LatencyGate{}, endpointGate()}
	shares := []float64{0.01, 0.05, 0.10, 0.50}
	alarms := map[string]int{}
	failedSteps := 0
	for step := range steps {
		share := shares[step%len(shares)]
		legacy, newSide := newSimSide(50), newSimSide(50)
		failed := false
		for range looks {
			nNew := int(math.Round(perLook * share))
			s.add(legacy, perLook-nNew, nil)
			s.add(newSide, nNew, nil)
			sample := s.sample(legacy, newSide)
			for _, g := range gates {
				if r := g.Evaluate(sample); r.Verdict == Fail {
					alarms[g.Name()]++
					failed = true
					t.Logf("step %d (%.0f%%): %s: %s", step, 100*share, r.Gate, r.Message)
				}
			}
			if failed {
				break
			}
		}
		if failed {
			failedSteps++
		}
	}
	rate := float64(failedSteps) / steps
	fmt.Printf("A/A: %d simulated steps, 50 endpoints, %d looks each: %d false alarms (%.2f%%); by gate %v\n", steps, looks, failedSteps, 100*rate, alarms)
	if rate > 0.01 {
		t.Errorf("false-alarm rate %.2f%%, want at most 1%%", 100*rate)
	}
}

// TestEndpointCap: past MaxEndpoints the quietest endpoints are judged together as
// "other", critical ones always apart.
func TestEndpointCap(t *testing.T) {
	var eps []Endpoint
	for i := range 6 {
		n := int64(1000 * (6 - i))
		eps = append(eps, Endpoint{Name: fmt.Sprintf("GET /e%d", i), Legacy: Side{Requests: 10 * n, Errors: n / 20}, New: Side{Requests: n, Errors: n / 200}})
	}
	g := EndpointGate{ErrorRate: &ErrorRateGate{}, MaxEndpoints: 3, Critical: []string{"GET /e5"}}
	r := g.Evaluate(Sample{Endpoints: eps})
	var names []string
	for _, e := range r.Endpoints {
		names = append(names, e.Endpoint)
	}
	slices.Sort(names)
	if got := strings.Join(names, ","); got != "GET /e0,GET /e5,other" {
		t.Errorf("judged %s (%s), want the busiest, the critical one and other", got, r.Message)
	}
	for _, e := range r.Endpoints {
		if e.Endpoint == OtherEndpoint && e.Requests != 5000+4000+3000+2000 {
			t.Errorf("other has %d new requests, want the four non-critical quietest's 14000", e.Requests)
		}
	}
}
