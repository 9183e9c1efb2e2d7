package gatewaytest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// Backend is a backendRef to a Service on port 80 with a weight.
func Backend(service string, weight int32) gatewayv1.HTTPBackendRef {
	port := gatewayv1.PortNumber(80)
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(service), Port: &port},
		Weight:                 &weight,
	}}
}

// Rule is an HTTPRoute rule for a path prefix with the given backends.
func Rule(prefix string, refs ...gatewayv1.HTTPBackendRef) gatewayv1.HTTPRouteRule {
	kind := gatewayv1.PathMatchPathPrefix
	return gatewayv1.HTTPRouteRule{
		Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &kind, Value: &prefix}}},
		BackendRefs: refs,
	}
}

// CreateRoute creates an HTTPRoute attached to Gateway "web" with the given rules.
func CreateRoute(tb testing.TB, gw gatewayclient.Interface, namespace, name string, rules ...gatewayv1.HTTPRouteRule) *gatewayv1.HTTPRoute {
	tb.Helper()
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "web"}}},
			Hostnames:       []gatewayv1.Hostname{"shop.example.com"},
			Rules:           rules,
		},
	}
	out, err := gw.GatewayV1().HTTPRoutes(namespace).Create(context.Background(), route, metav1.CreateOptions{})
	if err != nil {
		tb.Fatalf("create HTTPRoute: %v", err)
	}
	return out
}

// CreateServices creates the legacy side as an ExternalName Service for legacyHost and
// the Kubernetes side as a ClusterIP Service, both on port 80.
func CreateServices(tb testing.TB, kc kubernetes.Interface, namespace, legacy, legacyHost, kube string) {
	tb.Helper()
	ports := []corev1.ServicePort{{Name: "http", Port: 80}}
	for _, svc := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: legacy}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: legacyHost, Ports: ports}},
		{ObjectMeta: metav1.ObjectMeta{Name: kube}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": kube}, Ports: ports}},
	} {
		if _, err := kc.CoreV1().Services(namespace).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
			tb.Fatalf("create Service %s: %v", svc.Name, err)
		}
	}
}
