package health

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// State is how far an object is from healthy.
type State string

// States of an object during a rollout.
const (
	Progressing State = "Progressing"
	Healthy     State = "Healthy"
	Failed      State = "Failed"
)

// Status is one object's state with a human summary, e.g. "updated 40/100 ready 38/100".
type Status struct {
	State   State  `json:"state"`
	Message string `json:"message"`
}

// Evaluate judges a live object from its own status: Deployments, StatefulSets and
// DaemonSets must be fully rolled out, Jobs complete; other kinds are healthy once
// they exist (Services with selectors are judged by the waiter, which sees endpoints).
func Evaluate(obj *unstructured.Unstructured) (Status, error) {
	switch obj.GetKind() {
	case "Deployment":
		var d appsv1.Deployment
		if err := convert(obj, &d); err != nil {
			return Status{}, err
		}
		return deploymentHealth(&d), nil
	case "StatefulSet":
		var s appsv1.StatefulSet
		if err := convert(obj, &s); err != nil {
			return Status{}, err
		}
		return statefulSetHealth(&s), nil
	case "DaemonSet":
		var d appsv1.DaemonSet
		if err := convert(obj, &d); err != nil {
			return Status{}, err
		}
		return daemonSetHealth(&d), nil
	case "Job":
		var j batchv1.Job
		if err := convert(obj, &j); err != nil {
			return Status{}, err
		}
		return jobHealth(&j), nil
	}
	return Status{Healthy, "exists"}, nil
}

func deploymentHealth(d *appsv1.Deployment) Status {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	msg := fmt.Sprintf("updated %d/%d  ready %d/%d  available %d/%d", s.UpdatedReplicas, want, s.ReadyReplicas, want, s.AvailableReplicas, want)
	if s.ObservedGeneration < d.Generation {
		return Status{Progressing, "waiting for the controller to see the new spec"}
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return Status{Failed, msg + ": " + c.Message}
		}
	}
	if s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want && s.ReadyReplicas >= want {
		return Status{Healthy, msg}
	}
	if s.Replicas > s.UpdatedReplicas {
		msg += fmt.Sprintf("  (%d old)", s.Replicas-s.UpdatedReplicas)
	}
	return Status{Progressing, msg}
}

func statefulSetHealth(s *appsv1.StatefulSet) Status {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	msg := fmt.Sprintf("updated %d/%d  ready %d/%d  available %d/%d", st.UpdatedReplicas, want, st.ReadyReplicas, want, st.AvailableReplicas, want)
	switch {
	case st.ObservedGeneration < s.Generation:
		return Status{Progressing, "waiting for the controller to see the new spec"}
	case s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType:
		if st.ReadyReplicas >= want {
			return Status{Healthy, msg}
		}
	case st.UpdatedReplicas >= want && st.ReadyReplicas >= want && st.AvailableReplicas >= want && st.CurrentRevision == st.UpdateRevision:
		return Status{Healthy, msg}
	}
	return Status{Progressing, msg}
}

func daemonSetHealth(d *appsv1.DaemonSet) Status {
	s := d.Status
	msg := fmt.Sprintf("updated %d/%d  ready %d/%d  available %d/%d", s.UpdatedNumberScheduled, s.DesiredNumberScheduled, s.NumberReady, s.DesiredNumberScheduled, s.NumberAvailable, s.DesiredNumberScheduled)
	if s.ObservedGeneration < d.Generation {
		return Status{Progressing, "waiting for the controller to see the new spec"}
	}
	if s.UpdatedNumberScheduled >= s.DesiredNumberScheduled && s.NumberAvailable >= s.DesiredNumberScheduled {
		return Status{Healthy, msg}
	}
	return Status{Progressing, msg}
}

func jobHealth(j *batchv1.Job) Status {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return Status{Healthy, fmt.Sprintf("complete (%d succeeded)", j.Status.Succeeded)}
		case batchv1.JobFailed:
			return Status{Failed, "failed: " + strings.TrimSpace(c.Reason+" "+c.Message)}
		}
	}
	return Status{Progressing, fmt.Sprintf("running: %d active, %d succeeded, %d failed", j.Status.Active, j.Status.Succeeded, j.Status.Failed)}
}

// fatalWaitingReasons are container states that do not fix themselves.
var fatalWaitingReasons = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true,
	"InvalidImageName": true, "CreateContainerConfigError": true, "CreateContainerError": true,
	"RunContainerError": true,
}

// PodProblem returns why a pod is not Ready and whether that is fatal: a state that
// does not fix itself (crash loop, image pull failure, bad config). An unschedulable
// pod is reported but not fatal, as capacity may still come.
func PodProblem(p *corev1.Pod) (string, bool) {
	if p.DeletionTimestamp != nil {
		return "", false
	}
	if p.Status.Phase == corev1.PodFailed && p.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		return "pod failed: " + strings.TrimSpace(p.Status.Reason+" "+p.Status.Message), true
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && fatalWaitingReasons[w.Reason] {
			msg := fmt.Sprintf("container %s: %s", cs.Name, w.Reason)
			if w.Message != "" {
				msg += ": " + oneLine(w.Message)
			}
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf(" (last exit code %d, %d restarts)", t.ExitCode, cs.RestartCount)
			}
			return msg, true
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return "unschedulable: " + oneLine(c.Message), false
		}
	}
	return "", false
}

// convert reads obj into its typed form.
func convert(obj *unstructured.Unstructured, typed any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, typed); err != nil {
		return fmt.Errorf("read %s %s: %w", strings.ToLower(obj.GetKind()), obj.GetName(), err)
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
