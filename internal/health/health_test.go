package health_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/health"
)

func toUnstructured(t *testing.T, kind string, obj any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetKind(kind)
	return u
}

func TestEvaluateDeployment(t *testing.T) {
	deploy := func(gen, observed int64, st appsv1.DeploymentStatus) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Generation: gen},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](10)},
			Status:     func() appsv1.DeploymentStatus { st.ObservedGeneration = observed; return st }(),
		}
	}
	full := appsv1.DeploymentStatus{Replicas: 10, UpdatedReplicas: 10, ReadyReplicas: 10, AvailableReplicas: 10}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		want health.State
		msg  string
	}{
		{"rolled out", deploy(2, 2, full), health.Healthy, "updated 10/10"},
		{"controller has not seen the spec", deploy(3, 2, full), health.Progressing, "waiting for the controller"},
		{"old pods remain", deploy(2, 2, appsv1.DeploymentStatus{Replicas: 13, UpdatedReplicas: 10, ReadyReplicas: 13, AvailableReplicas: 13}), health.Progressing, "(3 old)"},
		{"not yet available", deploy(2, 2, appsv1.DeploymentStatus{Replicas: 10, UpdatedReplicas: 10, ReadyReplicas: 10, AvailableReplicas: 7}), health.Progressing, "available 7/10"},
		{"deadline exceeded", deploy(2, 2, appsv1.DeploymentStatus{Replicas: 10, UpdatedReplicas: 3, Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet web-1 has timed out progressing.",
		}}}), health.Failed, "timed out progressing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := health.Evaluate(toUnstructured(t, "Deployment", tc.d))
			if err != nil {
				t.Fatal(err)
			}
			if h.State != tc.want || !strings.Contains(h.Message, tc.msg) {
				t.Fatalf("health %+v, want %s containing %q", h, tc.want, tc.msg)
			}
		})
	}
}

func TestEvaluateJobStatefulSetDaemonSetAndOthers(t *testing.T) {
	complete := &batchv1.Job{Status: batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	failed := &batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}}}}
	running := &batchv1.Job{Status: batchv1.JobStatus{Active: 1}}
	sts := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3)},
		Status: appsv1.StatefulSetStatus{UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, CurrentRevision: "a", UpdateRevision: "b"}}
	stsDone := sts.DeepCopy()
	stsDone.Status.CurrentRevision = "b"
	ds := &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 5, UpdatedNumberScheduled: 5, NumberAvailable: 4}}
	dsDone := ds.DeepCopy()
	dsDone.Status.NumberAvailable = 5
	for _, tc := range []struct {
		name string
		obj  *unstructured.Unstructured
		want health.State
	}{
		{"job complete", toUnstructured(t, "Job", complete), health.Healthy},
		{"job failed", toUnstructured(t, "Job", failed), health.Failed},
		{"job running", toUnstructured(t, "Job", running), health.Progressing},
		{"statefulset mid-update", toUnstructured(t, "StatefulSet", sts), health.Progressing},
		{"statefulset done", toUnstructured(t, "StatefulSet", stsDone), health.Healthy},
		{"daemonset unavailable", toUnstructured(t, "DaemonSet", ds), health.Progressing},
		{"daemonset done", toUnstructured(t, "DaemonSet", dsDone), health.Healthy},
		{"configmap", toUnstructured(t, "ConfigMap", &corev1.ConfigMap{}), health.Healthy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := health.Evaluate(tc.obj)
			if err != nil || h.State != tc.want {
				t.Fatalf("health %+v (%v), want %s", h, err, tc.want)
			}
		})
	}
}

func TestPodProblem(t *testing.T) {
	waiting := func(reason string, restarts int32) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "web", RestartCount: restarts, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "m"}},
		}}}}
	}
	unschedulable := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/10 nodes are available",
	}}}}
	for _, tc := range []struct {
		name      string
		pod       *corev1.Pod
		wantFatal bool
		want      string
	}{
		{"crash loop", waiting("CrashLoopBackOff", 5), true, "container web: CrashLoopBackOff: m"},
		{"image pull", waiting("ImagePullBackOff", 0), true, "ImagePullBackOff"},
		{"still creating", waiting("ContainerCreating", 0), false, ""},
		{"unschedulable is reported, not fatal", unschedulable, false, "unschedulable: 0/10 nodes"},
		{"healthy", &corev1.Pod{}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, fatal := health.PodProblem(tc.pod)
			if fatal != tc.wantFatal || !strings.Contains(msg, tc.want) || (tc.want == "" && msg != "") {
				t.Fatalf("PodProblem = %q, %v; want %q, %v", msg, fatal, tc.want, tc.wantFatal)
			}
		})
	}
}
