package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"text/tabwriter"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
)

func main() {
	aa := flag.Int("aa", 30, "A/A migrations through the proxy (0 skips part 3)")
	flag.Parse()
	simulate()
	simulateEndpoint()
	if *aa > 0 {
		if err := aaCheck(*aa); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// regression is an injected change on the new side.
type regression struct {
	name      string
	errorRate float64 // new side's error rate (legacy: 0.5 %)
	slowdown  float64 // new side's latency factor
}

const (
	totalRate   = 1000 // req/s
	stepShare   = 0.05 // the 5 % step
	legacyError = 0.005
	maxDuration = 30 * time.Minute
)

func simulate() {
	regressions := []regression{
		{"errors 0.5% → 1%", 0.01, 1}, {"errors 0.5% → 2%", 0.02, 1}, {"errors 0.5% → 3%", 0.03, 1},
		{"errors 0.5% → 10%", 0.10, 1}, {"latency ×1.5", legacyError, 1.5}, {"latency ×3", legacyError, 3},
		{"latency ×10", legacyError, 10}, {"none (A/A)", legacyError, 1},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "regression at the 5%% step of %d req/s\tferry: new-side requests to abort\tferry: time\tfixed 1-min judge: new-side requests\tjudge: time\n", totalRate)
	for i, r := range regressions {
		ferryN, ferryT, judgeN, judgeT := race(r, uint64(i))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.name, count(ferryN), dur(ferryT), count(judgeN), dur(judgeT))
	}
	tw.Flush()
	fmt.Println("(simulated in virtual time: Bernoulli errors, log-normal latency with median 40ms; legacy at 0.5% errors;")
	fmt.Println(" ferry evaluates every 5s on the growing step window; the judge fails a 1-minute window with success < 99% or p99 > 500ms;")
	fmt.Printf(" '-' means it had not aborted after %s)\n\n", maxDuration)
}

// race feeds one second of traffic at a time to ferry's gates and to the fixed judge
// and returns when each first aborted.
func race(r regression, seed uint64) (ferryN int64, ferryT time.Duration, judgeN int64, judgeT time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 99))
	gates := []analysis.Gate{analysis.ErrorRateGate{}, analysis.LatencyGate{}}
	var cum analysis.Sample
	var window analysis.Side
	ferryN, judgeN = -1, -1
	newPerSec := int(totalRate * stepShare)
	for sec := 1; sec <= int(maxDuration/time.Second); sec++ {
		addTraffic(rng, &cum.Legacy, totalRate-newPerSec, legacyError, 1)
		var second analysis.Side
		addTraffic(rng, &second, newPerSec, r.errorRate, r.slowdown)
		merge(&cum.New, second)
		merge(&window, second)
		if ferryN < 0 && sec%5 == 0 {
			for _, g := range gates {
				if g.Evaluate(cum).Verdict == analysis.Fail {
					ferryN, ferryT = cum.New.Requests, time.Duration(sec)*time.Second
					break
				}
			}
		}
		if sec%60 == 0 {
			success := 1 - window.ErrorRate()
			p99 := time.Duration(window.Latency.Quantile(0.99)) * time.Microsecond
			if judgeN < 0 && (success < 0.99 || p99 > 500*time.Millisecond) {
				judgeN, judgeT = cum.New.Requests, time.Duration(sec)*time.Second
			}
			window = analysis.Side{}
		}
		if ferryN >= 0 && judgeN >= 0 {
			break
		}
	}
	return ferryN, ferryT, judgeN, judgeT
}

func addTraffic(rng *rand.Rand, s *analysis.Side, n int, errorRate, slowdown float64) {
	var d analysis.Distribution
	for range n {
		s.Requests++
		if rng.Float64() < errorRate {
			s.Errors++
		}
		ms := 40 * math.Exp(0.6*rng.NormFloat64()) * slowdown
		d = append(d, analysis.Bin{Value: int64(ms*1000) / 100 * 100, Count: 1})
	}
	s.Latency = append(s.Latency, d...).Normalize()
}

func merge(into *analysis.Side, s analysis.Side) {
	into.Requests += s.Requests
	into.Errors += s.Errors
	into.Latency = append(into.Latency, s.Latency...).Normalize()
}

func count(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.String()
}

const aaPlan = `name: aa
steps:
- {weight: 5, hold: 500ms}
- {weight: 10, hold: 1s}
- {weight: 50, hold: 1s}
- {weight: 100, hold: 1s}
router: {proxy: {admin: "http://%s"}}
metrics: {proxy: {}}
interval: 250ms
warmup: 1s
deadline: 5m
gates:
  errorRate: {minAbsolute: 0.02}
  latency: {minRequests: 150}
`

// aaCheck runs n migrations with identical sides through the embedded proxy, driven
// through its admin API as ferry migrate drives it, with the access log of a shop with
// 50 endpoints replayed and the per-endpoint gates on.
func aaCheck(n int) error {
	fmt.Printf("A/A check: %d migrations through the embedded proxy, both sides the same shop (50 endpoints, 0.5%% errors), 600 req/s, whole-side and per-endpoint gates\n", n)
	aborted := 0
	for i := range n {
		err := oneAA()
		if err != nil {
			aborted++
			fmt.Printf("  run %d: %v\n", i+1, err)
		}
	}
	fmt.Printf("A/A: %d of %d aborted (false-alarm rate %.1f%%)\n", aborted, n, 100*float64(aborted)/float64(n))
	return nil
}

func oneAA() error {
	dir, err := os.MkdirTemp("", "ferry-aa-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	h := &harness{cleanup: func(f func()) { cleanups = append(cleanups, f) }}
	p := migratetest.StartShopProxy(h, migratetest.NewShopApp(h), migratetest.NewShopApp(h))
	stop := migratetest.Replay("http://"+p.Addr(), migratetest.ShopMix(), 32, 600)
	defer stop()
	pl, err := plan.Parse([]byte(fmt.Sprintf(aaPlan, p.AdminAddr())), dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg, err := providers.Config(ctx, pl, providers.Options{})
	if err != nil {
		return err
	}
	_, err = migrate.Start(ctx, cfg)
	return err
}

// harness gives the test helpers their cleanups outside a test; a fatal error panics.
type harness struct{ cleanup func(func()) }

func (h *harness) Helper()           {}
func (h *harness) Fatal(args ...any) { panic(fmt.Sprint(args...)) }
func (h *harness) Cleanup(f func())  { h.cleanup(f) }
