package kubestore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
	"ferry.dev/ferry/internal/migrate/migratetest"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

func TestStore(t *testing.T) {
	ctx := context.Background()
	cfg := devclustertest.RESTConfig(t)
	if err := crd.Install(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := devclustertest.Namespace(t, kubernetes.NewForConfigOrDie(cfg), "kubestore")
	var n atomic.Int64
	newStore := func(t *testing.T) *kubestore.Store {
		m := &v1alpha1.Migration{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("shop-%d", n.Add(1))},
			Spec: v1alpha1.MigrationSpec{
				Router:  v1alpha1.Router{Proxy: &v1alpha1.ProxyRouter{Admin: "http://127.0.0.1:9901"}},
				Metrics: v1alpha1.Metrics{Proxy: &v1alpha1.ProxyMetrics{}},
			},
		}
		if err := c.Create(ctx, m); err != nil {
			t.Fatal(err)
		}
		return kubestore.New(kubestore.Config{Client: c, Key: types.NamespacedName{Namespace: ns, Name: m.Name}})
	}
	migratetest.TestStore(t, func(t *testing.T) migrate.Store { return newStore(t) })

	t.Run("a request annotated again is not taken again", func(t *testing.T) {
		s := newStore(t)
		req := migrate.Request{ID: "pause-1", Action: "pause", At: time.Now()}
		for i, want := range []int{1, 0} {
			if err := s.PutRequest(ctx, req); err != nil {
				t.Fatal(err)
			}
			got, err := s.TakeRequests(ctx)
			if err != nil || len(got) != want {
				t.Fatalf("take %d: %+v, %v; want %d requests", i+1, got, err, want)
			}
		}
	})
}
