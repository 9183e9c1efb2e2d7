package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/health"
	"ferry.dev/ferry/internal/kube"
)

func deployment(ns string, replicas int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": "shop/web:v1"}}},
			},
		},
	}}
}

// With polling switched off (an interval of an hour), only the watches can tell the
// wait that the Deployment rolled out and the Job completed.
func TestWaitHealthySeesChangesByWatching(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	start := time.Now()
	var refs []kube.Ref
	for _, obj := range []*unstructured.Unstructured{deployment(ns, 5), job(ns, "migrate")} {
		if _, err := c.Apply(ctx, obj, false); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, kube.RefOf(obj))
	}
	var updates []kube.ObjectStatus
	res, err := c.WaitHealthy(ctx, kube.WaitConfig{
		Objects: refs, Since: start, Timeout: 30 * time.Second, Interval: time.Hour,
		OnUpdate: func(u kube.Update) { updates = append(updates, u.Changed...) },
	})
	if err != nil {
		t.Fatalf("wait: %v (updates %v)", err, updates)
	}
	for _, o := range res.Objects {
		if o.Health.State != health.Healthy {
			t.Errorf("%s %s", o.Ref, o.Health.State)
		}
	}
	if len(updates) < 3 {
		t.Errorf("updates %v: want the objects' progress as it happened, then healthy", updates)
	}
}

func TestWaitHealthyReportsWarningEventsAsTheyHappen(t *testing.T) {
	c, ns := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	d := deployment(ns, 1)
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["resources"] = map[string]any{"requests": map[string]any{"cpu": "1000"}}
	if err := unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	_, err := c.WaitHealthy(ctx, kube.WaitConfig{
		Objects: []kube.Ref{kube.RefOf(d)}, Since: start, Timeout: 60 * time.Second,
		OnUpdate: func(u kube.Update) {
			warnings = append(warnings, u.Warnings...)
			for _, w := range u.Warnings {
				if strings.Contains(w, "FailedScheduling") {
					cancel()
				}
			}
		},
	})
	if err == nil || ctx.Err() == nil {
		t.Fatalf("wait for an unschedulable pod: %v, warnings %v; want FailedScheduling", err, warnings)
	}
}
