package kube

import (
	"context"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"ferry.dev/ferry/internal/health"
)

// podProblems lists the problems of the workload's pods created since the rollout
// began (at most five, each prefixed with the pod's name).
func (w *waiter) podProblems(ctx context.Context, obj *unstructured.Unstructured) ([]string, bool, error) {
	selector, ok, err := unstructured.NestedMap(obj.Object, "spec", "selector")
	if err != nil || !ok {
		return nil, false, err
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(selector, &ls); err != nil {
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
		if msg, isFatal := health.PodProblem(p); msg != "" {
			fatal = fatal || isFatal
			if len(problems) < 5 {
				problems = append(problems, "pod "+p.Name+": "+msg)
			}
		}
	}
	return problems, fatal, nil
}
