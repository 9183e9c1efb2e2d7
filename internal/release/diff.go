package release

import (
	"reflect"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Change is what would happen to one object.
type Change string

// Changes, as `ferry diff` names them.
const (
	ChangeNone    Change = "unchanged"
	ChangeCreate  Change = "create"
	ChangeUpdate  Change = "update"
	ChangeDelete  Change = "delete"
	ChangeReplace Change = "replace"
)

// Placeholders that stand in for a Secret's values in a diff: its data is never
// printed, only whether it changed.
const (
	SecretHidden  = "(secret data hidden)"
	SecretChanged = "(secret data changed)"
)

// ObjectDiff is the difference of one object between two states.
type ObjectDiff struct {
	// Object is kubectl's kind/name of the object; Namespace its namespace.
	Object    string `json:"object"`
	Namespace string `json:"namespace,omitempty"`
	Change    Change `json:"change"`
	// Diff is a unified diff of the object's YAML, without the fields the API server
	// keeps for itself (managedFields, resourceVersion, status, …), with a Secret's
	// values replaced by SecretHidden or SecretChanged. Empty when unchanged.
	Diff string `json:"diff,omitempty"`
}

// serverOwned are metadata fields the API server sets, which differ between any two
// reads and say nothing about what ferry changes.
var serverOwned = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// comparable returns obj's content as a diff compares it: without server-owned
// metadata, status and kubectl's last-applied annotation. nil stays nil.
func comparable(obj *unstructured.Unstructured) map[string]any {
	if obj == nil {
		return nil
	}
	c := obj.DeepCopy().Object
	delete(c, "status")
	if md, ok := c["metadata"].(map[string]any); ok {
		for _, f := range serverOwned {
			delete(md, f)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	return c
}

// isSecret reports whether obj is a core Secret.
func isSecret(obj map[string]any) bool {
	return obj != nil && obj["kind"] == "Secret" && obj["apiVersion"] == "v1"
}

// maskSecrets replaces the values of data and stringData in before and after (either
// may be nil) with SecretHidden, and with SecretChanged in after where the value
// differs from before's; the keys stay, so added and removed keys show.
func maskSecrets(before, after map[string]any) {
	if !isSecret(before) && !isSecret(after) {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		b, _ := before[field].(map[string]any)
		a, _ := after[field].(map[string]any)
		for k, av := range a {
			bv, ok := b[k]
			if ok && !reflect.DeepEqual(bv, av) {
				a[k] = SecretChanged
			} else {
				a[k] = SecretHidden
			}
		}
		for k := range b {
			b[k] = SecretHidden
		}
	}
}

// DiffObjects compares two states of one object (before nil: it would be created;
// after nil: deleted), labelled with beforeName and afterName in the diff's header.
func DiffObjects(before, after *unstructured.Unstructured, beforeName, afterName string) (ObjectDiff, error) {
	ref := after
	if ref == nil {
		ref = before
	}
	d := ObjectDiff{Object: strings.ToLower(ref.GetKind()) + "/" + ref.GetName(), Namespace: ref.GetNamespace()}
	b, a := comparable(before), comparable(after)
	maskSecrets(b, a)
	by, err := yamlOf(b)
	if err != nil {
		return d, err
	}
	ay, err := yamlOf(a)
	if err != nil {
		return d, err
	}
	switch {
	case before == nil:
		d.Change = ChangeCreate
	case after == nil:
		d.Change = ChangeDelete
	case by == ay:
		d.Change = ChangeNone
		return d, nil
	default:
		d.Change = ChangeUpdate
	}
	d.Diff, err = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(by), B: lines(ay),
		FromFile: beforeName + " " + d.Object, ToFile: afterName + " " + d.Object, Context: 3,
	})
	return d, err
}

// lines splits text after each newline, with no empty line after the last.
func lines(text string) []string {
	out := strings.SplitAfter(text, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func yamlOf(obj map[string]any) (string, error) {
	if obj == nil {
		return "", nil
	}
	data, err := yaml.Marshal(obj)
	return string(data), err
}
