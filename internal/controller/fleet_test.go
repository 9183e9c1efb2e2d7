package controller_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/fleet/fleettest"
)

// fleetService is the Service in front of the test fleets.
const fleetService = "ferry-proxy"

// fleetEnv is a namespace with a fleet of proxy replicas behind a Service whose
// EndpointSlices the test publishes, real backends and load on every replica.
type fleetEnv struct {
	*env
	legacy, new_ *migratetest.Backend
	replicas     []*fleettest.Replica
}

// newFleetEnv makes the namespace, the Service, the token Secret and the backends;
// with a controller started in this process unless controllers is false (the test
// runs its own).
func newFleetEnv(t *testing.T, startController bool) *fleetEnv {
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
	e.ns = devclustertest.Namespace(t, e.kube, "fleet")
	fleettest.Service(t, e.kube, e.ns, fleetService)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "proxy-admin"}, StringData: map[string]string{"token": fleettest.Token}}
	if err := e.client.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	if startController {
		startManager(t, cfg, controller.Config{Namespace: e.ns, MetricsAddr: "0", HealthAddr: "0",
			Kube: kube.Options{Kubeconfig: devclustertest.Kubeconfig(t)}})
	}
	f := &fleetEnv{env: e}
	f.legacy = migratetest.NewSideBackend(t)
	f.new_ = migratetest.NewSideBackend(t)
	return f
}

// addReplica starts a replica under load and publishes it.
func (f *fleetEnv) addReplica(t *testing.T, name string) *fleettest.Replica {
	t.Helper()
	r := fleettest.StartReplica(t, name, f.legacy.URL, f.new_.URL)
	load := migratetest.StartLoad(r.URL(), 150)
	t.Cleanup(load.Stop)
	fleettest.Publish(t, f.kube, f.ns, fleetService, name, r.Admin)
	f.replicas = append(f.replicas, r)
	return r
}

// migration is a plan of the given steps (weight, hold) on the fleet.
func (f *fleetEnv) migration(name string, steps ...string) *v1alpha1.Migration {
	m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}}
	for _, s := range steps {
		weight, hold, _ := strings.Cut(s, "/")
		d, _ := time.ParseDuration(hold)
		m.Spec.Steps = append(m.Spec.Steps, v1alpha1.Step{Weight: weight, Hold: &metav1.Duration{Duration: d}})
	}
	m.Spec.Router.ProxyFleet = &v1alpha1.ProxyFleetRouter{Service: fleetService, AdminPort: fleettest.AdminPort,
		TokenSecretRef: &v1alpha1.SecretKeyRef{Name: "proxy-admin", Key: "token"}}
	m.Spec.Metrics.Proxy = &v1alpha1.ProxyMetrics{}
	m.Spec.Interval = &metav1.Duration{Duration: 200 * time.Millisecond}
	m.Spec.Warmup = &metav1.Duration{Duration: time.Second}
	m.Spec.Deadline = &metav1.Duration{Duration: 2 * time.Minute}
	m.Spec.Gates.ErrorRate = &v1alpha1.ErrorRateGate{MinAbsolute: 0.1}
	// The latency gate judges the merged histograms, loosely: on a machine shared by
	// many tests (and the race detector) a starved process looks slow, and these tests
	// are about the fleet, not about latency.
	// It passes on as many requests as the error-rate gate (25): at the first step's
	// 5 % those are what the step waits for.
	m.Spec.Gates.Latency = &v1alpha1.LatencyGate{MinRequests: 25, MaxP50Ratio: 20, MaxP99Ratio: 50}
	// The last step is judged at 75 % beside a 25 % control: at the default 1 % the
	// legacy side gathers the requests its tail needs too slowly for a test.
	m.Spec.Final.Control = "25%"
	return m
}

