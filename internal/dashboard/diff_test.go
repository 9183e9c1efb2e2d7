package dashboard

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(kind, name string, fields map[string]any) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": name}}
	for k, v := range fields {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

func TestDiffManifests(t *testing.T) {
	secret := func(v string) *unstructured.Unstructured {
		s := obj("Secret", "creds", map[string]any{"stringData": map[string]any{"PASSWORD": v}, "data": map[string]any{"TOKEN": "c2VjcmV0"}})
		s.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"PASSWORD":"` + v + `"}}`})
		return s
	}
	for _, tc := range []struct {
		name     string
		from, to []*unstructured.Unstructured
		want     map[string]Change
		never    []string
		contains []string
	}{
		{
			name:     "added, removed, changed, unchanged",
			from:     []*unstructured.Unstructured{obj("ConfigMap", "a", map[string]any{"data": map[string]any{"k": "1"}}), obj("ConfigMap", "gone", nil), obj("Service", "same", nil)},
			to:       []*unstructured.Unstructured{obj("ConfigMap", "a", map[string]any{"data": map[string]any{"k": "2"}}), obj("Service", "same", nil), obj("ConfigMap", "new", nil)},
			want:     map[string]Change{"configmap/a": Changed, "configmap/gone": Removed, "service/same": Unchanged, "configmap/new": Added},
			contains: []string{"-   k: \"1\"", "+   k: \"2\""},
		},
		{
			name:     "a Secret's values never appear, changed or not",
			from:     []*unstructured.Unstructured{secret("old-value-1")},
			to:       []*unstructured.Unstructured{secret("new-value-2")},
			want:     map[string]Change{"secret/creds": Unchanged},
			never:    []string{"old-value-1", "new-value-2", "c2VjcmV0", "last-applied"},
			contains: []string{"PASSWORD: (hidden)", "TOKEN: (hidden)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DiffManifests(tc.from, tc.to)
			var text strings.Builder
			seen := map[string]Change{}
			for _, d := range got {
				seen[d.Object] = d.Change
				for _, l := range d.Lines {
					text.WriteString(string(l.Op) + " " + l.Text + "\n")
				}
			}
			for obj, want := range tc.want {
				if seen[obj] != want {
					t.Errorf("%s: %q, want %q (all: %v)", obj, seen[obj], want, seen)
				}
			}
			for _, s := range tc.never {
				if strings.Contains(text.String(), s) {
					t.Errorf("the diff shows %q:\n%s", s, text.String())
				}
			}
			for _, s := range tc.contains {
				if !strings.Contains(text.String(), s) {
					t.Errorf("the diff lacks %q:\n%s", s, text.String())
				}
			}
		})
	}
}
