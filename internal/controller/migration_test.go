package controller_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/traffic/proxy"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	devclustertest.Main(m)
}

var installOnce sync.Once

// env is one namespace, watched by a controller started for the test (newEnv) or not
// yet (envWithout), with real traffic: legacy and kubernetes backends behind the
// embedded proxy, under load.
type env struct {
	ns           string
	client       client.WithWatch
	kube         kubernetes.Interface
	legacy, new_ *migratetest.Backend
	proxy        *proxy.Proxy
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return startEnv(t, "migration", true)
}

// envWithout is an env whose namespace no controller watches yet: the test starts
// its own with startManager.
func envWithout(t *testing.T) *env {
	t.Helper()
	return startEnv(t, "steer", false)
}

// loadRate is the requests a second sent through an env's proxy. The gates of
// migration() need few requests: these tests are about the controller, and what the
// gates conclude from real traffic is tested where that is the point (internal/migrate,
// internal/providers). Every request costs the race detector's CPU on a shared machine.
const loadRate = 150

func startEnv(t *testing.T, prefix string, watched bool) *env {
	t.Helper()
	cfg := devclustertest.RESTConfig(t)
	var installErr error
	installOnce.Do(func() { installErr = crd.Install(context.Background(), cfg) })
	if installErr != nil {
		t.Fatal(installErr)
	}
	scheme, err := controller.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{kube: kubernetes.NewForConfigOrDie(cfg)}
	if e.client, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	e.ns = devclustertest.Namespace(t, e.kube, prefix)
	if watched {
		startManager(t, cfg, controller.Config{Namespace: e.ns, MetricsAddr: "0", HealthAddr: "0"})
	}
	e.legacy = migratetest.NewSideBackend(t)
	e.new_ = migratetest.NewSideBackend(t)
	e.proxy = migratetest.StartProxy(t, e.legacy, e.new_)
	load := migratetest.StartLoad(migratetest.URL(e.proxy), loadRate)
	t.Cleanup(load.Stop)
	return e
}

// migration is a plan of four short steps on the env's proxy.
func (e *env) migration(name string) *v1alpha1.Migration {
	d := func(s string) *metav1.Duration {
		v, _ := time.ParseDuration(s)
		return &metav1.Duration{Duration: v}
	}
	m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	for _, w := range []string{"10", "25", "50", "100"} {
		m.Spec.Steps = append(m.Spec.Steps, v1alpha1.Step{Weight: w, Hold: d("1s")})
	}
	m.Spec.Router.Proxy = &v1alpha1.ProxyRouter{Admin: "http://" + e.proxy.AdminAddr()}
	m.Spec.Metrics.Proxy = &v1alpha1.ProxyMetrics{}
	m.Spec.Interval, m.Spec.Warmup, m.Spec.Deadline = d("200ms"), d("1500ms"), d("60s")
	// Loose gates (as the fleet tests'): a step passes on about fifty requests, and a
	// starved test process does not look slow enough to fail.
	m.Spec.Gates.ErrorRate = &v1alpha1.ErrorRateGate{MinAbsolute: 0.1}
	m.Spec.Gates.Latency = &v1alpha1.LatencyGate{MinRequests: 50, MaxP50Ratio: 20, MaxP99Ratio: 50}
	// The last step is judged at 75 % beside a 25 % control: the latency gate judges
	// the tail once legacy has 200 requests, which a smaller control gathers slowly.
	m.Spec.Final.Control = "25%"
	return m
}

// waitMigration watches the Migration until until returns true for it, calling
// each (when set) with every version seen.
func (e *env) waitMigration(t *testing.T, name string, timeout time.Duration, until func(*v1alpha1.Migration) bool) *v1alpha1.Migration {
	t.Helper()
	timeout = devclustertest.Patience(t, timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var list v1alpha1.MigrationList
	watchIt := func() watch.Interface {
		w, err := e.client.Watch(ctx, &list, client.InNamespace(e.ns), client.MatchingFields{"metadata.name": name})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := watchIt()
	defer func() { w.Stop() }()
	var last *v1alpha1.Migration
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("migration %s: gave up after %s; last seen %+v", name, timeout.Round(time.Second), last.Status)
		case ev, ok := <-w.ResultChan():
			if !ok { // the API server ends watches after a while: watch again
				w = watchIt()
				continue
			}
			if m, isMig := ev.Object.(*v1alpha1.Migration); isMig && ev.Type != watch.Deleted {
				last = m
				if until(m) {
					return m
				}
			}
		}
	}
}

