package providers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/metrics/prometheus/promtest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

// world is real traffic for a migration: legacy and Kubernetes backends, the embedded
// proxy standing in for the data plane the router under test steers (a Gateway, DNS
// resolvers), load through it, and a real Prometheus scraping the proxy.
type world struct {
	legacy, kube *migratetest.Backend
	proxy        *proxy.Proxy
	prom         *promtest.Server
	maxSeen      atomic.Int64 // the largest Kubernetes share the data plane applied
}

func newWorld(t *testing.T, rate int) *world {
	t.Helper()
	// The side backends of the migration tests (100 to 200 ms): a starved test process
	// delays the busier side's requests by tens of milliseconds, which against 10 to
	// 20 ms backends once failed the latency gate at 90 % (p50 2.5x legacy).
	w := &world{legacy: migratetest.NewSideBackend(t), kube: migratetest.NewSideBackend(t)}
	w.proxy = migratetest.StartProxy(t, w.legacy, w.kube)
	w.prom = promtest.Start(t, w.proxy.AdminAddr())
	if rate > 0 {
		load := migratetest.StartLoad(migratetest.URL(w.proxy), rate)
		t.Cleanup(load.Stop)
	}
	w.prom.WaitScraped(t, 2)
	return w
}

// follow makes the proxy apply, every 50ms, the split the provider's state gives, as
// the data plane behind the router would; lag delays each change (a DNS TTL).
func (w *world) follow(t *testing.T, lag time.Duration, state func() (traffic.Weights, bool)) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		var last traffic.Weights
		for ctx.Err() == nil {
			if ws, ok := state(); ok && ws != last {
				last = ws
				time.AfterFunc(lag, func() {
					_ = w.proxy.SetWeights(context.Background(), ws)
					for seen := w.maxSeen.Load(); int64(ws.Kubernetes) > seen && !w.maxSeen.CompareAndSwap(seen, int64(ws.Kubernetes)); seen = w.maxSeen.Load() {
					}
				})
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
}

func (w *world) share(t *testing.T) int {
	ws, err := w.proxy.Weights(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ws.Kubernetes
}

// planHead is a short migration judged by both gates over Prometheus; steps are
// weights held for a second each.
const planHead = `name: e2e
steps: %s
interval: 250ms
warmup: 2s
deadline: 60s
metrics:
  prometheus: {address: %q}
`

// judgingGates are gates as a real migration's: they catch +2 points of errors.
const judgingGates = `final: {control: 10%}
gates:
  errorRate: {minAbsolute: 0.02}
  latency: {minRequests: 150}
`

// config writes the plan, with migratetest.LooseGates, and builds the migration's configuration
// through Config, with the test cluster's kubeconfig.
func config(t *testing.T, promURL string, steps []int, providersYAML string) (migrate.Config, error) {
	t.Helper()
	return configJudged(t, promURL, steps, migratetest.LooseGates, providersYAML)
}

// configJudged is config with the given gates.
func configJudged(t *testing.T, promURL string, steps []int, gates, providersYAML string) (migrate.Config, error) {
	t.Helper()
	var list []string
	for _, s := range steps {
		list = append(list, fmt.Sprintf("{weight: %d, hold: 1s}", s))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "migration.yaml")
	head := fmt.Sprintf(planHead, "["+strings.Join(list, ", ")+"]", promURL)
	if err := os.WriteFile(path, []byte(head+gates+providersYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return providers.Config(context.Background(), p, providers.Options{Kube: kube.Options{Kubeconfig: devclustertest.Kubeconfig(t)}})
}

func start(t *testing.T, cfg migrate.Config, timeout time.Duration) (*migrate.State, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, timeout))
	defer cancel()
	return migrate.Start(ctx, cfg)
}

func hasEvent(st *migrate.State, substr string) bool {
	for _, e := range st.Events {
		if contains(e.Message, substr) {
			return true
		}
	}
	return false
}
