package kubestore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
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
	c, ns := newClient(t)
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

	t.Run("an unreadable record is replaced only at its version", func(t *testing.T) {
		migratetest.TestStoreReplacesUnreadable(t, func(t *testing.T) migrate.Store { return newStore(t) }, func(t *testing.T, s migrate.Store) {
			// A writer that kept the revision protocol but wrote something that is
			// no state (a hand edit, a bug): the record moves on to a new revision.
			var m v1alpha1.Migration
			if err := c.Get(ctx, keyOf(s), &m); err != nil {
				t.Fatal(err)
			}
			m.Status.Engine = &apiextensionsv1.JSON{Raw: []byte(`{"step": "two"}`)}
			m.Status.Revision++
			if err := c.Status().Update(ctx, &m); err != nil {
				t.Fatal(err)
			}
		})
	})

	t.Run("an unreadable record is named", func(t *testing.T) {
		s := newStore(t)
		var m v1alpha1.Migration
		if err := c.Get(ctx, keyOf(s), &m); err != nil {
			t.Fatal(err)
		}
		m.Status.Engine = &apiextensionsv1.JSON{Raw: []byte(`"garbage"`)}
		if err := c.Status().Update(ctx, &m); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx)
		if !errors.Is(err, migrate.ErrUnusableState) || !strings.Contains(err.Error(), "status.engine") || strings.Contains(err.Error(), "migrate.State") {
			t.Fatalf("load: %v; want ErrUnusableState naming status.engine, in words", err)
		}
	})

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

	t.Run("the conditions follow the phase in the same write", func(t *testing.T) {
		// A reader (kubectl wait, Argo CD, kstatus) sees the phase and the conditions
		// of one save, never an Aborted Migration still Progressing.
		s := newStore(t)
		st := &migrate.State{Phase: migrate.PhaseRunning, Step: 1, StepStarted: time.Now()}
		for _, tc := range []struct {
			phase                     migrate.Phase
			want                      v1alpha1.Phase
			ready, progress, degraded metav1.ConditionStatus
		}{
			{migrate.PhaseRunning, v1alpha1.PhaseProgressing, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse},
			{migrate.PhaseAborting, v1alpha1.PhaseProgressing, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionTrue},
			{migrate.PhaseAborted, v1alpha1.PhaseAborted, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue},
		} {
			st.Phase, st.Reason = tc.phase, "error rate 3% against 0.5%"
			if err := s.Save(ctx, st); err != nil {
				t.Fatal(err)
			}
			var m v1alpha1.Migration
			if err := c.Get(ctx, keyOf(s), &m); err != nil {
				t.Fatal(err)
			}
			got := func(typ string) metav1.ConditionStatus {
				if c := meta.FindStatusCondition(m.Status.Conditions, typ); c != nil {
					return c.Status
				}
				return "missing"
			}
			if m.Status.Phase != tc.want || got(v1alpha1.ConditionReady) != tc.ready || got(v1alpha1.ConditionProgressing) != tc.progress || got(v1alpha1.ConditionDegraded) != tc.degraded {
				t.Errorf("saved %s: phase %s, Ready %s, Progressing %s, Degraded %s; want %s, %s, %s, %s", tc.phase, m.Status.Phase,
					got(v1alpha1.ConditionReady), got(v1alpha1.ConditionProgressing), got(v1alpha1.ConditionDegraded), tc.want, tc.ready, tc.progress, tc.degraded)
			}
		}
	})
}

func keyOf(s migrate.Store) types.NamespacedName {
	name := strings.TrimPrefix(s.(fmt.Stringer).String(), "migration ")
	ns, n, _ := strings.Cut(name, "/")
	return types.NamespacedName{Namespace: ns, Name: n}
}

// TestHandWrittenRequests checks what `kubectl annotate` queues: the ID comes from the
// key, the run and the time are filled in, and what is not a promote or an abort is
// dropped with a reason.
func TestHandWrittenRequests(t *testing.T) {
	ctx := context.Background()
	c, ns := newClient(t)
	m := &v1alpha1.Migration{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: v1alpha1.MigrationSpec{
			Router:  v1alpha1.Router{Proxy: &v1alpha1.ProxyRouter{Admin: "http://127.0.0.1:9901"}},
			Metrics: v1alpha1.Metrics{Proxy: &v1alpha1.ProxyMetrics{}},
		},
	}
	if err := c.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "shop"}
	s := kubestore.New(kubestore.Config{Client: c, Key: key})
	st := &migrate.State{Name: "shop", Run: "run-7", Phase: migrate.PhaseRunning, Started: time.Now(), StepStarted: time.Now()}
	if err := s.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	annotate := map[string]string{
		kubestore.RequestPrefix + "promote-by-hand": `{"action": "promote", "reason": "looks fine"}`,
		kubestore.RequestPrefix + "skip-by-hand":    `{"action": "skip"}`,
		kubestore.RequestPrefix + "odd":             `{"action": "abort", "why": "typo"}`,
		kubestore.RequestPrefix + "other-id":        `{"id": "x", "action": "abort"}`,
	}
	patch := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop", Annotations: annotate}}
	if err := c.Patch(ctx, patch, client.Merge); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	reqs, err := s.TakeRequests(ctx)
	if len(reqs) != 1 || reqs[0].ID != "promote-by-hand" || reqs[0].Action != "promote" || reqs[0].Run != "run-7" || reqs[0].At.Before(before.Add(-time.Second)) {
		t.Fatalf("took %+v, want the promote with its ID, run and time filled in", reqs)
	}
	for _, want := range []string{`request-skip-by-hand: action "skip": use promote or abort`, `request-odd: not a request`, `request-other-id: its id "x" is not the key's "other-id"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
	var got v1alpha1.Migration
	if err := c.Get(ctx, key, &got); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"promote-by-hand", "skip-by-hand", "odd", "other-id"} {
		if !kubestore.Acknowledged(&got, id) {
			t.Errorf("request %s is not acknowledged: %v", id, got.Status.AcknowledgedRequests)
		}
	}
}

// client_ returns a client of the test cluster, with the CRD installed, and a
// namespace of the test's own.
func newClient(t *testing.T) (client.Client, string) {
	t.Helper()
	cfg := devclustertest.RESTConfig(t)
	if err := crd.Install(context.Background(), cfg); err != nil {
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
	return c, devclustertest.Namespace(t, kubernetes.NewForConfigOrDie(cfg), "kubestore")
}
