package lint

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

func checkRequests(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		var missing []string
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.c.Resources.Requests[r]; !ok {
				missing = append(missing, string(r))
			}
		}
		if len(missing) > 0 {
			out = append(out, problem{c.field + ".resources.requests", fmt.Sprintf("container %s has no %s request", c.c.Name, strings.Join(missing, " or "))})
		}
	}
	return out
}

func checkMemoryLimit(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if _, ok := c.c.Resources.Limits[corev1.ResourceMemory]; !ok {
			out = append(out, problem{c.field + ".resources.limits.memory", fmt.Sprintf("container %s has no memory limit", c.c.Name)})
		}
	}
	return out
}

func checkDisruptionBudget(s *set, o *object) []problem {
	if o.pod == nil || o.pod.replicas < 2 || (o.ref.Kind != "Deployment" && o.ref.Kind != "StatefulSet") {
		return nil
	}
	if !selects(s.budgets, o.namespace, o.pod.labels) {
		return one("", "%d replicas and no PodDisruptionBudget selects them: a node drain may evict them all at once", o.pod.replicas)
	}
	return nil
}
