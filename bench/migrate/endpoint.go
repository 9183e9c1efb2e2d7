package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"text/tabwriter"
	"time"

	"ferry.dev/ferry/internal/analysis"
)

// simulateEndpoint is part 2: a regression confined to one endpoint with 2 % of the
// traffic of an app with 50 endpoints, at the 10 % step of 1 000 req/s, and how many
// new-side requests each judge needed to abort: the per-endpoint gates, the whole-side
// gates alone, and the fixed 1-minute judge.
func simulateEndpoint() {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "one endpoint (2%%) broken at the 10%% step of %d req/s\tper-endpoint gates: new-side requests\ttime\twhole-side gates alone\ttime\tfixed 1-min judge\ttime\n", totalRate)
	for i, r := range []struct {
		name      string
		errorRate float64
		slowTail  bool
	}{{"its errors 0.5% → 10%", 0.10, false}, {"its p99 doubled", legacyError, true}} {
		var n [3]int64
		var t [3]time.Duration
		n[0], t[0], n[1], t[1], n[2], t[2] = raceEndpoint(r.errorRate, r.slowTail, uint64(i))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name, count(n[0]), dur(t[0]), count(n[1]), dur(t[1]), count(n[2]), dur(t[2]))
	}
	tw.Flush()
	fmt.Println("(simulated in virtual time: 50 endpoints with shares falling as 1/rank, 0.5% errors, log-normal latency with")
	fmt.Println(" medians of 5-35ms; the broken endpoint's p99 doubled by a slow tail of 10% of its requests at twice its p99;")
	fmt.Printf(" every judge sees the same traffic; '-' means it had not aborted after %s)\n\n", maxDuration)
}

// endpointSim is the app: endpoint 4 (2 % of the traffic) is the one that breaks.
const brokenEndpoint = 4

func shares() []float64 {
	s := make([]float64, 50)
	var rest float64
	for i := range s {
		if i != brokenEndpoint {
			s[i] = 1 / float64(i+1)
			rest += s[i]
		}
	}
	for i := range s {
		s[i] *= 0.98 / rest
	}
	s[brokenEndpoint] = 0.02
	return s
}

func raceEndpoint(errorRate float64, slowTail bool, seed uint64) (perN int64, perT time.Duration, wholeN int64, wholeT time.Duration, judgeN int64, judgeT time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 14))
	share := shares()
	whole := []analysis.Gate{analysis.ErrorRateGate{}, analysis.LatencyGate{}}
	perEndpoint := analysis.EndpointGate{ErrorRate: &analysis.ErrorRateGate{}, Latency: &analysis.LatencyGate{}}
	legacy, newSide := newCounts(), newCounts()
	var window analysis.Side
	perN, wholeN, judgeN = -1, -1, -1
	newPerSec := int(totalRate * 0.10)
	p99 := 20 * math.Exp(0.5*2.326) // ms, the broken endpoint's healthy p99
	for sec := 1; sec <= int(maxDuration/time.Second); sec++ {
		for _, sn := range []struct {
			side *counts
			n    int
		}{{legacy, totalRate - newPerSec}, {newSide, newPerSec}} {
			side := sn.side
			for range sn.n {
				i := pick(rng, share)
				rate, ms := legacyError, 5*float64(1+i%7)*math.Exp(0.5*rng.NormFloat64())
				if i == brokenEndpoint {
					ms = 20 * math.Exp(0.5*rng.NormFloat64())
					if side == newSide {
						rate = errorRate
						if slowTail && rng.Float64() < 0.10 {
							ms = 2 * p99
						}
					}
				}
				failed := rng.Float64() < rate
				side.add(i, failed, ms)
				if side == newSide {
					window.Requests++
					if failed {
						window.Errors++
					}
					window.Latency = append(window.Latency, analysis.Bin{Value: int64(ms * 1000), Count: 1})
				}
			}
		}
		if sec%5 == 0 && (perN < 0 || wholeN < 0) {
			sample := sampleOf(legacy, newSide)
			if wholeN < 0 && anyFails(whole, sample) {
				wholeN, wholeT = sample.New.Requests, time.Duration(sec)*time.Second
			}
			if perN < 0 && perEndpoint.Evaluate(sample).Verdict == analysis.Fail {
				perN, perT = sample.New.Requests, time.Duration(sec)*time.Second
			}
		}
		if sec%60 == 0 {
			lat := window.Latency.Normalize()
			if judgeN < 0 && (1-window.ErrorRate() < 0.99 || time.Duration(lat.Quantile(0.99))*time.Microsecond > 500*time.Millisecond) {
				judgeN, judgeT = newSide.total(), time.Duration(sec)*time.Second
			}
			window = analysis.Side{}
		}
		if perN >= 0 && wholeN >= 0 && judgeN >= 0 {
			break
		}
	}
	return perN, perT, wholeN, wholeT, judgeN, judgeT
}

func anyFails(gates []analysis.Gate, s analysis.Sample) bool {
	for _, g := range gates {
		if g.Evaluate(s).Verdict == analysis.Fail {
			return true
		}
	}
	return false
}

func pick(rng *rand.Rand, share []float64) int {
	u := rng.Float64()
	for i, s := range share {
		if u < s {
			return i
		}
		u -= s
	}
	return len(share) - 1
}

// counts are one side's requests by endpoint, latencies in 3 % bins (index b is
// e^(0.03 b) µs).
type counts struct {
	requests, errors [50]int64
	bins             [50][600]int64
}

func newCounts() *counts { return &counts{} }

func (c *counts) add(i int, failed bool, ms float64) {
	c.requests[i]++
	if failed {
		c.errors[i]++
	}
	c.bins[i][min(max(int(math.Round(math.Log(ms*1000)/0.03)), 0), 599)]++
}

func (c *counts) total() int64 {
	var n int64
	for _, r := range c.requests {
		n += r
	}
	return n
}

func (c *counts) side(i int, into *[600]int64) analysis.Side {
	s := analysis.Side{Requests: c.requests[i], Errors: c.errors[i]}
	for b, n := range c.bins[i] {
		if n > 0 {
			s.Latency = append(s.Latency, analysis.Bin{Value: int64(math.Exp(0.03 * float64(b))), Count: n})
			into[b] += n
		}
	}
	return s
}

func sampleOf(legacy, newSide *counts) analysis.Sample {
	var out analysis.Sample
	var lt, nt [600]int64
	for i := range 50 {
		e := analysis.Endpoint{Name: fmt.Sprintf("GET /e%02d/{id}", i), Legacy: legacy.side(i, &lt), New: newSide.side(i, &nt)}
		out.Endpoints = append(out.Endpoints, e)
		out.Legacy.Requests, out.Legacy.Errors = out.Legacy.Requests+e.Legacy.Requests, out.Legacy.Errors+e.Legacy.Errors
		out.New.Requests, out.New.Errors = out.New.Requests+e.New.Requests, out.New.Errors+e.New.Errors
	}
	for b := range 600 {
		if lt[b] > 0 {
			out.Legacy.Latency = append(out.Legacy.Latency, analysis.Bin{Value: int64(math.Exp(0.03 * float64(b))), Count: lt[b]})
		}
		if nt[b] > 0 {
			out.New.Latency = append(out.New.Latency, analysis.Bin{Value: int64(math.Exp(0.03 * float64(b))), Count: nt[b]})
		}
	}
	return out
}
