package devcluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/devcluster"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

func clientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func deployment(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "web",
					Image: "registry.example.com/shop/web:v1.0.0",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
					}},
				}}},
			},
		},
	}
}

func TestDeploymentOf200ReplicasTurnsReadyThenScalesToZero(t *testing.T) {
	cs := clientset(t)
	ns := devclustertest.Namespace(t, cs, "devcluster-test")
	ctx := context.Background()
	start := time.Now()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment("web", 200, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	devclustertest.WatchFor(t, 2*time.Minute, "200 ready replicas", devclustertest.Named(cs.AppsV1().RESTClient(), "deployments", ns, "web"), func(d *appsv1.Deployment) bool {
		return d.Status.ReadyReplicas == 200 && d.Status.AvailableReplicas == 200
	})
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	ready, nodes := 0, map[string]bool{}
	for _, p := range pods.Items {
		nodes[p.Spec.NodeName] = true
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready != 200 {
		t.Fatalf("%d of %d pods report Ready, want 200", ready, len(pods.Items))
	}
	if len(nodes) < devcluster.DefaultNodes {
		t.Errorf("pods landed on %d nodes, want them spread over all %d", len(nodes), devcluster.DefaultNodes)
	}
	t.Logf("200 replicas Ready in %s across %d nodes", time.Since(start).Round(100*time.Millisecond), len(nodes))

	scale, err := cs.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 0
	if _, err := cs.AppsV1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	devclustertest.WaitFor(t, 2*time.Minute, "all pods gone", func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		return err == nil && len(pods.Items) == 0, err
	})
}

func TestCrashloopMarkerEndsInProgressDeadlineExceeded(t *testing.T) {
	cs := clientset(t)
	ns := devclustertest.Namespace(t, cs, "devcluster-test")
	ctx := context.Background()
	d := deployment("broken", 3, map[string]string{devcluster.SimulateAnnotation: "crashloop"})
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](5)
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var reason string
	devclustertest.WatchFor(t, time.Minute, "Progressing=False", devclustertest.Named(cs.AppsV1().RESTClient(), "deployments", ns, "broken"), func(d *appsv1.Deployment) bool {
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse {
				reason = c.Reason
				return true
			}
		}
		return false
	})
	if reason != "ProgressDeadlineExceeded" {
		t.Fatalf("Progressing=False with reason %q, want ProgressDeadlineExceeded", reason)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=broken"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 3 {
		t.Fatalf("%d pods, want 3", len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s phase %s, want Running", p.Name, p.Status.Phase)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready || cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
				t.Errorf("pod %s container %s: ready=%v state=%+v, want waiting in CrashLoopBackOff", p.Name, cs.Name, cs.Ready, cs.State)
			}
		}
	}
}

func TestJobsCompleteAndFailMarkerFailsThem(t *testing.T) {
	cs := clientset(t)
	ns := devclustertest.Namespace(t, cs, "devcluster-test")
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        batchv1.JobConditionType
	}{
		{"migrate-ok", nil, batchv1.JobComplete},
		{"migrate-bad", map[string]string{devcluster.SimulateAnnotation: "fail"}, batchv1.JobFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name},
				Spec: batchv1.JobSpec{
					BackoffLimit: ptr.To[int32](0),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations},
						Spec: corev1.PodSpec{
							RestartPolicy: corev1.RestartPolicyNever,
							Containers:    []corev1.Container{{Name: "migrate", Image: "registry.example.com/shop/web:v1.0.0"}},
						},
					},
				},
			}
			if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			var got []string
			devclustertest.WatchFor(t, time.Minute, fmt.Sprintf("job %s to finish", tc.name), devclustertest.Named(cs.BatchV1().RESTClient(), "jobs", ns, tc.name), func(j *batchv1.Job) bool {
				got = nil
				for _, c := range j.Status.Conditions {
					if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
						got = append(got, string(c.Type))
					}
				}
				return len(got) > 0
			})
			if len(got) != 1 || got[0] != string(tc.want) {
				t.Fatalf("job conditions %v, want %s", got, tc.want)
			}
		})
	}
}
