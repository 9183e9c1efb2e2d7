package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/dashboard"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/traffic/proxy"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	devclustertest.Main(m)
}

var installOnce sync.Once

// env is a namespace of its own, a controller that runs its Migrations and the
// dashboard in cluster mode (as an admin identity) in front of it.
type env struct {
	rest   *rest.Config
	kube   kubernetes.Interface
	client client.WithWatch
	ns     string
	url    string
}

func newEnv(t testing.TB) *env {
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
	e := &env{rest: cfg, kube: kubernetes.NewForConfigOrDie(cfg)}
	if e.client, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	e.ns = devclustertest.Namespace(t, e.kube, "dashboard")
	ctx, stop := context.WithCancel(context.Background())
	mgr, err := controller.NewManager(cfg, controller.Config{Namespace: e.ns, MetricsAddr: "0", HealthAddr: "0", SeveralPerProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	srv, err := dashboard.New(dashboard.Config{Rest: cfg, Mode: dashboard.ModeCluster, Namespace: e.ns,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	e.url = hs.URL
	t.Cleanup(func() {
		hs.CloseClientConnections()
		stop()
		hs.Close()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return e
}

// account creates a ServiceAccount bound to a Role of rules and returns a token of
// it (TokenRequest).
func (e *env) account(t testing.TB, name string, rules []rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	if _, err := e.kube.CoreV1().ServiceAccounts(e.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.RbacV1().Roles(e.ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.RbacV1().RoleBindings(e.ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: e.ns}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := e.kube.CoreV1().ServiceAccounts(e.ns).CreateToken(ctx, name, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// Roles of the tests: an operator who reads apps and steers migrations, a viewer
// who only reads.
var (
	operatorRules = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"ferry.dev"}, Resources: []string{"migrations"}, Verbs: []string{"get", "list", "watch", "patch"}},
	}
	viewerRules = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}},
		{APIGroups: []string{"ferry.dev"}, Resources: []string{"migrations"}, Verbs: []string{"get", "list"}},
	}
)

// traffic is a proxy between two backends under steady load, for a Migration to
// judge.
func traffic(t *testing.T) *proxy.Proxy {
	legacy := migratetest.NewSideBackend(t)
	kube := migratetest.NewSideBackend(t)
	p := migratetest.StartProxy(t, legacy, kube)
	load := migratetest.StartLoad(migratetest.URL(p), 150)
	t.Cleanup(load.Stop)
	return p
}

// migration is a plan of four steps of hold each on p.
func (e *env) migration(t testing.TB, name string, p *proxy.Proxy, hold time.Duration) *v1alpha1.Migration {
	d := func(v time.Duration) *metav1.Duration { return &metav1.Duration{Duration: v} }
	m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	for _, w := range []string{"10", "25", "50", "100"} {
		m.Spec.Steps = append(m.Spec.Steps, v1alpha1.Step{Weight: w, Hold: d(hold)})
	}
	m.Spec.Router.Proxy = &v1alpha1.ProxyRouter{Admin: "http://" + p.AdminAddr()}
	m.Spec.Metrics.Proxy = &v1alpha1.ProxyMetrics{}
	m.Spec.Interval, m.Spec.Warmup, m.Spec.Deadline = d(200*time.Millisecond), d(1500*time.Millisecond), d(60*time.Second)
	// Loose gates (a step passes on about fifty requests; a starved test process does
	// not look slow enough to fail): these tests are about the dashboard.
	m.Spec.Gates.ErrorRate = &v1alpha1.ErrorRateGate{MinAbsolute: 0.1}
	m.Spec.Gates.Latency = &v1alpha1.LatencyGate{MinRequests: 50, MaxP50Ratio: 20, MaxP99Ratio: 50}
	m.Spec.Final.Control = "25%"
	if err := e.client.Create(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// watchMigration watches the Migration until until returns true for it.
func (e *env) watchMigration(t *testing.T, name string, timeout time.Duration, until func(*v1alpha1.Migration) bool) *v1alpha1.Migration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, timeout))
	defer cancel()
	var last *v1alpha1.Migration
	err := e.watch(ctx, name, func(m *v1alpha1.Migration) bool {
		last = m
		return until(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// watch watches the Migration until until returns true for it or ctx ends.
func (e *env) watch(ctx context.Context, name string, until func(*v1alpha1.Migration) bool) error {
	var list v1alpha1.MigrationList
	w, err := e.client.Watch(ctx, &list, client.InNamespace(e.ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		return err
	}
	defer w.Stop()
	var last *v1alpha1.Migration
	for {
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("migration %s: gave up; last seen %s at step %s (%s)", name, last.Status.Phase, last.Status.StepDisplay, last.Status.GateSummary)
			}
			return fmt.Errorf("migration %s: gave up, never seen", name)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("migration %s: the watch ended", name)
			}
			if m, isMig := ev.Object.(*v1alpha1.Migration); isMig && ev.Type != watch.Deleted {
				last = m
				if until(m) {
					return nil
				}
			}
		}
	}
}

// get fetches path with token as a bearer token (none when empty).
func (e *env) do(t *testing.T, method, path, token string, body io.Reader, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf" content="([^"]+)">`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfMeta.FindStringSubmatch(html)
	if m == nil || strings.TrimSpace(m[1]) == "" {
		t.Fatal("the page carries no CSRF token")
	}
	return m[1]
}
