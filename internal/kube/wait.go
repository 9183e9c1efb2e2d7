package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// Errors of WaitHealthy.
var (
	ErrUnhealthy = errors.New("rollout failed")
	ErrTimeout   = errors.New("rollout timed out")
)

// WaitConfig says what to wait for.
type WaitConfig struct {
	Objects []Ref
	// Since is when the rollout began: older warning events and pods are ignored.
	Since time.Time
	// Timeout bounds the wait.
	Timeout time.Duration
	// Interval between polls of the objects (default 100ms). Events are looked at
	// every second, and a workload's pods only once it has made no progress for a
	// second: a healthy rollout costs the API server no pod listings.
	Interval time.Duration
	// OnUpdate receives the objects whose state or message changed, and new warning
	// events, as they happen.
	OnUpdate func(Update)
}

// ObjectStatus is one object's health.
type ObjectStatus struct {
	Ref    Ref    `json:"ref"`
	Health Health `json:"health"`
}

// Update is what changed since the last one.
type Update struct {
	Changed  []ObjectStatus
	Warnings []string
}

// WaitResult is the final state of every object and the pods that kept them from
// becoming healthy.
type WaitResult struct {
	Objects     []ObjectStatus `json:"objects"`
	PodProblems []string       `json:"podProblems,omitempty"`
}

// WaitHealthy polls the objects until every one is healthy (nil error), one has
// failed (ErrUnhealthy) or the timeout passes (ErrTimeout). Workload pods in a state
// that does not fix itself fail the rollout at once instead of at the deadline.
func (c *Client) WaitHealthy(ctx context.Context, cfg WaitConfig) (*WaitResult, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	w := newWaiter(c, cfg)
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	lastDeep := time.Time{}
	for {
		deep := time.Since(lastDeep) >= time.Second
		if deep {
			lastDeep = time.Now()
		}
		res, err := w.poll(ctx, deep)
		if err == nil || errors.Is(err, ErrUnhealthy) {
			return res, err
		}
		if ctx.Err() != nil {
			// One last look at the pods, to say why.
			lastCtx, lastCancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, _ = w.poll(lastCtx, true)
			lastCancel()
			return res, fmt.Errorf("%w after %s: %s", ErrTimeout, cfg.Timeout, w.pending(res))
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

type waiter struct {
	c          *Client
	cfg        WaitConfig
	last       map[string]Health
	changed    map[string]time.Time
	seenEvents map[string]bool
}

func newWaiter(c *Client, cfg WaitConfig) *waiter {
	return &waiter{c: c, cfg: cfg, last: map[string]Health{}, changed: map[string]time.Time{}, seenEvents: map[string]bool{}}
}

// stalledFor is how long a workload must make no progress before its pods are
// inspected.
const stalledFor = time.Second

var errNotYet = errors.New("not yet")

// poll looks at every object once; deep also looks at pods and events.
func (w *waiter) poll(ctx context.Context, deep bool) (*WaitResult, error) {
	res := &WaitResult{}
	var upd Update
	failed := false
	allHealthy := true
	for _, ref := range w.cfg.Objects {
		h, problems, err := w.check(ctx, ref, deep)
		if err != nil {
			h = Health{StateProgressing, oneLine(err.Error())}
		}
		res.Objects = append(res.Objects, ObjectStatus{Ref: ref, Health: h})
		res.PodProblems = append(res.PodProblems, problems...)
		if w.last[ref.Key()] != h {
			w.last[ref.Key()] = h
			w.changed[ref.Key()] = time.Now()
			upd.Changed = append(upd.Changed, ObjectStatus{Ref: ref, Health: h})
		}
		failed = failed || h.State == StateFailed
		allHealthy = allHealthy && h.State == StateHealthy
	}
	if deep {
		upd.Warnings = w.newWarnings(ctx)
	}
	if w.cfg.OnUpdate != nil && (len(upd.Changed) > 0 || len(upd.Warnings) > 0) {
		w.cfg.OnUpdate(upd)
	}
	switch {
	case failed:
		return res, fmt.Errorf("%w: %s", ErrUnhealthy, w.failures(res))
	case allHealthy:
		return res, nil
	}
	return res, errNotYet
}

// check returns an object's health and, for workloads on a deep poll, the problems
// of its pods; a fatal pod problem fails the object.
func (w *waiter) check(ctx context.Context, ref Ref, deep bool) (Health, []string, error) {
	if h, ok := w.last[ref.Key()]; ok && h.State == StateHealthy {
		return h, nil, nil // healthy stays healthy for the rest of this wait
	}
	obj, err := w.c.Get(ctx, ref)
	if err != nil {
		return Health{}, nil, err
	}
	if obj == nil {
		return Health{StateProgressing, "not found"}, nil, nil
	}
	h, err := Evaluate(obj)
	if err != nil {
		return Health{}, nil, err
	}
	if ref.Kind == "Service" {
		return w.serviceHealth(ctx, obj)
	}
	if !deep || h.State != StateProgressing || w.progressing(ref.Key(), h) {
		return h, nil, nil
	}
	problems, fatal, err := w.podProblems(ctx, obj)
	if err != nil {
		return h, nil, err
	}
	if fatal {
		h = Health{StateFailed, h.Message + ": " + problems[0]}
	}
	return h, problems, nil
}

// progressing reports whether the object's health changed within stalledFor.
func (w *waiter) progressing(key string, h Health) bool {
	return w.last[key] != h || time.Since(w.changed[key]) < stalledFor
}

// podProblems lists the problems of the workload's pods created since the rollout
// began (at most five, each prefixed with the pod's name).
func (w *waiter) podProblems(ctx context.Context, obj *unstructured.Unstructured) ([]string, bool, error) {
	selector, ok, err := unstructured.NestedMap(obj.Object, "spec", "selector")
	if err != nil || !ok {
		return nil, false, err
	}
	var ls metav1.LabelSelector
	if err := fromUnstructured(selector, &ls); err != nil {
		return nil, false, err
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || sel.Empty() {
		return nil, false, err
	}
	// ResourceVersion "0" is served from the API server's watch cache, not etcd.
	pods, err := w.c.Clientset.CoreV1().Pods(obj.GetNamespace()).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), ResourceVersion: "0"})
	if err != nil {
		return nil, false, err
	}
	var problems []string
	fatal := false
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.CreationTimestamp.Time.Before(w.cfg.Since.Add(-time.Second)) {
			continue
		}
		if msg, isFatal := PodProblem(p); msg != "" {
			fatal = fatal || isFatal
			if len(problems) < 5 {
				problems = append(problems, "pod "+p.Name+": "+msg)
			}
		}
	}
	return problems, fatal, nil
}

