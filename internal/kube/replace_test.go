package kube_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
)

func job(ns, command string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": "db-migrate", "namespace": ns},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"restartPolicy": "Never",
			"containers":    []any{map[string]any{"name": "web", "image": "shop/web:v1", "command": []any{command}}},
		}}},
	}}
}

func TestAChangedJobTemplateIsReportedImmutableAndTheJobReplaceable(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	live, err := c.Apply(ctx, job(ns, "migrate"), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Apply(ctx, job(ns, "migrate-and-backfill"), true)
	if got := kube.ImmutableFields(err); !slices.Contains(got, "spec.template") {
		t.Fatalf("immutable fields of %v: %v, want spec.template", err, got)
	}
	if got := kube.ImmutableFields(nil); got != nil {
		t.Fatalf("immutable fields of no error: %v", got)
	}
	if err := c.ValidateNew(ctx, job(ns, "migrate-and-backfill")); err != nil {
		t.Fatalf("the new template as a new Job: %v", err)
	}
	bad := job(ns, "x")
	unstructured.SetNestedField(bad.Object, "Always", "spec", "template", "spec", "restartPolicy")
	if err := c.ValidateNew(ctx, bad); err == nil || !strings.Contains(err.Error(), "restartPolicy") {
		t.Fatalf("a Job with restartPolicy Always validated: %v", err)
	}

	// A copy read before a change is not deleted: the caller must look again.
	stale := live.DeepCopy()
	if _, err := c.Clientset.BatchV1().Jobs(ns).Patch(ctx, "db-migrate", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAndWait(ctx, stale); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Fatalf("delete of a stale copy: %v", err)
	}
	current, err := c.Get(ctx, kube.RefOf(live))
	if err != nil || current == nil || current.GetUID() != live.GetUID() {
		t.Fatalf("the job is gone after a refused delete: %v", err)
	}

	// A status that moved on since the read (a running Job's counts do, on their own)
	// does not stop the delete.
	if _, err := c.Clientset.BatchV1().Jobs(ns).Patch(ctx, "db-migrate", "application/merge-patch+json", []byte(`{"status":{"active":7}}`), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAndWait(ctx, current); err != nil {
		t.Fatalf("delete after a change of status only: %v", err)
	}
	if got, err := c.Get(ctx, kube.RefOf(live)); err != nil || got != nil {
		t.Fatalf("after DeleteAndWait the job is still there: %v %v", got, err)
	}
	pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/controller-uid=" + string(live.GetUID())})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("the deleted job's pods outlived it (foreground deletion): %d %v", len(pods.Items), err)
	}
	if _, err := c.Apply(ctx, job(ns, "migrate-and-backfill"), false); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
}
