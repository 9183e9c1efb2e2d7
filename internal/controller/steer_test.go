package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/rbac"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
)

// startManager runs a manager of cfg, connected with rc, until the test ends.
func startManager(t *testing.T, rc *rest.Config, cfg controller.Config) {
	t.Helper()
	cfg.SeveralPerProcess = true
	mgr, err := controller.NewManager(rc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// freeAddr returns a loopback address with a port no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// scrape reads the metrics endpoint at addr.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value is the value of the family's series with labels; ok false when there is none.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue series
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsEndpointShowsEachMigration(t *testing.T) {
	t.Parallel()
	e := envWithout(t)
	addr := freeAddr(t)
	startManager(t, devclustertest.RESTConfig(t), controller.Config{Namespace: e.ns, MetricsAddr: addr, HealthAddr: "0"})
	ctx := context.Background()
	if err := e.client.Create(ctx, e.migration("shop")); err != nil {
		t.Fatal(err)
	}
	broken := e.migration("broken")
	broken.Spec.Router.Proxy.Admin = "http://127.0.0.1:1" // nothing listens: every step fails
	if err := e.client.Create(ctx, broken); err != nil {
		t.Fatal(err)
	}
	done := e.waitMigration(t, "shop", 2*time.Minute, done)
	e.waitMigration(t, "broken", time.Minute, func(m *v1alpha1.Migration) bool {
		return meta.IsStatusConditionTrue(m.Status.Conditions, v1alpha1.ConditionDegraded)
	})

	families := scrape(t, addr)
	shop := func(extra ...string) map[string]string {
		l := map[string]string{"namespace": e.ns, "migration": "shop"}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ferry_migration_step", shop(), float64(done.Status.CurrentStep)},
		{"ferry_migration_weight", shop("side", "kubernetes"), 100},
		{"ferry_migration_weight", shop("side", "legacy"), 0},
		{"ferry_migration_phase", shop("phase", "Completed"), 1},
		{"ferry_migration_phase", shop("phase", "Progressing"), 0},
		{"ferry_migration_gate_verdict", shop("gate", "error-rate"), 1},
		{"ferry_migration_gate_verdict", shop("gate", "latency"), 1},
	} {
		t.Run(fmt.Sprintf("%s%v", tc.name, tc.labels), func(t *testing.T) {
			got, ok := value(families, tc.name, tc.labels)
			if !ok || got != tc.want {
				t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
			}
		})
	}
	if got, ok := value(families, "ferry_migration_reconcile_errors_total", map[string]string{"namespace": e.ns, "migration": "broken"}); !ok || got < 1 {
		t.Errorf("reconcile errors of the broken migration: %v (found %v), want at least 1", got, ok)
	}
	if _, ok := value(families, "ferry_migration_reconcile_errors_total", shop()); ok {
		t.Error("the healthy migration counts reconcile errors")
	}
	for _, name := range []string{"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total", "controller_runtime_reconcile_time_seconds"} {
		if got, ok := value(families, name, map[string]string{"controller": "migration"}); !ok || got == 0 {
			t.Errorf("%s{controller=migration} = %v (found %v), want reconciles counted", name, got, ok)
		}
	}
}

func TestPrinterColumnsAndHoldReasons(t *testing.T) {
	t.Parallel()
	e := envWithout(t)
	cfg := devclustertest.RESTConfig(t)
	startManager(t, cfg, controller.Config{Namespace: e.ns, MetricsAddr: "0", HealthAddr: "0"})
	ctx := context.Background()
	m := e.migration("shop")
	m.Spec.Steps[0].Hold = &metav1.Duration{Duration: time.Hour}
	if err := e.client.Create(ctx, m); err != nil {
		t.Fatal(err)
	}

	// Holding, the status says why, and an Event says so once per reason.
	holding := e.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool {
		c := meta.FindStatusCondition(m.Status.Conditions, v1alpha1.ConditionProgressing)
		return m.Status.AppliedWeight == "10%" && m.Status.GateSummary != "" && c != nil && strings.HasPrefix(c.Message, "gates pass; holding")
	})
	if ev := e.waitEvent(t, "shop", "Holding"); !strings.Contains(ev.Note, "step 1 holds") {
		t.Errorf("holding event %q", ev.Note)
	}
	t.Logf("holding: %s", meta.FindStatusCondition(holding.Status.Conditions, v1alpha1.ConditionProgressing).Message)
	recordStatus(t, "progressing", holding)

	// Paused, the status stands still: the columns must show it.
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":true}}`))
	if err := e.client.Patch(ctx, &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "shop"}}, patch); err != nil {
		t.Fatal(err)
	}
	paused := e.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool {
		return m.Status.Phase == v1alpha1.PhasePaused && m.Status.ObservedGeneration == m.Generation
	})
	e.waitEvent(t, "shop", "Paused")
	recordStatus(t, "paused", paused)

	table := getTable(t, cfg, e.ns)
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, strings.ToUpper(c.Name))
	}
	if want := "NAME STEP WEIGHT PHASE GATES AGE"; strings.Join(names, " ") != want {
		t.Fatalf("columns %v, want %s", names, want)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(table.Rows))
	}
	cells := table.Rows[0].Cells
	want := []any{"shop", "1/4", "10%", "Paused", paused.Status.GateSummary}
	for i, w := range want {
		if cells[i] != w {
			t.Errorf("column %s is %v, want %v", names[i], cells[i], w)
		}
	}
	if !strings.Contains(paused.Status.GateSummary, "error-rate=") || cells[5] == "" {
		t.Errorf("gates %q, age %v", paused.Status.GateSummary, cells[5])
	}
}

