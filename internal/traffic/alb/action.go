package alb

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"ferry.dev/ferry/internal/traffic"
)

// AnnotationPrefix is the controller's annotation for a named action; a rule uses the
// action by naming it as its backend Service with port name "use-annotation".
const AnnotationPrefix = "alb.ingress.kubernetes.io/actions."

// MaxWeight is the largest weight of a target group in a forward action.
const MaxWeight = 999

// ErrTargetGroupNotFound means the action does not forward to one of the two sides.
var ErrTargetGroupNotFound = errors.New("target group not found in the forward action")

// sides names the two target groups of the action.
type sides struct {
	legacyARN, service string
}

// forward is a decoded forward action: the whole JSON document, kept as it is but for
// the weights, and its target groups.
type forward struct {
	doc    map[string]any
	groups []map[string]any
}

// parseForward decodes the annotation's JSON, e.g.
// {"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"arn:…","weight":90},{"serviceName":"web","servicePort":"80","weight":10}]}}.
func parseForward(s string) (*forward, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return nil, fmt.Errorf("the action is not valid JSON: %w", err)
	}
	if t, _ := doc["type"].(string); t != "forward" {
		return nil, fmt.Errorf("the action's type is %q, not forward", t)
	}
	cfg, _ := doc["forwardConfig"].(map[string]any)
	list, _ := cfg["targetGroups"].([]any)
	f := &forward{doc: doc}
	for _, g := range list {
		m, ok := g.(map[string]any)
		if !ok {
			return nil, errors.New("forwardConfig.targetGroups holds something other than target groups")
		}
		f.groups = append(f.groups, m)
	}
	if len(f.groups) == 0 {
		return nil, errors.New("the action has no forwardConfig.targetGroups")
	}
	return f, nil
}

// side returns which side a target group is, if either.
func (s sides) side(g map[string]any) (traffic.Side, bool) {
	if arn, _ := g["targetGroupARN"].(string); arn != "" && arn == s.legacyARN {
		return traffic.Legacy, true
	}
	if svc, _ := g["serviceName"].(string); svc != "" && svc == s.service {
		return traffic.Kubernetes, true
	}
	return 0, false
}

func weightOf(g map[string]any) int {
	w, _ := g["weight"].(float64)
	return int(w)
}

// check finds both sides' target groups and refuses others with traffic.
func (s sides) check(f *forward) error {
	var seen [2]bool
	var others []string
	for _, g := range f.groups {
		if side, ok := s.side(g); ok {
			seen[side] = true
		} else if weightOf(g) > 0 {
			name, _ := g["serviceName"].(string)
			if name == "" {
				name, _ = g["targetGroupARN"].(string)
			}
			others = append(others, name)
		}
	}
	switch {
	case !seen[traffic.Legacy]:
		return fmt.Errorf("%w: no target group with targetGroupARN %s", ErrTargetGroupNotFound, s.legacyARN)
	case !seen[traffic.Kubernetes]:
		return fmt.Errorf("%w: no target group with serviceName %s", ErrTargetGroupNotFound, s.service)
	case len(others) > 0:
		return fmt.Errorf("the action also forwards to %s; ferry splits between exactly two target groups", strings.Join(others, ", "))
	}
	return nil
}

// weights returns the split the action gives.
func (s sides) weights(f *forward) traffic.Weights {
	var w [2]int
	for _, g := range f.groups {
		if side, ok := s.side(g); ok {
			w[side] += weightOf(g)
		}
	}
	return traffic.KubernetesShare(traffic.Share(w[traffic.Legacy], w[traffic.Kubernetes]))
}

// setWeights writes the integer weights nearest to w and returns the JSON, and whether
// it changed.
func (s sides) setWeights(f *forward, w traffic.Weights) (string, bool, error) {
	l, k, _ := traffic.IntegerSplit(w.Kubernetes, MaxWeight)
	changed := false
	for _, g := range f.groups {
		side, ok := s.side(g)
		if !ok {
			continue
		}
		want := l
		if side == traffic.Kubernetes {
			want = k
		}
		if _, has := g["weight"]; !has || weightOf(g) != want {
			g["weight"], changed = want, true
		}
	}
	out, err := json.Marshal(f.doc)
	return string(out), changed, err
}

// usesAction reports whether a rule of the Ingress sends traffic to the action.
func usesAction(ing *networkingv1.Ingress, action string) bool {
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if svc := p.Backend.Service; svc != nil && svc.Name == action && svc.Port.Name == "use-annotation" {
				return true
			}
		}
	}
	if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
		return b.Service.Name == action && b.Service.Port.Name == "use-annotation"
	}
	return false
}
