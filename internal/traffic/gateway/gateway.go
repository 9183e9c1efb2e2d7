package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
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

// maxPatchAttempts bounds how often SetWeights reads the route again when it changed
// between reading and patching.
const maxPatchAttempts = 5

// SetWeights writes w into every rule with both backends, in one JSON patch of just
// those weights, reading the route again if it changed in between.
func (r *Router) SetWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	routes := r.cfg.Gateway.GatewayV1().HTTPRoutes(r.cfg.Namespace)
	var err error
	for range maxPatchAttempts {
		route, getErr := routes.Get(ctx, r.cfg.Route, metav1.GetOptions{})
		if getErr != nil {
			return r.explain(getErr)
		}
		rules, mErr := r.b.managed(&route.Spec)
		if mErr != nil {
			return fmt.Errorf("gateway: HTTPRoute %s: %w", r.name(), mErr)
		}
		ops := r.b.weightPatch(&route.Spec, rules, w)
		if len(ops) == 0 {
			return nil
		}
		patch, _ := json.Marshal(ops)
		_, err = routes.Patch(ctx, r.cfg.Route, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: "ferry"})
		if err == nil || !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) {
			break
		}
	}
	if err != nil {
		return r.explain(err)
	}
	return nil
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