// getTable asks the API server for the Migrations of ns as kubectl get does: as a
// Table with the CRD's printer columns.
func getTable(t *testing.T, cfg *rest.Config, ns string) *metav1.Table {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, cfg.Host+"/apis/ferry.dev/v1alpha1/namespaces/"+ns+"/migrations", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("table: %s, %v", resp.Status, err)
	}
	return &table
}

func TestGeneratedRoleIsEnough(t *testing.T) {
	t.Parallel()
	e := envWithout(t)
	ctx := context.Background()
	admin := devclustertest.RESTConfig(t)

	// Given a ServiceAccount bound to exactly the generated role in the namespace,
	role, err := rbac.Role()
	if err != nil {
		t.Fatal(err)
	}
	roles := e.kube.RbacV1().ClusterRoles()
	if cur, err := roles.Get(ctx, role.Name, metav1.GetOptions{}); err == nil {
		role.ResourceVersion = cur.ResourceVersion
		_, err = roles.Update(ctx, role, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	} else if apierrors.IsNotFound(err) {
		if _, err := roles.Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "ferry-controller"}}
	if _, err := e.kube.CoreV1().ServiceAccounts(e.ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "ferry-controller"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: e.ns}},
	}
	if _, err := e.kube.RbacV1().RoleBindings(e.ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + e.ns + ":" + sa.Name
	t.Run("nothing more", func(t *testing.T) {
		for _, tc := range []struct {
			verb, group, resource string
			allowed               bool
		}{
			{"get", "", "secrets", true},
			{"list", "", "secrets", false},
			{"update", "ferry.dev", "migrations", false},
			{"delete", "ferry.dev", "migrations", false},
			{"create", "", "pods", false},
		} {
			review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: e.ns, Verb: tc.verb, Group: tc.group, Resource: tc.resource}}}
			got, err := e.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed != tc.allowed {
				t.Errorf("%s %s: allowed %v, want %v", tc.verb, tc.resource, got.Status.Allowed, tc.allowed)
			}
		}
	})

	// When the controller runs as it, with leader election, and a migration names a
	// Secret,
	as := rest.CopyConfig(admin)
	as.Impersonate = rest.ImpersonationConfig{UserName: user}
	startManager(t, as, controller.Config{Namespace: e.ns, LeaderElect: true, LeaderElectionNamespace: e.ns, MetricsAddr: "0", HealthAddr: "0"})
	notices := make(chan migrate.Notice, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n migrate.Notice
		if json.NewDecoder(r.Body).Decode(&n) == nil {
			notices <- n
		}
	}))
	t.Cleanup(hook.Close)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "notify"}, StringData: map[string]string{"url": hook.URL}}
	if _, err := e.kube.CoreV1().Secrets(e.ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m := e.migration("shop")
	m.Spec.Notify = []v1alpha1.Notify{{Webhook: &v1alpha1.SecretKeyRef{Name: "notify", Key: "url"}}}
	if err := e.client.Create(ctx, m); err != nil {
		t.Fatal(err)
	}

	// then it walks the migration to its end, records its Events and notifies.
	end := e.waitMigration(t, "shop", 2*time.Minute, done)
	if end.Status.Phase != v1alpha1.PhaseCompleted {
		t.Fatalf("ended %s: %s", end.Status.Phase, end.Status.AbortReason)
	}
	e.waitEvent(t, "shop", "Completed")
	select {
	case n := <-notices:
		if n.Event != "completed" {
			t.Errorf("notice %+v, want completed", n)
		}
	case <-time.After(30 * time.Second):
		t.Error("no notice of the completion")
	}
	lease, err := e.kube.CoordinationV1().Leases(e.ns).Get(ctx, controller.LeaderElectionID, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		t.Errorf("the leader election Lease: %+v, %v", lease, err)
	}
}

func TestAbortLandsOnAnUnusableState(t *testing.T) {
	t.Parallel()
	e := envWithout(t)
	startManager(t, devclustertest.RESTConfig(t), controller.Config{Namespace: e.ns, MetricsAddr: "0", HealthAddr: "0"})
	ctx := context.Background()
	m := e.migration("shop")
	m.Spec.Steps[0].Hold = &metav1.Duration{Duration: time.Hour}
	if err := e.client.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	e.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.AppliedWeight == "10%" })

	// Given a record that is no state (a hand edit), the migration is stuck and says so;
	key := types.NamespacedName{Namespace: e.ns, Name: "shop"}
	for {
		var cur v1alpha1.Migration
		if err := e.client.Get(ctx, key, &cur); err != nil {
			t.Fatal(err)
		}
		cur.Status.Engine.Raw = []byte(`{"step": "two"}`)
		cur.Status.Revision++
		err := e.client.Status().Update(ctx, &cur)
		if err == nil {
			break
		}
		if !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
	e.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool {
		c := meta.FindStatusCondition(m.Status.Conditions, v1alpha1.ConditionDegraded)
		return c != nil && c.Status == metav1.ConditionTrue && strings.Contains(c.Message, "status.engine")
	})

	// an abort asked by annotation still sends all traffic to legacy.
	req := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "shop",
		Annotations: map[string]string{"ferry.dev/request-abort-1": `{"action": "abort", "reason": "state lost"}`}}}
	if err := e.client.Patch(ctx, req, client.Merge); err != nil {
		t.Fatal(err)
	}
	end := e.waitMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.Phase == v1alpha1.PhaseAborted })
	if end.Status.AppliedWeight != "0%" || !strings.Contains(end.Status.AbortReason, "state lost") {
		t.Errorf("aborted with %s applied, reason %q", end.Status.AppliedWeight, end.Status.AbortReason)
	}
	if got := e.kubernetesShare(t); got != 0 {
		t.Errorf("the proxy still sends %d bp to kubernetes", got)
	}
	e.waitEvent(t, "shop", "Aborted")
}
