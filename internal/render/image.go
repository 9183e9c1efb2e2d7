package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ErrMutableTag means an image reference names no tag, or the tag "latest".
var ErrMutableTag = errors.New("mutable image tag")

// CheckImmutable returns ErrMutableTag unless ref pins a tag other than "latest" or a
// digest.
func CheckImmutable(ref string) error {
	if strings.Contains(ref, "@sha256:") {
		return nil
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(name, ":")
	switch {
	case i < 0:
		return fmt.Errorf("%w: %q has no tag; deploy an immutable tag such as %s:v1.2.3 (or pass --allow-mutable-tag)", ErrMutableTag, ref, ref)
	case name[i+1:] == "latest":
		return fmt.Errorf("%w: %q uses \"latest\", which can change under you; deploy an immutable tag (or pass --allow-mutable-tag)", ErrMutableTag, ref)
	}
	return nil
}

// ValidateReference checks that ref looks like an image reference.
func ValidateReference(ref string) error {
	if ref == "" || strings.ContainsAny(ref, " \t\n") || strings.HasPrefix(ref, ":") || strings.HasSuffix(ref, ":") {
		return fmt.Errorf("%q is not an image reference (want REPOSITORY:TAG)", ref)
	}
	return nil
}

// podSpecPaths says where each workload kind keeps its pod spec; lint's field paths
// come from here too.
var podSpecPaths = map[string][]string{
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
	"Pod":         {"spec"},
}

// PodSpecPath returns where an object of kind keeps its pod spec, such as
// [spec template spec], or nil for a kind without one. The slice is the caller's.
func PodSpecPath(kind string) []string { return slices.Clone(podSpecPaths[kind]) }

// SetImage sets image on every container and init container named in containers, in
// every workload. It fails when no container matched, so a typo cannot deploy nothing.
func SetImage(objs []*unstructured.Unstructured, containers []string, image string) error {
	want := map[string]bool{}
	for _, c := range containers {
		want[c] = true
	}
	matched := 0
	for _, obj := range objs {
		path := podSpecPaths[obj.GetKind()]
		if path == nil {
			continue
		}
		for _, field := range []string{"containers", "initContainers"} {
			list, found, err := unstructured.NestedSlice(obj.Object, append(path, field)...)
			if err != nil || !found {
				continue
			}
			for _, item := range list {
				c, ok := item.(map[string]any)
				if ok && want[fmt.Sprint(c["name"])] {
					c["image"] = image
					matched++
				}
			}
			if err := unstructured.SetNestedSlice(obj.Object, list, append(path, field)...); err != nil {
				return err
			}
		}
	}
	if matched == 0 {
		return fmt.Errorf("no workload container is named %s: check image.containers in ferry.yaml", strings.Join(containers, " or "))
	}
	return nil
}
