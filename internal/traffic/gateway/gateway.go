package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"ferry.dev/ferry/internal/traffic"
)

// ErrRouteNotFound means the HTTPRoute does not exist.
var ErrRouteNotFound = errors.New("HTTPRoute not found")

// ErrServiceNotFound means a backend Service does not exist.
var ErrServiceNotFound = errors.New("service not found")

// Config names the HTTPRoute and the two Services it splits between.
type Config struct {
	Gateway gatewayclient.Interface
	Kube    kubernetes.Interface
	// Namespace holds the HTTPRoute and both Services.
	Namespace string
	// Route is the HTTPRoute's name.
	Route string
	// Legacy is the Service for the legacy backend, usually an ExternalName Service
	// whose externalName is the legacy host; Kubernetes is the app's Service.
	Legacy, Kubernetes string
}

// Router shifts traffic by the weights of an HTTPRoute's backendRefs.
type Router struct {
	cfg Config
	b   backends
}

var _ traffic.Router = (*Router)(nil)

// New checks the configuration; it does not call the API server.
func New(cfg Config) (*Router, error) {
	switch {
	case cfg.Gateway == nil || cfg.Kube == nil:
		return nil, errors.New("gateway: no client")
	case cfg.Namespace == "" || cfg.Route == "":
		return nil, errors.New("gateway: the HTTPRoute's namespace and name are required")
	case cfg.Legacy == "" || cfg.Kubernetes == "" || cfg.Legacy == cfg.Kubernetes:
		return nil, errors.New("gateway: two different Services are required, one per side")
	}
	return &Router{cfg: cfg, b: backends{namespace: cfg.Namespace, legacy: cfg.Legacy, kubernetes: cfg.Kubernetes}}, nil
}

func (r *Router) name() string { return r.cfg.Namespace + "/" + r.cfg.Route }

// Weights returns the split of the route's first rule with both backends, after
// checking both Services exist and no Gateway reports the route broken.
func (r *Router) Weights(ctx context.Context) (traffic.Weights, error) {
	route, err := r.cfg.Gateway.GatewayV1().HTTPRoutes(r.cfg.Namespace).Get(ctx, r.cfg.Route, metav1.GetOptions{})
	if err != nil {
		return traffic.Weights{}, r.explain(err)
	}
	rules, err := r.b.managed(&route.Spec)
	if err != nil {
		return traffic.Weights{}, fmt.Errorf("gateway: HTTPRoute %s: %w", r.name(), err)
	}
	for _, svc := range []string{r.cfg.Legacy, r.cfg.Kubernetes} {
		if _, err := r.cfg.Kube.CoreV1().Services(r.cfg.Namespace).Get(ctx, svc, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return traffic.Weights{}, fmt.Errorf("gateway: %w: %s/%s, a backend of HTTPRoute %s", ErrServiceNotFound, r.cfg.Namespace, svc, r.cfg.Route)
		} else if err != nil {
			return traffic.Weights{}, fmt.Errorf("gateway: get Service %s/%s: %w", r.cfg.Namespace, svc, err)
		}
	}
	if p := problems(&route.Status); len(p) > 0 {
		return traffic.Weights{}, fmt.Errorf("gateway: HTTPRoute %s: %s", r.name(), strings.Join(p, "; "))
	}
	w, err := r.b.weights(&route.Spec, rules)
	if err != nil {
		return traffic.Weights{}, fmt.Errorf("gateway: HTTPRoute %s: %w", r.name(), err)
	}
	return w, nil
}

// FieldManager is the field manager ferry's server-side apply writes the weights as.
const FieldManager = "ferry"

// applyBackoff paces how SetWeights reads the route again when it changed between
// reading and applying (another writer, or a Gateway writing the route's status): a
// growing, jittered wait lets a busy writer finish instead of racing it a fixed number
// of times. About 12 s in all before it gives up.
var applyBackoff = wait.Backoff{Duration: 10 * time.Millisecond, Factor: 1.6, Jitter: 1, Steps: 16, Cap: 2 * time.Second}

