package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"ferry.dev/ferry/internal/health"
)

// serviceHealth: a Service that selects pods is healthy once one of them is a ready
// endpoint, or when it selects no pod at all.
func (w *waiter) serviceHealth(ctx context.Context, svc *unstructured.Unstructured) (health.Status, []string, error) {
	selector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	svcType, _, _ := unstructured.NestedString(svc.Object, "spec", "type")
	if len(selector) == 0 || svcType == string(corev1.ServiceTypeExternalName) {
		return health.Status{State: health.Healthy, Message: "exists"}, nil, nil
	}
	slices, err := w.c.Clientset.DiscoveryV1().EndpointSlices(svc.GetNamespace()).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc.GetName(),
	})
	if err != nil {
		return health.Status{}, nil, err
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
		return health.Status{State: health.Healthy, Message: fmt.Sprintf("%d ready endpoints", ready)}, nil, nil
	}
	pods, err := w.c.Clientset.CoreV1().Pods(svc.GetNamespace()).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(selector).String(), Limit: 1,
	})
	if err != nil {
		return health.Status{}, nil, err
	}
	if len(pods.Items) == 0 {
		return health.Status{State: health.Healthy, Message: "selects no pods"}, nil, nil
	}
	return health.Status{State: health.Progressing, Message: "no ready endpoints yet"}, nil, nil
}
