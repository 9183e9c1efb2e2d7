package gateway_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/gateway"
	"ferry.dev/ferry/internal/traffic/gateway/gatewaytest"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

var installOnce sync.Once

// cluster is one test's namespace on the local control plane, with the Gateway API CRDs.
type cluster struct {
	kube kubernetes.Interface
	gw   gatewayclient.Interface
	ns   string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := devclustertest.RESTConfig(t)
	installOnce.Do(func() { gatewaytest.InstallCRDs(t, cfg) })
	c := &cluster{kube: kubernetes.NewForConfigOrDie(cfg), gw: gatewayclient.NewForConfigOrDie(cfg)}
	c.ns = devclustertest.Namespace(t, c.kube, "gateway")
	return c
}

func (c *cluster) router(t *testing.T, route, legacy, kube string) *gateway.Router {
	t.Helper()
	r, err := gateway.New(gateway.Config{Gateway: c.gw, Kube: c.kube, Namespace: c.ns, Route: route, Legacy: legacy, Kubernetes: kube})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (c *cluster) route(t *testing.T, name string) *gatewayv1.HTTPRoute {
	t.Helper()
	r, err := c.gw.GatewayV1().HTTPRoutes(c.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func weightsOf(rule gatewayv1.HTTPRouteRule) map[string]int32 {
	out := map[string]int32{}
	for _, ref := range rule.BackendRefs {
		out[string(ref.Name)] = *ref.Weight
	}
	return out
}

func TestSetWeightsOnTheLocalAPIServer(t *testing.T) {
	c := newCluster(t)
	gatewaytest.CreateServices(t, c.kube, c.ns, "legacy", "legacy.shop.example.com", "shop")
	gatewaytest.CreateRoute(t, c.gw, c.ns, "shop",
		gatewaytest.Rule("/", gatewaytest.Backend("legacy", 1), gatewaytest.Backend("shop", 0)),
		gatewaytest.Rule("/admin", gatewaytest.Backend("legacy", 1)),
		gatewaytest.Rule("/api", gatewaytest.Backend("shop", 0), gatewaytest.Backend("legacy", 1)),
	)
	r := c.router(t, "shop", "legacy", "shop")
	ctx := context.Background()
	if w, err := r.Weights(ctx); err != nil || w.Kubernetes != 0 {
		t.Fatalf("Weights before: %v, %v", w, err)
	}
	for _, bp := range []int{100, 500, 1000, 5000, 10000, 0} {
		if err := r.SetWeights(ctx, traffic.KubernetesShare(bp)); err != nil {
			t.Fatalf("SetWeights(%s): %v", traffic.FormatPercent(bp), err)
		}
		route := c.route(t, "shop")
		for _, i := range []int{0, 2} {
			if got := weightsOf(route.Spec.Rules[i]); got["legacy"] != int32(traffic.Total-bp) || got["shop"] != int32(bp) {
				t.Fatalf("rule %d weights %v at %s", i, got, traffic.FormatPercent(bp))
			}
		}
		if got := weightsOf(route.Spec.Rules[1]); got["legacy"] != 1 || len(got) != 1 {
			t.Fatalf("the legacy-only rule changed: %v", got)
		}
		if w, err := r.Weights(ctx); err != nil || w.Kubernetes != bp {
			t.Fatalf("Weights after SetWeights(%d bp): %v, %v", bp, w, err)
		}
	}
	// Nothing to change: no update, the resource version stays.
	before := c.route(t, "shop").ResourceVersion
	if err := r.SetWeights(ctx, traffic.KubernetesShare(0)); err != nil || c.route(t, "shop").ResourceVersion != before {
		t.Fatalf("a no-op SetWeights: %v, resource version %s → %s", err, before, c.route(t, "shop").ResourceVersion)
	}
}

func TestConcurrentEditsOfTheRouteAreKept(t *testing.T) {
	c := newCluster(t)
	gatewaytest.CreateServices(t, c.kube, c.ns, "legacy", "legacy.shop.example.com", "shop")
	gatewaytest.CreateRoute(t, c.gw, c.ns, "shop", gatewaytest.Rule("/", gatewaytest.Backend("legacy", 1), gatewaytest.Backend("shop", 0)))
	r := c.router(t, "shop", "legacy", "shop")
	ctx := context.Background()
	done := make(chan struct{})
	edits := 0
	go func() { // someone else labels the route, and a Gateway writes its status, over and over
		defer close(done)
		for i := range 40 {
			route, err := c.gw.GatewayV1().HTTPRoutes(c.ns).Get(ctx, "shop", metav1.GetOptions{})
			if err != nil {
				return
			}
			if i%2 == 0 {
				route.Labels = map[string]string{"edit": strings.Repeat("x", i+1)}
				if _, err := c.gw.GatewayV1().HTTPRoutes(c.ns).Update(ctx, route, metav1.UpdateOptions{}); err == nil {
					edits++
				}
				continue
			}
			route.Status.Parents = []gatewayv1.RouteParentStatus{{ParentRef: gatewayv1.ParentReference{Name: "web"}, ControllerName: "example.com/gateway",
				Conditions: []metav1.Condition{{Type: "Accepted", Status: "True", Reason: "Accepted", ObservedGeneration: int64(i), LastTransitionTime: metav1.Now()}}}}
			_, _ = c.gw.GatewayV1().HTTPRoutes(c.ns).UpdateStatus(ctx, route, metav1.UpdateOptions{})
		}
	}()
	for _, bp := range []int{100, 500, 1000, 2500, 5000, 7500, 10000} {
		if err := r.SetWeights(ctx, traffic.KubernetesShare(bp)); err != nil {
			t.Fatalf("SetWeights while someone else edits the route: %v", err)
		}
	}
	<-done
	route := c.route(t, "shop")
	if got := weightsOf(route.Spec.Rules[0]); got["shop"] != traffic.Total || edits == 0 || route.Labels["edit"] == "" {
		t.Fatalf("weights %v, %d edits, labels %v: an update was lost", got, edits, route.Labels)
	}
}

func TestBadSettingsAreRefusedWithoutAChange(t *testing.T) {
	c := newCluster(t)
	gatewaytest.CreateServices(t, c.kube, c.ns, "legacy", "legacy.shop.example.com", "shop")
	gatewaytest.CreateRoute(t, c.gw, c.ns, "shop", gatewaytest.Rule("/", gatewaytest.Backend("legacy", 1), gatewaytest.Backend("shop", 0)))
	broken := gatewaytest.CreateRoute(t, c.gw, c.ns, "broken", gatewaytest.Rule("/", gatewaytest.Backend("legacy", 1), gatewaytest.Backend("shop", 0)))
	broken.Status.Parents = []gatewayv1.RouteParentStatus{{
		ParentRef: gatewayv1.ParentReference{Name: "web"}, ControllerName: "example.com/gateway",
		Conditions: []metav1.Condition{{Type: "ResolvedRefs", Status: "False", Reason: "UnsupportedValue", Message: "ExternalName Services are not supported", LastTransitionTime: metav1.Now()}},
	}}
	if _, err := c.gw.GatewayV1().HTTPRoutes(c.ns).UpdateStatus(context.Background(), broken, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, route, legacy, kube string
		want                      string
		is                        error
	}{
		{"HTTPRoute not found", "shopp", "legacy", "shop", "HTTPRoute not found: " + c.ns + "/shopp", gateway.ErrRouteNotFound},
		{"Service not in the route", "shop", "legacy", "web", "no rule has backendRefs to both Service legacy and Service web", gateway.ErrBackendNotFound},
		{"a Gateway cannot resolve a backend", "broken", "legacy", "shop", "web reports ResolvedRefs=False (UnsupportedValue", nil},
		{"legacy Service missing", "shop", "legacy", "shop", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "legacy Service missing" { // last: it deletes the Service
				if err := c.kube.CoreV1().Services(c.ns).Delete(context.Background(), "legacy", metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				tc.want, tc.is = "service not found: "+c.ns+"/legacy", gateway.ErrServiceNotFound
			}
			_, err := c.router(t, tc.route, tc.legacy, tc.kube).Weights(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Weights: %v, want one line with %q", err, tc.want)
			}
		})
	}
	before := c.route(t, "shop").ResourceVersion
	if err := c.router(t, "shop", "legacy", "web").SetWeights(context.Background(), traffic.KubernetesShare(100)); !errors.Is(err, gateway.ErrBackendNotFound) {
		t.Fatalf("SetWeights with a Service the route does not name: %v", err)
	}
	if after := c.route(t, "shop").ResourceVersion; after != before {
		t.Fatal("a refused SetWeights changed the route")
	}
}