// shares reads every replica's Kubernetes share through its admin API.
func (f *fleetEnv) shares(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range f.replicas {
		w, err := r.Client().Weights(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		out = append(out, traffic.FormatPercent(w.Kubernetes))
	}
	return out
}

// checkApplied checks, when m's status says its step's weight is applied, that every
// replica applies it: the replicas are read first, the Migration after, and the check
// counts only if no later step was recorded in between (a step is recorded before
// any replica is told). It returns the weight checked, or "" when it did not count.
func (f *fleetEnv) checkApplied(t *testing.T, m *v1alpha1.Migration) string {
	t.Helper()
	s := m.Status
	if s.AppliedWeight == "" || s.AppliedWeight != s.TargetWeight || s.Phase == v1alpha1.PhasePending {
		return ""
	}
	shares := f.shares(t)
	var now v1alpha1.Migration
	if err := f.client.Get(context.Background(), client.ObjectKeyFromObject(m), &now); err != nil {
		t.Fatal(err)
	}
	if now.Status.TargetWeight != s.AppliedWeight || now.Status.CurrentStep != s.CurrentStep {
		return "" // moved on meanwhile: the replicas may be between two steps
	}
	for i, got := range shares {
		if got != s.AppliedWeight {
			t.Errorf("step %s: %s applies %s to kubernetes, the Migration says %s (all: %v)", s.StepDisplay, f.replicas[i].Name, got, s.AppliedWeight, shares)
		}
	}
	return s.AppliedWeight
}

// history is a replica's Kubernetes shares as set, in order.
func history(r *fleettest.Replica) []string {
	var out []string
	for _, w := range r.Sets() {
		out = append(out, traffic.FormatPercent(w.Kubernetes))
	}
	return out
}

func TestFleetWalksEveryStepOnEveryReplica(t *testing.T) {
	t.Parallel()
	f := newFleetEnv(t, true)
	for _, name := range []string{"proxy-a", "proxy-b", "proxy-c"} {
		f.addReplica(t, name)
	}
	if err := f.client.Create(context.Background(), f.migration("shop", "5/1s", "10/1s", "50/1s", "100/1s")); err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	m := f.waitMigration(t, "shop", 4*time.Minute, func(m *v1alpha1.Migration) bool {
		if w := f.checkApplied(t, m); w != "" {
			checked[w] = true
		}
		return done(m)
	})
	if m.Status.Phase != v1alpha1.PhaseCompleted {
		t.Fatalf("ended %s at %s (%s), want Completed", m.Status.Phase, m.Status.StepDisplay, m.Status.AbortReason)
	}
	want := []string{"5%", "10%", "50%", "100%"}
	for _, w := range want {
		if !checked[w] {
			t.Errorf("the replicas were never seen at %s with the step applied (checked: %v)", w, checked)
		}
	}
	// The last step is judged at 75 % beside its control, then goes to 100 %.
	sets := []string{"5%", "10%", "50%", "75%", "100%"}
	for _, r := range f.replicas {
		if got := history(r); !slices.Equal(got, sets) {
			t.Errorf("%s was set to %v, want each step once, in order: %v", r.Name, got, sets)
		}
	}
}

func TestFleetRegressionAbortsEveryReplica(t *testing.T) {
	t.Parallel()
	f := newFleetEnv(t, true)
	for _, name := range []string{"proxy-a", "proxy-b", "proxy-c"} {
		f.addReplica(t, name)
	}
	if err := f.client.Create(context.Background(), f.migration("shop", "5/1s", "10/1m", "50/1s", "100/1s")); err != nil {
		t.Fatal(err)
	}
	var inject sync.Once
	m := f.waitMigration(t, "shop", 4*time.Minute, func(m *v1alpha1.Migration) bool {
		if w := f.checkApplied(t, m); w == "10%" {
			inject.Do(func() { f.new_.SetErrorRate(0.6) })
		}
		return done(m)
	})
	if m.Status.Phase != v1alpha1.PhaseAborted || m.Status.AppliedWeight != "0%" || !strings.Contains(m.Status.AbortReason, "gate error-rate failed at 10%") {
		t.Fatalf("ended %s with %s applied (%q), want Aborted by the error-rate gate at 10%% with 0%%", m.Status.Phase, m.Status.AppliedWeight, m.Status.AbortReason)
	}
	if got := f.shares(t); !slices.Equal(got, []string{"0%", "0%", "0%"}) {
		t.Errorf("after the abort the replicas send %v to kubernetes, want 0%% on all three", got)
	}
	for _, r := range f.replicas {
		if got, want := history(r), []string{"5%", "10%", "0%"}; !slices.Equal(got, want) {
			t.Errorf("%s was set to %v, want %v", r.Name, got, want)
		}
	}
}

func TestFleetReplicaThatJoinsOrCannotBeReached(t *testing.T) {
	t.Parallel()
	f := newFleetEnv(t, true)
	f.addReplica(t, "proxy-a")
	f.addReplica(t, "proxy-b")
	if err := f.client.Create(context.Background(), f.migration("shop", "10/1h", "50/1s", "100/1s")); err != nil {
		t.Fatal(err)
	}
	f.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.AppliedWeight == "10%" })

	c := f.addReplica(t, "proxy-c")
	// The replica's front records a split once the proxy has confirmed it, a moment
	// after the proxy applies it: wait for the record, not for the proxy's weights.
	devclustertest.WaitFor(t, 30*time.Second, "the joining replica at 10%", func(ctx context.Context) (bool, error) {
		w, err := c.Client().Weights(ctx)
		return w.Kubernetes == 1000 && len(c.Sets()) > 0, err
	})
	if got := history(c); !slices.Equal(got, []string{"10%"}) {
		t.Errorf("the joining replica was set to %v, want the current step's 10%% once", got)
	}

	fleettest.Publish(t, f.kube, f.ns, fleetService, "proxy-gone", fleettest.Unreachable(t))
	names := func(m *v1alpha1.Migration, what string) bool {
		for _, e := range m.Status.Events {
			if strings.Contains(e.Message, "replica proxy-gone (") && strings.Contains(e.Message, what) && strings.Contains(e.Message, "holding") {
				return true
			}
		}
		return false
	}
	m := f.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return names(m, "kubernetes 10%") })
	if m.Status.CurrentStep != 1 || m.Status.AppliedWeight != "10%" {
		t.Errorf("at step %d with %s applied, want step 1 held at 10%%", m.Status.CurrentStep, m.Status.AppliedWeight)
	}

	// Promoted, the next step is recorded but not applied while a replica is missing.
	store := kubestore.New(kubestore.Config{Client: f.client, Key: types.NamespacedName{Namespace: f.ns, Name: "shop"}})
	st, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	promote := migrate.Request{ID: "promote-1", Action: "promote", Run: st.Run, At: time.Now()}
	if err := store.PutRequest(context.Background(), promote); err != nil {
		t.Fatal(err)
	}
	m = f.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return names(m, "kubernetes 50%") })
	if m.Status.CurrentStep != 2 || m.Status.TargetWeight != "50%" || m.Status.AppliedWeight != "10%" {
		t.Errorf("at step %d with target %s and %s applied, want step 2's 50%% held at 10%% applied", m.Status.CurrentStep, m.Status.TargetWeight, m.Status.AppliedWeight)
	}
	// The replicas that answer apply the step's weight, never more; the step counts
	// as applied only when all of them do.
	if got := f.shares(t); !slices.Equal(got, []string{"50%", "50%", "50%"}) {
		t.Errorf("the reachable replicas send %v to kubernetes, want the step's 50%%", got)
	}

	fleettest.Withdraw(t, f.kube, f.ns, fleetService, "proxy-gone")
	m = f.waitMigration(t, "shop", time.Minute, done)
	if m.Status.Phase != v1alpha1.PhaseCompleted {
		t.Fatalf("ended %s (%s), want Completed once the unreachable replica is gone", m.Status.Phase, m.Status.AbortReason)
	}
	if got := f.shares(t); !slices.Equal(got, []string{"100%", "100%", "100%"}) {
		t.Errorf("the replicas send %v to kubernetes, want 100%% on all three", got)
	}
}