// serviceHealth: a Service that selects pods is healthy once one of them is a ready
// endpoint, or when it selects no pod at all.
func (w *waiter) serviceHealth(ctx context.Context, svc *unstructured.Unstructured) (Health, []string, error) {
	selector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	svcType, _, _ := unstructured.NestedString(svc.Object, "spec", "type")
	if len(selector) == 0 || svcType == string(corev1.ServiceTypeExternalName) {
		return Health{StateHealthy, "exists"}, nil, nil
	}
	slices, err := w.c.Clientset.DiscoveryV1().EndpointSlices(svc.GetNamespace()).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc.GetName(),
	})
	if err != nil {
		return Health{}, nil, err
	}
	ready := 0
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				ready++
			}
		}
	}
	if ready > 0 {
		return Health{StateHealthy, fmt.Sprintf("%d ready endpoints", ready)}, nil, nil
	}
	pods, err := w.c.Clientset.CoreV1().Pods(svc.GetNamespace()).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(selector).String(), Limit: 1,
	})
	if err != nil {
		return Health{}, nil, err
	}
	if len(pods.Items) == 0 {
		return Health{StateHealthy, "selects no pods"}, nil, nil
	}
	return Health{StateProgressing, "no ready endpoints yet"}, nil, nil
}

// newWarnings returns warning events about the rollout's namespaces not seen before.
func (w *waiter) newWarnings(ctx context.Context) []string {
	namespaces := map[string]bool{}
	for _, ref := range w.cfg.Objects {
		if ref.Namespace != "" {
			namespaces[ref.Namespace] = true
		}
	}
	var out []string
	for ns := range namespaces {
		events, err := w.c.Clientset.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
		if err != nil {
			continue
		}
		for _, e := range events.Items {
			when := e.LastTimestamp.Time
			if when.IsZero() {
				when = e.EventTime.Time
			}
			key := fmt.Sprintf("%s/%d", e.UID, e.Count)
			if when.Before(w.cfg.Since.Add(-time.Second)) || w.seenEvents[key] {
				continue
			}
			w.seenEvents[key] = true
			out = append(out, fmt.Sprintf("%s/%s: %s: %s", strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, e.Reason, oneLine(e.Message)))
		}
	}
	sort.Strings(out)
	return out
}

func (w *waiter) failures(res *WaitResult) string {
	var parts []string
	for _, o := range res.Objects {
		if o.Health.State == StateFailed {
			parts = append(parts, o.Ref.String()+" "+o.Health.Message)
		}
	}
	return strings.Join(parts, "; ")
}

func (w *waiter) pending(res *WaitResult) string {
	var parts []string
	for _, o := range res.Objects {
		if o.Health.State != StateHealthy {
			parts = append(parts, o.Ref.String()+" "+o.Health.Message)
		}
	}
	if len(res.PodProblems) > 0 {
		parts = append(parts, res.PodProblems[0])
	}
	return strings.Join(parts, "; ")
}

// Check looks at each object once and returns its health, without waiting.
func (c *Client) Check(ctx context.Context, refs []Ref) []ObjectStatus {
	w := newWaiter(c, WaitConfig{Objects: refs})
	res, _ := w.poll(ctx, false)
	return res.Objects
}
