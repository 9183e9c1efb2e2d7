package alb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"ferry.dev/ferry/internal/traffic"
)

// ErrIngressNotFound means the Ingress does not exist.
var ErrIngressNotFound = errors.New("ingress not found")

// ErrActionNotFound means the Ingress has no such action, or no rule uses it.
var ErrActionNotFound = errors.New("forward action not found")

// Config names the Ingress, its action and the two target groups.
type Config struct {
	Kube kubernetes.Interface
	// Namespace and Ingress name the Ingress; Action is the action's name, the suffix
	// of its alb.ingress.kubernetes.io/actions.<name> annotation.
	Namespace, Ingress, Action string
	// LegacyTargetGroupARN is the legacy fleet's target group; Service is the
	// Kubernetes Service the controller registers as the other target group.
	LegacyTargetGroupARN, Service string
	// ELB, when set, is asked for the health of the legacy target group's targets
	// (LegacyCapacity); without it the router cannot tell the legacy side's health.
	ELB TargetHealthAPI
}

// Router shifts traffic by the weights of a weighted forward action.
type Router struct {
	cfg   Config
	sides sides
}

var _ traffic.Router = (*Router)(nil)

// New checks the configuration; it does not call the API server.
func New(cfg Config) (*Router, error) {
	switch {
	case cfg.Kube == nil:
		return nil, errors.New("alb: no client")
	case cfg.Namespace == "" || cfg.Ingress == "" || cfg.Action == "":
		return nil, errors.New("alb: the Ingress's namespace, name and action are required")
	case cfg.LegacyTargetGroupARN == "" || cfg.Service == "":
		return nil, errors.New("alb: the legacy target group ARN and the Kubernetes Service are required")
	}
	return &Router{cfg: cfg, sides: sides{legacyARN: cfg.LegacyTargetGroupARN, service: cfg.Service}}, nil
}

func (r *Router) name() string { return r.cfg.Namespace + "/" + r.cfg.Ingress }

// read returns the Ingress and its decoded action, checked.
func (r *Router) read(ctx context.Context) (*forwardIngress, error) {
	ing, err := r.cfg.Kube.NetworkingV1().Ingresses(r.cfg.Namespace).Get(ctx, r.cfg.Ingress, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("alb: %w: %s", ErrIngressNotFound, r.name())
	}
	if err != nil {
		return nil, fmt.Errorf("alb: get Ingress %s: %w", r.name(), err)
	}
	key := AnnotationPrefix + r.cfg.Action
	raw, ok := ing.Annotations[key]
	if !ok {
		return nil, fmt.Errorf("alb: Ingress %s: %w: no annotation %s", r.name(), ErrActionNotFound, key)
	}
	if !usesAction(ing, r.cfg.Action) {
		return nil, fmt.Errorf("alb: Ingress %s: %w: no rule's backend is Service %s with port name use-annotation", r.name(), ErrActionNotFound, r.cfg.Action)
	}
	f, err := parseForward(raw)
	if err == nil {
		err = r.sides.check(f)
	}
	if err != nil {
		return nil, fmt.Errorf("alb: Ingress %s, %s: %w", r.name(), key, err)
	}
	return &forwardIngress{ing: ing, action: f}, nil
}

// Weights returns the split the action gives, after checking the Service exists.
func (r *Router) Weights(ctx context.Context) (traffic.Weights, error) {
	fi, err := r.read(ctx)
	if err != nil {
		return traffic.Weights{}, err
	}
	_, err = r.cfg.Kube.CoreV1().Services(r.cfg.Namespace).Get(ctx, r.cfg.Service, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return traffic.Weights{}, fmt.Errorf("alb: Service %s/%s in the forward action does not exist", r.cfg.Namespace, r.cfg.Service)
	}
	if err != nil {
		return traffic.Weights{}, fmt.Errorf("alb: get Service %s/%s: %w", r.cfg.Namespace, r.cfg.Service, err)
	}
	return r.sides.weights(fi.action), nil
}

// FieldManager is the field manager ferry's server-side apply writes the action as.
const FieldManager = "ferry"

// applyBackoff paces how SetWeights reads the Ingress again when it changed between
// reading and applying (a controller writing its status, someone labelling it): a
// growing, jittered wait lets a busy writer finish instead of racing it a fixed number
// of times, as the Gateway API router does. About 12 s in all before it gives up.
var applyBackoff = wait.Backoff{Duration: 10 * time.Millisecond, Factor: 1.6, Jitter: 1, Steps: 16, Cap: 2 * time.Second}

// SetWeights writes the weights nearest to w (see traffic.IntegerSplit, 0–999) into the
// action by server-side apply, as field manager ferry. Annotations are a map, so the
// apply holds just the action's annotation: ferry owns that one key, forcing it away
// from whoever applied it before (Argo CD, a kubectl apply), and everything else of the
// Ingress stays with its owners. The resource version read is sent along, so an action
// changed in between is read again rather than overwritten. The controller then changes
// the load balancer's rule.
func (r *Router) SetWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	key := AnnotationPrefix + r.cfg.Action
	var other error // an error that is not the apply's: returned as it is
	err := retry.OnError(applyBackoff, func(err error) bool {
		return other == nil && ctx.Err() == nil && (apierrors.IsInvalid(err) || apierrors.IsConflict(err))
	}, func() error {
		fi, readErr := r.read(ctx)
		if readErr != nil {
			other = readErr
			return readErr
		}
		doc, changed, jsonErr := r.sides.setWeights(fi.action, w)
		if jsonErr != nil || !changed {
			other = jsonErr
			return jsonErr
		}
		body, _ := json.Marshal(map[string]any{
			"apiVersion": "networking.k8s.io/v1",
			"kind":       "Ingress",
			"metadata": map[string]any{
				"name":            r.cfg.Ingress,
				"namespace":       r.cfg.Namespace,
				"resourceVersion": fi.ing.ResourceVersion,
				"annotations":     map[string]string{key: doc},
			},
		})
		force := true
		_, err := r.cfg.Kube.NetworkingV1().Ingresses(r.cfg.Namespace).Patch(ctx, r.cfg.Ingress, types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
		return err
	})
	if other != nil {
		return other
	}
	if err != nil {
		return fmt.Errorf("alb: update Ingress %s: %w", r.name(), err)
	}
	return nil
}

// forwardIngress is an Ingress with its decoded action.
type forwardIngress struct {
	ing    *networkingv1.Ingress
	action *forward
}
