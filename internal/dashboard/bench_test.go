package dashboard_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/dashboard"
	"ferry.dev/ferry/internal/release"
)

// BenchmarkAppsPage renders the Apps page for a viewer who may read 200 apps (two
// recorded revisions each) beside 50 Migrations, from the dashboard's watched copy of
// the cluster; it reports the server time per render and the page's size.
func BenchmarkAppsPage(b *testing.B) {
	e := newEnv(b)
	fill(b, e, 200, 50)
	token := e.account(b, "operator", operatorRules)
	srv, err := dashboard.New(dashboard.Config{Rest: e.rest, Mode: dashboard.ModeCluster, Namespace: e.ns, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		return rec
	}
	first := get() // the token review and the authorization answers are made here
	if first.Code != http.StatusOK {
		b.Fatalf("apps page: %d\n%s", first.Code, first.Body)
	}
	var size, n int
	start := time.Now()
	for b.Loop() {
		size = get().Body.Len()
		n++
	}
	per := time.Since(start) / time.Duration(max(n, 1))
	b.ReportMetric(float64(size), "bytes/page")
	fmt.Printf("apps page with 200 apps and 50 migrations: %s per render (server), %d KB (goal < 200 ms, < 300 KB)\n", per.Round(time.Microsecond), size/1024)
}

// fill records apps apps of two revisions each and creates migrations Migrations
// in e's namespace.
func fill(b *testing.B, e *env, apps, migrations int) {
	ctx := context.Background()
	store := &release.SecretStore{Client: e.kube, Namespace: e.ns}
	for i := range apps {
		name := fmt.Sprintf("app-%03d", i)
		for rev := 1; rev <= 2; rev++ {
			image := fmt.Sprintf("registry.example.com/%s:1.%d.0", name, rev)
			status := release.StatusSuperseded
			if rev == 2 {
				status = release.StatusDeployed
			}
			started := time.Now().Add(-time.Duration(3-rev) * time.Hour)
			r := &release.Release{
				Record: release.Record{App: name, Revision: rev, Status: status, Kind: release.KindDeploy, Image: image,
					User: "alice", Started: started, Finished: started.Add(42 * time.Second)},
				Manifests: benchManifests(e.ns, name, image),
			}
			if err := store.Create(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range migrations {
		m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: fmt.Sprintf("migration-%02d", i)}}
		m.Spec.Router.Proxy = &v1alpha1.ProxyRouter{Admin: "http://127.0.0.1:1"}
		m.Spec.Metrics.Proxy = &v1alpha1.ProxyMetrics{}
		m.Spec.Paused = true // nothing runs them: the page only lists
		if err := e.client.Create(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

func benchManifests(ns, name, image string) []*unstructured.Unstructured {
	deploy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"replicas": int64(2),
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": image}}},
			},
		},
	}}
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"selector": map[string]any{"app": name}, "ports": []any{map[string]any{"port": int64(80)}}},
	}}
	return []*unstructured.Unstructured{deploy, svc}
}
