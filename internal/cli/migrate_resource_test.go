package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
	"ferry.dev/ferry/internal/migrate/migratetest"
)

// resourceEnv is a namespace of the test cluster where a controller can be started and
// stopped, with real traffic through the embedded proxy and a webhook that receives
// the migration's notices.
type resourceEnv struct {
	ns, kubeconfig string
	client         client.WithWatch
	proxyAdmin     string
	notices        chan migrate.Notice
	weights        func() int
}

func newResourceEnv(t *testing.T) *resourceEnv {
	t.Helper()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	cfg := devclustertest.RESTConfig(t)
	if err := crd.Install(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	scheme, err := controller.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	e := &resourceEnv{kubeconfig: devclustertest.Kubeconfig(t), notices: make(chan migrate.Notice, 4)}
	if e.client, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	e.ns = devclustertest.Namespace(t, kubernetes.NewForConfigOrDie(cfg), "steer")
	legacy := migratetest.NewSideBackend(t)
	kube := migratetest.NewSideBackend(t)
	p := migratetest.StartProxy(t, legacy, kube)
	load := migratetest.StartLoad(migratetest.URL(p), 300)
	t.Cleanup(load.Stop)
	e.proxyAdmin = "http://" + p.AdminAddr()
	e.weights = func() int {
		w, err := p.Weights(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return w.Kubernetes
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n migrate.Notice
		if err := json.NewDecoder(r.Body).Decode(&n); err == nil {
			e.notices <- n
		}
	}))
	t.Cleanup(hook.Close)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "notify"}, StringData: map[string]string{"url": hook.URL}}
	if err := e.client.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	return e
}

// startController runs a controller for the namespace until the returned function
// is called (or the test ends).
func (e *resourceEnv) startController(t *testing.T) (stop func()) {
	t.Helper()
	mgr, err := controller.NewManager(devclustertest.RESTConfig(t), controller.Config{Namespace: e.ns, MetricsAddr: "0", HealthAddr: "0", SeveralPerProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("controller: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// ferry runs ferry against the env's namespace.
func (e *resourceEnv) ferry(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return run(t, append(args, "--kubeconfig", e.kubeconfig, "-n", e.ns)...)
}

// waitFor watches the Migration until cond holds.
func (e *resourceEnv) waitFor(t *testing.T, name, what string, cond func(*v1alpha1.Migration) bool) *v1alpha1.Migration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, 90*time.Second))
	defer cancel()
	w, err := e.client.Watch(ctx, &v1alpha1.MigrationList{}, client.InNamespace(e.ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var last v1alpha1.MigrationStatus
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("migration %s: %s did not happen; last status %+v", name, what, last)
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("migration %s: the watch ended while waiting for %s", name, what)
			}
			if m, isMig := ev.Object.(*v1alpha1.Migration); isMig && ev.Type != watch.Deleted {
				last = m.Status
				if cond(m) {
					return m
				}
			}
		}
	}
}

