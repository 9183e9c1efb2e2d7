package gateway

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"ferry.dev/ferry/internal/traffic"
)

func ref(name string, weight *int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name)}, Weight: weight}}
}

func w(n int32) *int32 { return &n }

func spec(rules ...[]gatewayv1.HTTPBackendRef) *gatewayv1.HTTPRouteSpec {
	s := &gatewayv1.HTTPRouteSpec{}
	for _, refs := range rules {
		s.Rules = append(s.Rules, gatewayv1.HTTPRouteRule{BackendRefs: refs})
	}
	return s
}

func TestManagedRulesAndWeights(t *testing.T) {
	b := backends{namespace: "shop", legacy: "legacy", kubernetes: "web"}
	other := gatewayv1.Namespace("other")
	crossNS := ref("web", w(5))
	crossNS.Namespace = &other
	for _, tc := range []struct {
		name    string
		spec    *gatewayv1.HTTPRouteSpec
		rules   []int
		share   int
		wantErr string
	}{
		{"one rule", spec([]gatewayv1.HTTPBackendRef{ref("legacy", w(99)), ref("web", w(1))}), []int{0}, 100, ""},
		{"default weights are 1 each", spec([]gatewayv1.HTTPBackendRef{ref("legacy", nil), ref("web", nil)}), []int{0}, 5000, ""},
		{"a rule with legacy alone is left alone", spec([]gatewayv1.HTTPBackendRef{ref("legacy", nil)}, []gatewayv1.HTTPBackendRef{ref("web", w(10)), ref("legacy", w(90))}), []int{1}, 1000, ""},
		{"another backend without traffic is fine", spec([]gatewayv1.HTTPBackendRef{ref("legacy", w(1)), ref("web", w(0)), ref("old", w(0))}), []int{0}, 0, ""},
		{"another backend with traffic is refused", spec([]gatewayv1.HTTPBackendRef{ref("legacy", w(1)), ref("web", w(0)), ref("canary", w(3))}), nil, 0, "rule 0 also sends traffic to canary"},
		{"a Service in another namespace is not ours", spec([]gatewayv1.HTTPBackendRef{ref("legacy", w(1)), crossNS}), nil, 0, "no rule has backendRefs to both"},
		{"no rule names the Kubernetes Service", spec([]gatewayv1.HTTPBackendRef{ref("legacy", w(1))}), nil, 0, "no rule has backendRefs to both Service legacy and Service web"},
		{"both weights 0", spec([]gatewayv1.HTTPBackendRef{ref("legacy", w(0)), ref("web", w(0))}), []int{0}, 0, "both backends weight 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := b.managed(tc.spec)
			if err == nil {
				var share traffic.Weights
				share, err = b.weights(tc.spec, rules)
				if err == nil && (share.Kubernetes != tc.share || len(rules) != len(tc.rules) || rules[0] != tc.rules[0]) {
					t.Fatalf("rules %v at %d bp, want %v at %d", rules, share.Kubernetes, tc.rules, tc.share)
				}
			}
			if (err != nil) != (tc.wantErr != "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(tc.wantErr, "no rule") && !errors.Is(err, ErrBackendNotFound) {
				t.Fatalf("error %v does not wrap ErrBackendNotFound", err)
			}
		})
	}
}

func TestWeightChangesWriteBasisPointsOfManagedRulesOnly(t *testing.T) {
	b := backends{namespace: "shop", legacy: "legacy", kubernetes: "web"}
	s := spec([]gatewayv1.HTTPBackendRef{ref("legacy", nil)}, []gatewayv1.HTTPBackendRef{ref("web", nil), ref("legacy", w(9875)), ref("old", w(0))})
	got := b.weightChanges(s, []int{1}, traffic.KubernetesShare(125))
	want := []weightChange{{rule: 1, ref: 0, weight: 125}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes %v, want %v (legacy already at 9875, rule 0 and the third backend untouched)", got, want)
	}
	s.Rules[1].BackendRefs[0].Weight = w(125)
	if c := b.weightChanges(s, []int{1}, traffic.KubernetesShare(125)); c != nil {
		t.Fatalf("the weights in place still give changes: %v", c)
	}
}

func TestProblems(t *testing.T) {
	st := &gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
		ParentRef: gatewayv1.ParentReference{Name: "web"},
		Conditions: []metav1.Condition{
			{Type: "Accepted", Status: "True", Reason: "Accepted"},
			{Type: "ResolvedRefs", Status: "False", Reason: "UnsupportedValue", Message: "ExternalName Services are not supported"},
		},
	}}}}
	got := problems(st)
	if len(got) != 1 || !strings.Contains(got[0], "web reports ResolvedRefs=False (UnsupportedValue: ExternalName Services are not supported)") {
		t.Fatalf("problems %q", got)
	}
	if p := problems(&gatewayv1.HTTPRouteStatus{}); len(p) != 0 {
		t.Fatalf("a route no Gateway reported on has problems %q", p)
	}
}
