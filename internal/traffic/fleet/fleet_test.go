package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/metrics/proxystats"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/fleet"
	"ferry.dev/ferry/internal/traffic/fleet/fleettest"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

const service = "ferry-proxy"

// env is a namespace with a Service whose EndpointSlices the test publishes, and the
// fleet router over it.
type env struct {
	ns                 string
	kube               kubernetes.Interface
	router             *fleet.Router
	legacy, kubernetes *migratetest.Backend
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{kube: kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))}
	e.ns = devclustertest.Namespace(t, e.kube, "fleet")
	fleettest.Service(t, e.kube, e.ns, service)
	var err error
	e.router, err = fleet.New(fleet.Config{Kube: e.kube, Namespace: e.ns, Service: service, Token: fleettest.Token})
	if err != nil {
		t.Fatal(err)
	}
	e.legacy = migratetest.NewBackend(t, 0, time.Millisecond, 2*time.Millisecond)
	e.kubernetes = migratetest.NewBackend(t, 0, time.Millisecond, 2*time.Millisecond)
	return e
}

// replica starts a replica and publishes it.
func (e *env) replica(t *testing.T, name string) *fleettest.Replica {
	t.Helper()
	r := fleettest.StartReplica(t, name, e.legacy.URL, e.kubernetes.URL)
	fleettest.Publish(t, e.kube, e.ns, service, name, r.Admin)
	return r
}

func weightsOf(t *testing.T, r *fleettest.Replica) traffic.Weights {
	t.Helper()
	w, err := r.Client().Weights(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSetWeightsOnEveryReplica(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reps := []*fleettest.Replica{e.replica(t, "proxy-a"), e.replica(t, "proxy-b"), e.replica(t, "proxy-c")}
	found, err := e.router.Replicas(ctx)
	if err != nil || len(found) != 3 || found[0].Name != "proxy-a" || found[2].Name != "proxy-c" {
		t.Fatalf("replicas %v (%v), want proxy-a, proxy-b and proxy-c", found, err)
	}
	w := traffic.KubernetesShare(500)
	if err := e.router.SetWeights(ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if got := weightsOf(t, r); got != w {
			t.Errorf("%s applies %s, want %s", r.Name, got, w)
		}
	}
	if got, err := e.router.Weights(ctx); err != nil || got != w {
		t.Errorf("fleet weights %s (%v), want %s", got, err, w)
	}

	t.Run("a replica that joins gets the weights, the others are left alone", func(t *testing.T) {
		d := e.replica(t, "proxy-d")
		if _, err := e.router.Weights(ctx); err == nil || !strings.Contains(err.Error(), "proxy-d 0%") {
			t.Errorf("weights of a fleet that disagrees: %v, want an error naming proxy-d at 0%%", err)
		}
		if err := e.router.EnsureWeights(ctx, w); err != nil {
			t.Fatal(err)
		}
		if got := weightsOf(t, d); got != w {
			t.Errorf("the new replica applies %s, want %s", got, w)
		}
		for _, r := range reps {
			if sets := r.Sets(); len(sets) != 1 {
				t.Errorf("%s was set %d times (%v), want once: EnsureWeights sets only where the split differs", r.Name, len(sets), sets)
			}
		}
	})

	t.Run("a replica that is not ready is left out", func(t *testing.T) {
		ready, err := e.router.Replicas(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fleettest.Publish(t, e.kube, e.ns, service, "proxy-e", fleettest.Unreachable(t))
		fleettest.SetReady(t, e.kube, e.ns, service, "proxy-e", false)
		after, err := e.router.Replicas(ctx)
		if err != nil || len(after) != len(ready) {
			t.Errorf("replicas %v (%v), want the %d ready ones", after, err, len(ready))
		}
	})
}

func TestUnreachableReplicaIsNamed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.replica(t, "proxy-a")
	fleettest.Publish(t, e.kube, e.ns, service, "proxy-gone", fleettest.Unreachable(t))
	w := traffic.KubernetesShare(1000)
	err := e.router.SetWeights(ctx, w)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 replicas could not set") || !strings.Contains(err.Error(), "replica proxy-gone (") {
		t.Fatalf("error %v, want one naming proxy-gone, 1 of 2", err)
	}
	if got := weightsOf(t, a); got != w {
		t.Errorf("the reachable replica applies %s, want %s all the same", got, w)
	}
	if _, err := e.router.Stats(ctx, time.Minute); err == nil || !strings.Contains(err.Error(), "proxy-gone") {
		t.Errorf("statistics of a fleet with an unreachable replica: %v, want an error naming it", err)
	}
}

func TestEmptyFleet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, service, want string
	}{
		{"a Service without replicas", service, "no ready endpoint with a port named admin"},
		{"a Service that does not exist", "nowhere", "the Service does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := fleet.New(fleet.Config{Kube: e.kube, Namespace: e.ns, Service: tc.service})
			if err != nil {
				t.Fatal(err)
			}
			err = r.SetWeights(ctx, traffic.KubernetesShare(100))
			if !errors.Is(err, fleet.ErrNoReplica) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrNoReplica saying %q", err, tc.want)
			}
		})
	}
}

func TestFleetStatisticsAreMerged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reps := []*fleettest.Replica{e.replica(t, "proxy-a"), e.replica(t, "proxy-b"), e.replica(t, "proxy-c")}
	if err := e.router.SetWeights(ctx, traffic.KubernetesShare(5000)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// Replica i serves 10·(i+1) requests for an order and 10 for the home page: 60
	// and 30 in all, which the per-endpoint sample must add up across replicas.
	for i, r := range reps {
		for k := range 10 * (i + 1) {
			get(t, fmt.Sprintf("%s/orders/%d", r.URL(), 1000+k))
		}
		for range 10 {
			get(t, r.URL()+"/")
		}
	}
	src := proxystats.FromFleet(e.router.Stats, e.router.StatsByRoute)
	sample, err := src.Sample(ctx, start.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := sample.Legacy.Requests + sample.New.Requests; got != 90 {
		t.Errorf("the fleet's sample counts %d requests, want the 20 + 30 + 40 sent", got)
	}
	if sample.Legacy.Latency.Count() != sample.Legacy.Requests || sample.New.Latency.Count() != sample.New.Requests {
		t.Errorf("latency distributions of %d and %d requests, want %d and %d", sample.Legacy.Latency.Count(), sample.New.Latency.Count(), sample.Legacy.Requests, sample.New.Requests)
	}
	if len(sample.Endpoints) != 0 {
		t.Errorf("endpoints %v without ByEndpoint, want none", sample.Endpoints)
	}

	src.ByEndpoint = true
	sample, err = src.Sample(ctx, start.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, ep := range sample.Endpoints {
		got[ep.Name] = ep.Legacy.Requests + ep.New.Requests
		if ep.Legacy.Latency.Count() != ep.Legacy.Requests || ep.New.Latency.Count() != ep.New.Requests {
			t.Errorf("endpoint %s: latency distributions of %d and %d requests, want %d and %d", ep.Name, ep.Legacy.Latency.Count(), ep.New.Latency.Count(), ep.Legacy.Requests, ep.New.Requests)
		}
	}
	if want := map[string]int64{"GET /orders/{id}": 60, "GET /": 30}; !maps.Equal(got, want) {
		t.Errorf("the fleet's endpoints %v, want %v: each route added up over the replicas", got, want)
	}
}

func get(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
