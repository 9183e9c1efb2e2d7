package lint

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/render"
)

// object is one object with what the rules need decoded.
type object struct {
	u         *unstructured.Unstructured
	ref       ObjectRef
	namespace string
	// decodeErr is why the object does not read as its kind.
	decodeErr error
	// pod is set for every kind with a pod template.
	pod *pod
	// deployment and cronJob are set for those kinds.
	deployment *appsv1.Deployment
	cronJob    *batchv1.CronJob
}

// pod is a workload's pod template.
type pod struct {
	spec   corev1.PodSpec
	labels map[string]string
	// path is where the pod spec is, such as spec.template.spec.
	path string
	// replicas is the desired count, for kinds that have one (else -1).
	replicas int32
	// serves says the kind runs pods that stay up (Deployment, StatefulSet, DaemonSet,
	// ReplicaSet), as opposed to Jobs, CronJobs and bare Pods.
	serves bool
}

// set is every object of a run, indexed for rules that look across objects.
type set struct {
	cfg        Config
	objects    []*object
	configMaps map[string]map[string]bool // namespace/name → keys
	// configData are the values of the ConfigMaps, namespace/name → key → value.
	configData map[string]map[string]string
	secrets    map[string]map[string]bool
	budgets    []selector // PodDisruptionBudgets
	services   []selector
	app        map[string]bool
	// detected is the framework the inputs show, once known.
	detected *string
}

type selector struct {
	namespace string
	selector  labels.Selector
}

func newSet(objs []*unstructured.Unstructured, cfg Config) *set {
	s := &set{cfg: cfg, configMaps: map[string]map[string]bool{}, configData: map[string]map[string]string{}, secrets: map[string]map[string]bool{}, app: map[string]bool{}}
	for _, c := range cfg.AppContainers {
		s.app[c] = true
	}
	for _, u := range objs {
		o := &object{u: u, ref: RefOf(u), namespace: u.GetNamespace()}
		if o.namespace == "" {
			o.namespace = cfg.Namespace
		}
		o.decodeErr = s.decode(o)
		s.objects = append(s.objects, o)
	}
	return s
}

func key(namespace, name string) string { return namespace + "/" + name }

