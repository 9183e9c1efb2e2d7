package lint

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// AnnotationDrain says how many seconds the app needs after SIGTERM to finish its
// requests; DefaultDrainSeconds applies without it.
const (
	AnnotationDrain     = "ferry.dev/drain-seconds"
	DefaultDrainSeconds = 5
	// defaultGracePeriod is Kubernetes' terminationGracePeriodSeconds.
	defaultGracePeriod = 30
)

func checkPreStop(s *set, o *object) []problem {
	var out []problem
	for _, c := range s.serving(o) {
		if c.c.Lifecycle == nil || c.c.Lifecycle.PreStop == nil {
			out = append(out, problem{c.field + ".lifecycle.preStop", fmt.Sprintf("container %s takes traffic but has no preStop delay: requests arriving after SIGTERM fail", c.c.Name)})
		}
	}
	return out
}

var sleepCommand = regexp.MustCompile(`(?:^|[\s;&(])sleep\s+([0-9]+)`)

// preStopSeconds is how long a container's preStop hook delays its shutdown.
func preStopSeconds(c *corev1.Container) int64 {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return 0
	}
	h := c.Lifecycle.PreStop
	switch {
	case h.Sleep != nil:
		return h.Sleep.Seconds
	case h.Exec != nil:
		if m := sleepCommand.FindStringSubmatch(strings.Join(h.Exec.Command, " ")); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
	}
	return 0
}

func checkGracePeriod(_ *set, o *object) []problem {
	if o.pod == nil || !o.pod.serves {
		return nil
	}
	drain := int64(DefaultDrainSeconds)
	if v, ok := o.u.GetAnnotations()[AnnotationDrain]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return one("metadata.annotations", "%s is %q, not a number of seconds", AnnotationDrain, v)
		}
		drain = n
	}
	grace := ptr.Deref(o.pod.spec.TerminationGracePeriodSeconds, defaultGracePeriod)
	var out []problem
	for _, c := range o.pod.containers() {
		if c.init {
			continue
		}
		if need := preStopSeconds(c.c) + drain; grace < need {
			out = append(out, problem{o.pod.path + ".terminationGracePeriodSeconds", fmt.Sprintf(
				"terminationGracePeriodSeconds is %d but container %s needs %d (preStop %d + drain %d): it is killed mid-request", grace, c.c.Name, need, need-drain, drain)})
		}
	}
	return out
}

func checkReadiness(s *set, o *object) []problem {
	var out []problem
	for _, c := range s.serving(o) {
		if c.c.ReadinessProbe == nil {
			out = append(out, problem{c.field + ".readinessProbe", fmt.Sprintf("container %s takes traffic but has no readiness probe: it gets requests while still booting", c.c.Name)})
		}
	}
	return out
}

func checkLivenessSameAsReadiness(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		l, r := c.c.LivenessProbe, c.c.ReadinessProbe
		if l != nil && r != nil && equality.Semantic.DeepEqual(l.ProbeHandler, r.ProbeHandler) {
			out = append(out, problem{c.field + ".livenessProbe", fmt.Sprintf("container %s's liveness probe checks the same as its readiness probe: under load both fail and the pods restart", c.c.Name)})
		}
	}
	return out
}

func checkRollout(_ *set, o *object) []problem {
	d := o.deployment
	if d == nil {
		return nil
	}
	replicas := ptr.Deref(d.Spec.Replicas, 1)
	if replicas == 0 {
		return nil
	}
	if d.Spec.Strategy.Type == "Recreate" {
		return one("spec.strategy.type", "strategy Recreate stops all %d pods before starting new ones: every deploy is an outage", replicas)
	}
	unavailable, surge := rollingBounds(d.Spec.Strategy.RollingUpdate, replicas)
	if unavailable >= replicas {
		return one("spec.strategy.rollingUpdate.maxUnavailable", "the rolling update may take %d of %d pods down at once (maxUnavailable resolves to %d, maxSurge to %d): every deploy is an outage", unavailable, replicas, unavailable, surge)
	}
	return nil
}

// rollingBounds resolves maxUnavailable (rounded down) and maxSurge (rounded up) as the
// Deployment controller does, including its rule that both zero means one unavailable.
func rollingBounds(ru *appsv1.RollingUpdateDeployment, replicas int32) (unavailable, surge int32) {
	maxUnavailable, maxSurge := intstr.FromString("25%"), intstr.FromString("25%")
	if ru != nil && ru.MaxUnavailable != nil {
		maxUnavailable = *ru.MaxUnavailable
	}
	if ru != nil && ru.MaxSurge != nil {
		maxSurge = *ru.MaxSurge
	}
	un, _ := intstr.GetScaledValueFromIntOrPercent(&maxUnavailable, int(replicas), false)
	su, _ := intstr.GetScaledValueFromIntOrPercent(&maxSurge, int(replicas), true)
	if un == 0 && su == 0 {
		un = 1
	}
	return int32(un), int32(su)
}
