package legacy

import (
	"errors"
	"fmt"
	"path"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// WorkloadConfig describes the web app the legacy servers ran, for Workload.
type WorkloadConfig struct {
	// Name names the Deployment, the Service and the PodDisruptionBudget.
	Name, Namespace string
	// Image runs the app; Container names its container (default DefaultContainer).
	Image, Container string
	// Port is the port the app listens on; HealthPath answers 200 when it can serve.
	Port       int
	HealthPath string
	// ConfigMap and Secret, when set, give the container their keys as variables.
	ConfigMap, Secret string
	// Framework and AppDir (where the code lives in the image, Capistrano's
	// deploy_to/current) decide which directories get scratch space besides /tmp.
	Framework Framework
	AppDir    string
}

// Defaults of the workload Workload writes: two replicas so a drain keeps one, and a
// grace period longer than the preStop sleep that lets endpoints catch up.
const (
	defaultReplicas    = 2
	preStopSeconds     = 10
	gracePeriodSeconds = 40
)

// frameworkScratch are the directories, under the app's root, a framework writes at run
// time; with a read-only root file system they get scratch space.
var frameworkScratch = map[Framework][]string{
	Laravel: {"storage/framework", "storage/logs", "bootstrap/cache"},
	Symfony: {"var/cache", "var/log"},
	Rails:   {"tmp", "log"},
}

// Workload returns the Deployment, Service and PodDisruptionBudget of a web app, held to
// the restricted Pod Security Standard: probes on the health path, a preStop sleep and a
// grace period, requests and limits, a read-only root file system with emptyDir scratch
// space for /tmp and the framework's run-time directories.
func Workload(cfg WorkloadConfig) ([]*unstructured.Unstructured, error) {
	switch {
	case cfg.Name == "" || cfg.Image == "":
		return nil, errors.New("a name and an image are required")
	case cfg.Port < 1 || cfg.Port > 65535:
		return nil, fmt.Errorf("port %d is not between 1 and 65535", cfg.Port)
	case !strings.HasPrefix(cfg.HealthPath, "/"):
		return nil, fmt.Errorf("health path %q must start with /", cfg.HealthPath)
	}
	if cfg.Container == "" {
		cfg.Container = DefaultContainer
	}
	labels := map[string]string{"app.kubernetes.io/name": cfg.Name, "app.kubernetes.io/component": "web"}
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: cfg.Name, Namespace: cfg.Namespace, Labels: labels}
	}
	// Readiness asks the health path; liveness only that the port answers, so a
	// dependency down or a slow moment takes pods out of the Service without
	// restarting them all.
	readiness := &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: cfg.HealthPath, Port: intstr.FromString("http")}},
		PeriodSeconds: 5, FailureThreshold: 3, TimeoutSeconds: 2,
	}
	liveness := &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
		PeriodSeconds: 10, FailureThreshold: 6, TimeoutSeconds: 2,
	}
	var envFrom []corev1.EnvFromSource
	if cfg.ConfigMap != "" {
		envFrom = append(envFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cfg.ConfigMap}}})
	}
	if cfg.Secret != "" {
		envFrom = append(envFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cfg.Secret}}})
	}
	mounts := []corev1.VolumeMount{{Name: scratchVolume, MountPath: "/tmp", SubPath: "tmp"}}
	if cfg.AppDir != "" {
		for _, dir := range frameworkScratch[cfg.Framework] {
			mounts = append(mounts, corev1.VolumeMount{Name: scratchVolume, MountPath: path.Join(cfg.AppDir, dir), SubPath: strings.ReplaceAll(dir, "/", "-")})
		}
	}
	deploy := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](defaultReplicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("25%"))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](gracePeriodSeconds),
					SecurityContext:               jobPodSecurity(),
					Volumes:                       []corev1.Volume{scratch()},
					Containers: []corev1.Container{{
						Name:           cfg.Container,
						Image:          cfg.Image,
						Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: int32(cfg.Port)}},
						EnvFrom:        envFrom,
						ReadinessProbe: readiness,
						LivenessProbe:  liveness,
						Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
							Sleep: &corev1.SleepAction{Seconds: preStopSeconds}}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
						},
						SecurityContext: jobContainerSecurity(),
						VolumeMounts:    mounts,
					}},
				},
			},
		},
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{
			Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	pdb := &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(),
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}
	var out []*unstructured.Unstructured
	for _, o := range []runtime.Object{deploy, svc, pdb} {
		u, err := toObject(o)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
