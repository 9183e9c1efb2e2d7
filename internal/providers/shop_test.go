package providers_test

import (
	"context"
	"fmt"
	"testing"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// payroll is the endpoint the regressions break: 2 % of the access log's requests.
const payroll = migratetest.Payroll

// shopWorld is the proxy in front of both sides of the shop and its traffic mix.
type shopWorld struct {
	legacy, kube *migratetest.ShopApp
	proxy        *proxy.Proxy
}

func newShopWorld(t *testing.T) *shopWorld {
	t.Helper()
	w := &shopWorld{legacy: migratetest.NewShopApp(t), kube: migratetest.NewShopApp(t)}
	w.proxy = migratetest.StartShopProxy(t, w.legacy, w.kube)
	return w
}

// replay sends the shop's access log through the proxy until stop is called, at rate
// requests per second (0: as fast as the machine allows).
func (w *shopWorld) replay(workers, rate int) (stop func()) {
	return migratetest.Replay("http://"+w.proxy.Addr(), migratetest.ShopMix(), workers, rate)
}

// shopSteps are a plan's usual steps: a 5 % step, then stepsFrom10.
func shopSteps(minRequests int) string {
	return "- {weight: 5, hold: 500ms}\n" + stepsFrom10(minRequests)
}

// stepsFrom10 are a 10 % step that waits for minRequests on the new side, then 50 %
// and 100 %.
func stepsFrom10(minRequests int) string {
	return fmt.Sprintf(`- {weight: 10, hold: 1s, minRequests: %d}
- {weight: 50, hold: 1s}
- {weight: 100, hold: 1s}
`, minRequests)
}

// config is a plan for the shop's proxy with the given steps; regressions of 2 points
// of errors or more matter (so a 5 % step passes on a few hundred requests).
func (w *shopWorld) config(t *testing.T, steps, gates string) migrate.Config {
	t.Helper()
	yaml := fmt.Sprintf(`name: shop
steps:
%srouter: {proxy: {admin: "http://%s"}}
metrics: {proxy: {}}
interval: 250ms
warmup: 1s
deadline: 10m
gates:
  errorRate: {minAbsolute: 0.02}
  latency: {minRequests: 150}
%s`, steps, w.proxy.AdminAddr(), gates)
	p, err := plan.Parse([]byte(yaml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := providers.Config(context.Background(), p, providers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