// SetWeights writes w into every rule with both backends by server-side apply, as field
// manager ferry. HTTPRoute's spec.rules is an atomic list, so owning a weight means
// owning the whole list: ferry applies the rules as it read them (unknown fields
// included) with only the weights changed, forcing ownership away from whoever applied
// them before (Argo CD, a kubectl apply), and sends the resource version it read, so a
// route changed in between is read again rather than overwritten. Nothing else of the
// route is in the apply, so labels, other fields and the status stay with their owners.
func (r *Router) SetWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	var final error // an error that is not worth another read
	err := retry.OnError(applyBackoff, func(err error) bool {
		return final == nil && ctx.Err() == nil && (apierrors.IsInvalid(err) || apierrors.IsConflict(err))
	}, func() error {
		route, raw, err := r.read(ctx)
		if err != nil {
			final = err
			return err
		}
		rules, err := r.b.managed(&route.Spec)
		if err != nil {
			final = fmt.Errorf("gateway: HTTPRoute %s: %w", r.name(), err)
			return final
		}
		changes := r.b.weightChanges(&route.Spec, rules, w)
		if len(changes) == 0 {
			return nil
		}
		body, err := weightApply(raw, changes)
		if err != nil {
			final = fmt.Errorf("gateway: HTTPRoute %s: %w", r.name(), err)
			return final
		}
		force := true
		_, err = r.cfg.Gateway.GatewayV1().HTTPRoutes(r.cfg.Namespace).Patch(ctx, r.cfg.Route, types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
		return err
	})
	switch {
	case final != nil:
		return final
	case err != nil:
		return r.explain(err)
	}
	return nil
}

// read returns the route both typed, to decide, and as its JSON document, to apply the
// rules back without losing fields this version of the Gateway API types does not know.
func (r *Router) read(ctx context.Context) (*gatewayv1.HTTPRoute, map[string]any, error) {
	data, err := r.cfg.Gateway.GatewayV1().RESTClient().Get().
		Namespace(r.cfg.Namespace).Resource("httproutes").Name(r.cfg.Route).Do(ctx).Raw()
	if err != nil {
		return nil, nil, r.explain(err)
	}
	var route gatewayv1.HTTPRoute
	var raw map[string]any
	if err := json.Unmarshal(data, &route); err != nil {
		return nil, nil, fmt.Errorf("gateway: read HTTPRoute %s: %w", r.name(), err)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("gateway: read HTTPRoute %s: %w", r.name(), err)
	}
	return &route, raw, nil
}

// weightApply returns the server-side apply document for the route read as raw with the
// weights changed: identity, the resource version as a precondition, and spec.rules.
func weightApply(raw map[string]any, changes []weightChange) ([]byte, error) {
	meta, _ := raw["metadata"].(map[string]any)
	spec, _ := raw["spec"].(map[string]any)
	rules, _ := spec["rules"].([]any)
	for _, c := range changes {
		rule, _ := rules[c.rule].(map[string]any)
		refs, _ := rule["backendRefs"].([]any)
		ref, ok := refs[c.ref].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("rule %d, backendRef %d is not an object", c.rule, c.ref)
		}
		ref["weight"] = c.weight
	}
	return json.Marshal(map[string]any{
		"apiVersion": raw["apiVersion"],
		"kind":       raw["kind"],
		"metadata": map[string]any{
			"name":            meta["name"],
			"namespace":       meta["namespace"],
			"resourceVersion": meta["resourceVersion"],
		},
		"spec": map[string]any{"rules": rules},
	})
}

func (r *Router) explain(err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("gateway: %w: %s", ErrRouteNotFound, r.name())
	case apierrors.IsForbidden(err):
		return fmt.Errorf("gateway: not allowed to change HTTPRoute %s: %s", r.name(), apierrors.ReasonForError(err))
	}
	return fmt.Errorf("gateway: %w", err)
}