// waitEvent watches the namespace's Events until one with reason regards name.
func (e *env) waitEvent(t *testing.T, name, reason string) *eventsv1.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, 30*time.Second))
	defer cancel()
	w, err := e.kube.EventsV1().Events(e.ns).Watch(ctx, metav1.ListOptions{FieldSelector: "reason=" + reason})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if x, ok := ev.Object.(*eventsv1.Event); ok && x.Regarding.Name == name {
			return x
		}
	}
	t.Fatalf("no %s event for %s", reason, name)
	return nil
}

func (e *env) kubernetesShare(t *testing.T) int {
	w, err := e.proxy.Weights(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w.Kubernetes
}

func done(m *v1alpha1.Migration) bool {
	return m.Status.Phase == v1alpha1.PhaseCompleted || m.Status.Phase == v1alpha1.PhaseAborted
}

func TestMigrationWalksItsStepsToCompleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.client.Create(context.Background(), e.migration("shop")); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	m := e.waitMigration(t, "shop", 2*time.Minute, func(m *v1alpha1.Migration) bool {
		seen[m.Status.StepDisplay] = true
		return done(m)
	})
	if m.Status.Phase != v1alpha1.PhaseCompleted || m.Status.AppliedWeight != "100%" || m.Status.StepDisplay != "4/4" {
		t.Fatalf("ended %s at step %s with %s applied (%s), want Completed at 4/4 with 100%%", m.Status.Phase, m.Status.StepDisplay, m.Status.AppliedWeight, m.Status.AbortReason)
	}
	for _, step := range []string{"1/4", "2/4", "3/4", "4/4"} {
		if !seen[step] {
			t.Errorf("step %s was never recorded (saw %v)", step, seen)
		}
	}
	if got := e.kubernetesShare(t); got != 10000 {
		t.Errorf("the proxy sends %d bp to kubernetes, want all", got)
	}
	e.waitEvent(t, "shop", "Completed")
	m = e.waitMigration(t, "shop", 30*time.Second, func(m *v1alpha1.Migration) bool {
		return m.Status.ObservedGeneration == m.Generation && meta.IsStatusConditionTrue(m.Status.Conditions, v1alpha1.ConditionReady)
	})
	recordStatus(t, "completed", m)
	for _, c := range m.Status.Conditions {
		want := metav1.ConditionFalse
		if c.Type == v1alpha1.ConditionReady {
			want = metav1.ConditionTrue
		}
		if c.Status != want {
			t.Errorf("condition %s is %s (%s), want %s", c.Type, c.Status, c.Message, want)
		}
	}
}

func TestRegressionAbortsTheMigration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.client.Create(context.Background(), e.migration("shop")); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	m := e.waitMigration(t, "shop", 2*time.Minute, func(m *v1alpha1.Migration) bool {
		if m.Status.CurrentStep >= 2 {
			once.Do(func() { e.new_.SetErrorRate(0.6) })
		}
		return done(m)
	})
	if m.Status.Phase != v1alpha1.PhaseAborted || m.Status.AppliedWeight != "0%" {
		t.Fatalf("ended %s with %s applied, want Aborted with 0%%", m.Status.Phase, m.Status.AppliedWeight)
	}
	recordStatus(t, "aborted", m)
	if !strings.Contains(m.Status.AbortReason, "gate error-rate failed") {
		t.Errorf("abort reason %q, want the error-rate gate", m.Status.AbortReason)
	}
	if got := e.kubernetesShare(t); got != 0 {
		t.Errorf("the proxy still sends %d bp to kubernetes", got)
	}
	if ev := e.waitEvent(t, "shop", "Aborted"); ev.Type != "Warning" {
		t.Errorf("abort event of type %s, want Warning", ev.Type)
	}
}

func TestInvalidMigrationIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		change func(m *v1alpha1.Migration)
		want   []string
	}{
		{"weights falling", func(m *v1alpha1.Migration) { m.Spec.Steps[1].Weight = "5" }, []string{"spec.steps", "weights must rise"}},
		{"weight above 100", func(m *v1alpha1.Migration) { m.Spec.Steps[3].Weight = "150" }, []string{"spec.steps", "at most 100"}},
		{"last step short of 100", func(m *v1alpha1.Migration) { m.Spec.Steps = m.Spec.Steps[:3] }, []string{"spec.steps", "the last step must send 100%"}},
		{"no router", func(m *v1alpha1.Migration) { m.Spec.Router.Proxy = nil }, []string{"spec.router", "name exactly one router"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := e.migration(strings.ReplaceAll(tc.name, " ", "-"))
			tc.change(m)
			err := e.client.Create(context.Background(), m)
			if err == nil {
				t.Fatal("the API server accepted it")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("refused with %q, want it to say %q", err, want)
				}
			}
		})
	}
}
