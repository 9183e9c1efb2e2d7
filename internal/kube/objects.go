package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// FieldManager is the server-side apply field manager of everything ferry applies.
const FieldManager = "ferry"

// Ref identifies one object.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// RefOf returns obj's identity.
func RefOf(obj *unstructured.Unstructured) Ref {
	gvk := obj.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// GVK returns the reference's group, version and kind.
func (r Ref) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// Key identifies the object regardless of API version.
func (r Ref) Key() string {
	return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
}

// String is kubectl's kind/name form, lower-case.
func (r Ref) String() string { return strings.ToLower(r.Kind) + "/" + r.Name }

// applyOrder ranks kinds so that what others depend on is applied first, like Helm's
// install order; unknown kinds (custom resources) go last, before nothing.
var applyOrder = []string{
	"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
	"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
	"ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
	"Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
	"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

func kindRank(kind string) int {
	for i, k := range applyOrder {
		if k == kind {
			return i
		}
	}
	return len(applyOrder)
}

// SortForApply orders objects for applying: by kind rank, then namespace and name,
// so the order is the same on every run. Delete in the reverse order.
func SortForApply(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ra, rb := kindRank(a.GetKind()), kindRank(b.GetKind()); ra != rb {
			return ra < rb
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// Resource returns the dynamic client for ref's resource.
func (c *Client) Resource(ref Ref) (dynamic.ResourceInterface, error) {
	mapping, err := c.Mapper.RESTMapping(schema.GroupKind{Group: ref.Group, Kind: ref.Kind}, ref.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("%s: the cluster does not know kind %s in %s (is its CRD installed?)", ref, ref.Kind, ref.GVK().GroupVersion())
		}
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(mapping.Resource).Namespace(ref.Namespace), nil
	}
	return c.Dynamic.Resource(mapping.Resource), nil
}

// Normalize puts namespaced objects without a namespace into namespace and takes the
// namespace off cluster-scoped ones, so that what is recorded is what is applied.
func (c *Client) Normalize(objs []*unstructured.Unstructured, namespace string) error {
	for _, obj := range objs {
		ref := RefOf(obj)
		mapping, err := c.Mapper.RESTMapping(ref.GVK().GroupKind(), ref.Version)
		if err != nil {
			if meta.IsNoMatchError(err) {
				return fmt.Errorf("%s: the cluster does not know kind %s in %s (is its CRD installed?)", ref, ref.Kind, ref.GVK().GroupVersion())
			}
			return fmt.Errorf("%s: %w", ref, err)
		}
		switch {
		case mapping.Scope.Name() != meta.RESTScopeNameNamespace:
			obj.SetNamespace("")
		case obj.GetNamespace() == "":
			obj.SetNamespace(namespace)
		}
	}
	return nil
}

// Apply server-side applies obj as ferry, taking over fields others changed (drift),
// or only validates it when dryRun is set.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	ref := RefOf(obj)
	res, err := c.Resource(ref)
	if err != nil {
		return nil, err
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := res.Apply(ctx, obj.GetName(), obj, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, APIError{err})
	}
	return out, nil
}

// Get returns the live object, or nil when it does not exist.
func (c *Client) Get(ctx context.Context, ref Ref) (*unstructured.Unstructured, error) {
	res, err := c.Resource(ref)
	if err != nil {
		return nil, err
	}
	obj, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, APIError{err})
	}
	return obj, nil
}

// Delete deletes the object in the background; a missing object is not an error.
func (c *Client) Delete(ctx context.Context, ref Ref) error {
	res, err := c.Resource(ref)
	if err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	err = res.Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", ref, APIError{err})
	}
	return nil
}

// APIError shows an API error as the server's one-line message and keeps it for
// errors.Is / apierrors.IsNotFound.
type APIError struct{ Err error }

func (e APIError) Error() string { return APIMessage(e.Err) }
func (e APIError) Unwrap() error { return e.Err }

// APIMessage is the API server's own message for err, on one line.
func APIMessage(err error) string {
	if status, ok := err.(apierrors.APIStatus); ok && status.Status().Message != "" {
		return oneLine(status.Status().Message)
	}
	return oneLine(err.Error())
}
