package gateway

import (
	"errors"
	"fmt"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"ferry.dev/ferry/internal/traffic"
)

// ErrBackendNotFound means no rule of the HTTPRoute sends traffic to both Services.
var ErrBackendNotFound = errors.New("no rule with both backends")

// backends names the two Services a route splits between, in the route's namespace.
type backends struct {
	namespace, legacy, kubernetes string
}

// side returns which of the two Services ref names, if either.
func (b backends) side(ref gatewayv1.BackendRef) (traffic.Side, bool) {
	if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Service" ||
		ref.Namespace != nil && string(*ref.Namespace) != b.namespace {
		return 0, false
	}
	switch string(ref.Name) {
	case b.legacy:
		return traffic.Legacy, true
	case b.kubernetes:
		return traffic.Kubernetes, true
	}
	return 0, false
}

// managed returns the indexes of the rules with backendRefs to both Services; rules
// that name only one (a path kept on legacy) are left alone. A managed rule with another
// backend that gets traffic is refused: the shares would not be what ferry sets.
func (b backends) managed(spec *gatewayv1.HTTPRouteSpec) ([]int, error) {
	var rules []int
	for i, rule := range spec.Rules {
		var seen [2]bool
		var others []string
		for _, ref := range rule.BackendRefs {
			if s, ok := b.side(ref.BackendRef); ok {
				seen[s] = true
			} else if weight(ref.Weight) > 0 {
				others = append(others, string(ref.Name))
			}
		}
		if !seen[traffic.Legacy] || !seen[traffic.Kubernetes] {
			continue
		}
		if len(others) > 0 {
			return nil, fmt.Errorf("rule %d also sends traffic to %s; ferry splits between exactly two backends", i, strings.Join(others, ", "))
		}
		rules = append(rules, i)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%w: no rule has backendRefs to both Service %s and Service %s", ErrBackendNotFound, b.legacy, b.kubernetes)
	}
	return rules, nil
}

// weight is a backendRef's weight; Gateway API defaults it to 1.
func weight(w *int32) int {
	if w == nil {
		return 1
	}
	return int(*w)
}

// weights returns the split of the first managed rule.
func (b backends) weights(spec *gatewayv1.HTTPRouteSpec, rules []int) (traffic.Weights, error) {
	var w [2]int
	for _, ref := range spec.Rules[rules[0]].BackendRefs {
		if s, ok := b.side(ref.BackendRef); ok {
			w[s] += weight(ref.Weight)
		}
	}
	if w[traffic.Legacy]+w[traffic.Kubernetes] == 0 {
		return traffic.Weights{}, fmt.Errorf("rule %d gives both backends weight 0: the route answers every request with an error", rules[0])
	}
	return traffic.KubernetesShare(traffic.Share(w[traffic.Legacy], w[traffic.Kubernetes])), nil
}

// weightChange is one backendRef whose weight must change: rule and backendRef index.
type weightChange struct {
	rule, ref int
	weight    int32
}

// weightChanges returns the weights to write so every managed rule carries w, in basis
// points (Gateway API weights go up to 1 000 000, so every split is exact), or nil when
// the route already carries it.
func (b backends) weightChanges(spec *gatewayv1.HTTPRouteSpec, rules []int, w traffic.Weights) []weightChange {
	var out []weightChange
	for _, i := range rules {
		for j, ref := range spec.Rules[i].BackendRefs {
			s, ok := b.side(ref.BackendRef)
			if !ok {
				continue
			}
			want := int32(w.Of(s))
			if ref.Weight != nil && *ref.Weight == want {
				continue
			}
			out = append(out, weightChange{rule: i, ref: j, weight: want})
		}
	}
	return out
}

// problems returns what the route's Gateways report against it: not accepted, or
// backends they cannot resolve (an ExternalName Service the implementation does not
// support, a missing Service).
func problems(status *gatewayv1.HTTPRouteStatus) []string {
	var out []string
	for _, p := range status.Parents {
		for _, c := range p.Conditions {
			if (c.Type == string(gatewayv1.RouteConditionAccepted) || c.Type == string(gatewayv1.RouteConditionResolvedRefs)) && c.Status == "False" {
				out = append(out, fmt.Sprintf("%s reports %s=False (%s: %s)", p.ParentRef.Name, c.Type, c.Reason, c.Message))
			}
		}
	}
	return out
}
