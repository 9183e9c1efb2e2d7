package migratetest

import (
	"bytes"
	"context"
	_ "embed"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"ferry.dev/ferry/internal/loadtest/accesslog"
	"ferry.dev/ferry/internal/routes"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// Payroll is the endpoint ShopApp can break: 2 % of ShopMix's requests.
const Payroll = "POST /payroll/{id}/run"

// PayrollP99 is payroll's p99 on a healthy side: 2 % of its requests take it, the
// rest 10 to 15 ms. It is well above what a starved machine adds to a request (tens of
// milliseconds at a load of four per core), so that doubling it stays a regression
// of the backend and not of the machine's scheduling.
const PayrollP99 = 150 * time.Millisecond

//go:embed shop-endpoints.log
var shopLog []byte

// ShopMix returns the requests of an access log of a shop with 50 endpoints of
// different sizes (from a quarter of the requests to a third of a percent; payroll
// has 2 %), in the nginx combined format.
func ShopMix() []accesslog.Entry {
	log, err := accesslog.Read(bytes.NewReader(shopLog), accesslog.Combined)
	if err != nil {
		panic("migratetest: the embedded shop log does not parse: " + err.Error())
	}
	return log.Entries
}

// ShopApp is one side of the shop: a real HTTP server on loopback whose endpoints
// (named as the proxy names them) each take their own time, 1 to 3 ms ± 25 %, of
// which 0.5 % fail; payroll can be broken.
type ShopApp struct {
	*httptest.Server
	payrollErrors   atomic.Int64
	otherErrors     atomic.Int64 // per million; 0: the healthy 0.5 %
	payrollSlowTail atomic.Bool
}

// NewShopApp starts a healthy side.
func NewShopApp(tb TB) *ShopApp {
	tb.Helper()
	a := &ShopApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	tb.Cleanup(a.Close)
	return a
}

// SetPayrollErrors replaces payroll's error rate (0.5 %).
func (a *ShopApp) SetPayrollErrors(rate float64) { a.payrollErrors.Store(int64(rate * 1e6)) }

// SetOtherErrors replaces the error rate (0.5 %) of every endpoint but payroll.
func (a *ShopApp) SetOtherErrors(rate float64) { a.otherErrors.Store(int64(rate * 1e6)) }

// SetPayrollSlowTail makes 10 % of payroll's requests take twice PayrollP99, which
// doubles its p99.
func (a *ShopApp) SetPayrollSlowTail(on bool) { a.payrollSlowTail.Store(on) }

func (a *ShopApp) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := routes.Endpoint(r.Method, r.URL.Path)
	errorsPerMillion := int64(5000)
	if e := a.otherErrors.Load(); e > 0 {
		errorsPerMillion = e
	}
	h := fnv.New32a()
	io.WriteString(h, endpoint)
	base := time.Millisecond + time.Duration(h.Sum32()%5)*500*time.Microsecond
	d := base*3/4 + time.Duration(rand.Int64N(int64(base/2)))
	if endpoint == Payroll {
		d = 10*time.Millisecond + time.Duration(rand.Int64N(int64(5*time.Millisecond)))
		switch u := rand.Float64(); {
		case u < 0.02:
			d = PayrollP99
		case u < 0.12 && a.payrollSlowTail.Load():
			d = 2 * PayrollP99
		}
		errorsPerMillion = 5000
		if e := a.payrollErrors.Load(); e > 0 {
			errorsPerMillion = e
		}
	}
	time.Sleep(d)
	if rand.Int64N(1e6) < errorsPerMillion {
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// StartShopProxy opens the embedded proxy in front of two shop sides, with one
// second statistics buckets and all traffic on legacy.
func StartShopProxy(tb TB, legacy, kubernetes *ShopApp) *proxy.Proxy {
	tb.Helper()
	return startProxy(tb, legacy.URL, kubernetes.URL)
}

// Replay sends mix's requests to base (http://host:port), in a random order, from
// workers that each wait for their answer, until the returned function is called;
// that function waits for requests in flight. With rate 0 the workers send as fast as
// the machine allows; otherwise they share rate requests per second, and the load
// does not grow when a side slows down.
func Replay(base string, mix []accesslog.Entry, workers, rate int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	var ticks <-chan time.Time
	if rate > 0 {
		ticker := time.NewTicker(time.Second / time.Duration(rate))
		ticks = ticker.C
		context.AfterFunc(ctx, ticker.Stop)
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if ticks != nil {
					select {
					case <-ticks:
					case <-ctx.Done():
						return
					}
				}
				e := mix[rand.IntN(len(mix))]
				req, err := http.NewRequestWithContext(ctx, e.Method, base+e.URI, nil)
				if err != nil {
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}
