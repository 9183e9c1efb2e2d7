package kube_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
)

func TestSortForApplyPutsDependenciesFirst(t *testing.T) {
	var objs []*unstructured.Unstructured
	for _, k := range []string{"Deployment", "Widget", "Service", "ConfigMap", "Namespace", "CronJob", "ServiceAccount"} {
		u := &unstructured.Unstructured{}
		u.SetKind(k)
		u.SetName("x")
		objs = append(objs, u)
	}
	kube.SortForApply(objs)
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind())
	}
	if want := "Namespace ServiceAccount ConfigMap Service Deployment CronJob Widget"; strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}