// writePlan writes a plan file of four steps that each hold for an hour but the
// last, so that only promotes move the migration on.
func (e *resourceEnv) writePlan(t *testing.T, notify string) string {
	t.Helper()
	plan := fmt.Sprintf(`name: shop
steps:
- {weight: 10, hold: 1h}
- {weight: 25, hold: 1h}
- {weight: 50, hold: 1h}
- {weight: 100, hold: 1s}
router: {proxy: {admin: "%s"}}
metrics: {proxy: {}}
interval: 200ms
warmup: 500ms
deadline: 2h
gates:
  errorRate: {minAbsolute: 0.02}
  disable: [latency, endpoints] # steered by hand: a latency verdict is not this test's subject
notify:
- webhook: %s
`, e.proxyAdmin, notify)
	path := filepath.Join(t.TempDir(), "migration.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func requestAnnotations(m *v1alpha1.Migration) []string {
	var out []string
	for k := range m.Annotations {
		if strings.HasPrefix(k, kubestore.RequestPrefix) {
			out = append(out, k)
		}
	}
	return out
}

func TestMigrateResourceIsAppliedAndSteered(t *testing.T) {
	t.Parallel()
	e := newResourceEnv(t)
	ctx := context.Background()
	key := types.NamespacedName{Namespace: e.ns, Name: "shop"}

	// Given a plan with its webhook inline, apply refuses it and creates nothing.
	code, _, stderr := e.ferry(t, "migrate", "apply", "-f", e.writePlan(t, "https://hooks.example/T0/secret"))
	if code != ExitError || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "notify[0].webhook (line 16)") || !strings.Contains(stderr, "secretKeyRef") || strings.Contains(stderr, "T0/secret") {
		t.Fatalf("apply of an inline secret: exit %d, stderr %q; want one line naming notify[0].webhook and a secretKeyRef, without the URL", code, stderr)
	}
	if err := e.client.Get(ctx, key, &v1alpha1.Migration{}); err == nil {
		t.Fatal("the refused plan was applied")
	}

	// With the webhook by reference, apply creates the Migration, then leaves it as it is.
	plan := e.writePlan(t, "{name: notify, key: url}")
	for _, want := range []string{"created", "unchanged"} {
		code, stdout, stderr := e.ferry(t, "migrate", "apply", "-f", plan)
		if code != 0 || !strings.Contains(stdout, "migration.ferry.dev/shop "+want) {
			t.Fatalf("apply: exit %d, stdout %q, stderr %q; want %s", code, stdout, stderr, want)
		}
	}
	code, stdout, _ := e.ferry(t, "migrate", "apply", "-f", plan, "--name", "shop-copy", "-o", "json")
	var applied v1alpha1.Migration
	if code != 0 || json.Unmarshal([]byte(stdout), &applied) != nil || applied.Name != "shop-copy" || applied.Spec.Notify[0].Webhook.Name != "notify" {
		t.Fatalf("apply -o json: exit %d, %s", code, stdout)
	}
	// The copy was only there to show -o json and --name: gone before a controller
	// starts, so it does not walk the same proxy as shop.
	if err := e.client.Delete(ctx, &applied); err != nil {
		t.Fatal(err)
	}
	var m v1alpha1.Migration
	if err := e.client.Get(ctx, key, &m); err != nil {
		t.Fatal(err)
	}
	if !managedBy(&m, "ferry", "Apply") {
		t.Errorf("the Migration's fields are not applied by the field manager ferry: %+v", m.ManagedFields)
	}

	// Nothing runs it yet: there is nothing to promote.
	if code, _, stderr := e.ferry(t, "migrate", "promote", "shop"); code != ExitError || !strings.Contains(stderr, "has not started: nothing to promote") {
		t.Fatalf("promote before the start: exit %d, %q", code, stderr)
	}

	stop := e.startController(t)
	e.waitFor(t, "shop", "the first step's weight applied", func(m *v1alpha1.Migration) bool { return m.Status.AppliedWeight == "10%" })

	// pause holds the step: the controller acknowledges spec.paused.
	code, _, stderr = e.ferry(t, "migrate", "pause", "shop")
	if code != 0 || !strings.Contains(stderr, "acknowledged") {
		t.Fatalf("pause: exit %d, %q", code, stderr)
	}
	paused := e.waitFor(t, "shop", "the phase Paused", func(m *v1alpha1.Migration) bool { return m.Status.Phase == v1alpha1.PhasePaused })

	// status NAME -o json prints the resource's .status as it is.
	code, stdout, stderr = e.ferry(t, "migrate", "status", "shop", "-o", "json")
	if code != 0 {
		t.Fatalf("status: exit %d, %q", code, stderr)
	}
	var printed map[string]any
	if err := json.Unmarshal([]byte(stdout), &printed); err != nil {
		t.Fatalf("status -o json is not JSON: %v\n%s", err, stdout)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "ferry.dev", Version: "v1alpha1", Kind: "Migration"})
	if err := e.client.Get(ctx, key, u); err != nil {
		t.Fatal(err)
	}
	if u.GetResourceVersion() != paused.ResourceVersion {
		t.Fatalf("the paused Migration changed (version %s, then %s)", paused.ResourceVersion, u.GetResourceVersion())
	}
	var resource map[string]any // through JSON as well, so numbers compare as numbers
	raw, _ := json.Marshal(u.Object["status"])
	if err := json.Unmarshal(raw, &resource); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(printed, resource) {
		t.Errorf("status -o json differs from the resource's .status:\n%s\nresource: %v", stdout, u.Object["status"])
	}

	// With no controller, a promote is not acknowledged and says so; given again, it
	// stays one request.
	stop()
	code, _, stderr = e.ferry(t, "migrate", "promote", "shop", "--timeout", "1s")
	if code != ExitError || !strings.Contains(stderr, "no controller acknowledged the promote request") || !strings.Contains(stderr, "kubectl annotate") {
		t.Fatalf("promote with no controller: exit %d, %q", code, stderr)
	}
	if code, _, stderr := e.ferry(t, "migrate", "promote", "shop", "--wait=false"); code != 0 {
		t.Fatalf("promote --wait=false: exit %d, %q", code, stderr)
	}
	if err := e.client.Get(ctx, key, &m); err != nil {
		t.Fatal(err)
	}
	if got := requestAnnotations(&m); len(got) != 1 {
		t.Fatalf("the promote given twice queued %v, want one request", got)
	}
	e.startController(t)
	m = *e.waitFor(t, "shop", "the queued promote taken", func(m *v1alpha1.Migration) bool {
		return len(requestAnnotations(m)) == 0 && m.Status.AppliedWeight == "25%"
	})
	if m.Status.CurrentStep != 2 {
		t.Fatalf("after one promote given twice: step %d, want 2", m.Status.CurrentStep)
	}

	// A request written by hand, as `kubectl annotate` writes it, is taken the same way.
	hand := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "shop",
		Annotations: map[string]string{kubestore.RequestPrefix + "by-hand": `{"action": "promote", "reason": "by hand"}`}}}
	if err := e.client.Patch(ctx, hand, client.Merge); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "shop", "the hand-written promote taken", func(m *v1alpha1.Migration) bool {
		return kubestore.Acknowledged(m, "by-hand") && m.Status.AppliedWeight == "50%"
	})

	// resume clears spec.paused; the step holds on its own again.
	if code, _, stderr := e.ferry(t, "migrate", "resume", "shop"); code != 0 || !strings.Contains(stderr, "acknowledged") {
		t.Fatalf("resume: exit %d, %q", code, stderr)
	}
	e.waitFor(t, "shop", "the phase Progressing", func(m *v1alpha1.Migration) bool { return m.Status.Phase == v1alpha1.PhaseProgressing })

	// abort needs a reason, then lands 0 % and notifies from the controller.
	if code, _, _ := e.ferry(t, "migrate", "abort", "shop"); code != ExitUsage {
		t.Fatalf("abort without --reason: exit %d, want %d", code, ExitUsage)
	}
	code, stdout, stderr = e.ferry(t, "migrate", "abort", "shop", "--reason", "checkout errors")
	if code != 0 || !strings.Contains(stderr, "abort: acknowledged") || !strings.Contains(stdout, "Aborted") {
		t.Fatalf("abort: exit %d\n%s\n%s", code, stdout, stderr)
	}
	e.waitFor(t, "shop", "the phase Aborted", func(m *v1alpha1.Migration) bool {
		return m.Status.Phase == v1alpha1.PhaseAborted && m.Status.AppliedWeight == "0%"
	})
	if got := e.weights(); got != 0 {
		t.Errorf("the proxy sends %d bp to kubernetes after the abort", got)
	}
	select {
	case n := <-e.notices:
		if n.Event != "aborted" || !strings.Contains(n.Reason, "checkout errors") || n.Migration != "shop" {
			t.Errorf("notice %+v, want the abort of shop with its reason", n)
		}
	case <-time.After(30 * time.Second):
		t.Error("the webhook received no notice of the abort")
	}
	if code, _, stderr := e.ferry(t, "migrate", "promote", "shop"); code != ExitError || !strings.Contains(stderr, "has already aborted") {
		t.Errorf("promote after the abort: exit %d, %q", code, stderr)
	}
}

// managedBy reports whether manager owns fields of m by operation.
func managedBy(m *v1alpha1.Migration, manager, operation string) bool {
	for _, f := range m.ManagedFields {
		if f.Manager == manager && string(f.Operation) == operation {
			return true
		}
	}
	return false
}