// decode reads the kinds the rules know into typed objects.
func (s *set) decode(o *object) error {
	gvk := o.u.GroupVersionKind()
	into := func(v any) error { return runtime.DefaultUnstructuredConverter.FromUnstructured(o.u.Object, v) }
	switch gvk.GroupKind().String() {
	case "Deployment.apps":
		var d appsv1.Deployment
		if err := into(&d); err != nil {
			return err
		}
		o.deployment = &d
		o.pod = &pod{spec: d.Spec.Template.Spec, labels: d.Spec.Template.Labels, replicas: ptr.Deref(d.Spec.Replicas, 1), serves: true}
	case "StatefulSet.apps":
		var st appsv1.StatefulSet
		if err := into(&st); err != nil {
			return err
		}
		o.pod = &pod{spec: st.Spec.Template.Spec, labels: st.Spec.Template.Labels, replicas: ptr.Deref(st.Spec.Replicas, 1), serves: true}
	case "DaemonSet.apps":
		var ds appsv1.DaemonSet
		if err := into(&ds); err != nil {
			return err
		}
		o.pod = &pod{spec: ds.Spec.Template.Spec, labels: ds.Spec.Template.Labels, replicas: -1, serves: true}
	case "ReplicaSet.apps":
		var rs appsv1.ReplicaSet
		if err := into(&rs); err != nil {
			return err
		}
		o.pod = &pod{spec: rs.Spec.Template.Spec, labels: rs.Spec.Template.Labels, replicas: ptr.Deref(rs.Spec.Replicas, 1), serves: true}
	case "Job.batch":
		var j batchv1.Job
		if err := into(&j); err != nil {
			return err
		}
		o.pod = &pod{spec: j.Spec.Template.Spec, labels: j.Spec.Template.Labels, replicas: -1}
	case "CronJob.batch":
		var cj batchv1.CronJob
		if err := into(&cj); err != nil {
			return err
		}
		o.cronJob = &cj
		t := cj.Spec.JobTemplate.Spec.Template
		o.pod = &pod{spec: t.Spec, labels: t.Labels, replicas: -1}
	case "Pod":
		var p corev1.Pod
		if err := into(&p); err != nil {
			return err
		}
		o.pod = &pod{spec: p.Spec, labels: p.Labels, replicas: -1}
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err := into(&cm); err != nil {
			return err
		}
		keys := map[string]bool{}
		for k := range cm.Data {
			keys[k] = true
		}
		for k := range cm.BinaryData {
			keys[k] = true
		}
		s.configMaps[key(o.namespace, o.ref.Name)] = keys
		s.configData[key(o.namespace, o.ref.Name)] = cm.Data
	case "Secret":
		var sec corev1.Secret
		if err := into(&sec); err != nil {
			return err
		}
		keys := map[string]bool{}
		for k := range sec.Data {
			keys[k] = true
		}
		for k := range sec.StringData {
			keys[k] = true
		}
		s.secrets[key(o.namespace, o.ref.Name)] = keys
	case "PodDisruptionBudget.policy":
		var pdb policyv1.PodDisruptionBudget
		if err := into(&pdb); err != nil {
			return err
		}
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && pdb.Spec.Selector != nil {
			s.budgets = append(s.budgets, selector{o.namespace, sel})
		}
	case "Service":
		var svc corev1.Service
		if err := into(&svc); err != nil {
			return err
		}
		if len(svc.Spec.Selector) > 0 {
			s.services = append(s.services, selector{o.namespace, labels.SelectorFromSet(svc.Spec.Selector)})
		}
	}
	if o.pod != nil {
		o.pod.path = strings.Join(render.PodSpecPath(gvk.Kind), ".")
	}
	return nil
}

// ignored is the set of rule IDs the object's AnnotationIgnore names.
func (o *object) ignored() map[string]bool {
	out := map[string]bool{}
	for _, id := range ignoreList(o.u) {
		out[id] = true
	}
	return out
}

func ignoreList(u *unstructured.Unstructured) []string {
	return strings.FieldsFunc(u.GetAnnotations()[AnnotationIgnore], func(r rune) bool { return r == ',' || r == ' ' })
}

// selects says whether any selector in list matches the pod's labels in its namespace.
func selects(list []selector, namespace string, podLabels map[string]string) bool {
	for _, sel := range list {
		if sel.namespace == namespace && !sel.selector.Empty() && sel.selector.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}

// container is one container of a pod with where it is.
type container struct {
	c     *corev1.Container
	field string
	init  bool
}

// containers lists the pod's init containers and containers.
func (p *pod) containers() []container {
	var out []container
	for i := range p.spec.InitContainers {
		c := &p.spec.InitContainers[i]
		out = append(out, container{c: c, field: p.path + ".initContainers[" + c.Name + "]", init: true})
	}
	for i := range p.spec.Containers {
		c := &p.spec.Containers[i]
		out = append(out, container{c: c, field: p.path + ".containers[" + c.Name + "]"})
	}
	return out
}

// isApp says whether c runs the app: it is named in AppContainers, or none are named.
func (s *set) isApp(c *corev1.Container) bool {
	return len(s.app) == 0 || s.app[c.Name]
}

// serving lists the containers that take traffic: those with ports, or all of them
// when a Service selects the pod and none declares a port.
func (s *set) serving(o *object) []container {
	if o.pod == nil || !o.pod.serves {
		return nil
	}
	var withPorts, all []container
	for _, c := range o.pod.containers() {
		if c.init {
			continue
		}
		all = append(all, c)
		if len(c.c.Ports) > 0 {
			withPorts = append(withPorts, c)
		}
	}
	if len(withPorts) > 0 {
		return withPorts
	}
	if selects(s.services, o.namespace, o.pod.labels) {
		return all
	}
	return nil
}
