package release

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func diffObj(fields map[string]any) *unstructured.Unstructured {
	base := map[string]any{"metadata": map[string]any{"name": "x", "namespace": "ns", "resourceVersion": "7",
		"managedFields": []any{map[string]any{"manager": "ferry"}}, "uid": "u1"}}
	for k, v := range fields {
		base[k] = v
	}
	return &unstructured.Unstructured{Object: base}
}

func TestDiffObjects(t *testing.T) {
	secret := func(data map[string]any) *unstructured.Unstructured {
		return diffObj(map[string]any{"apiVersion": "v1", "kind": "Secret", "data": data})
	}
	cm := func(data map[string]any) *unstructured.Unstructured {
		return diffObj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": data})
	}
	withStatus := cm(map[string]any{"a": "1"})
	withStatus.Object["status"] = map[string]any{"phase": "x"}
	withStatus.SetResourceVersion("8")
	for _, tc := range []struct {
		name          string
		before, after *unstructured.Unstructured
		change        Change
		want, never   []string
	}{
		{"same but for server fields", cm(map[string]any{"a": "1"}), withStatus, ChangeNone, nil, []string{"---"}},
		{"value changed", cm(map[string]any{"a": "1"}), cm(map[string]any{"a": "2"}), ChangeUpdate,
			[]string{"--- old configmap/x", "+++ new configmap/x", "-  a: \"1\"", "+  a: \"2\""}, []string{"resourceVersion", "managedFields", "uid"}},
		{"created", nil, cm(map[string]any{"a": "1"}), ChangeCreate, []string{"+kind: ConfigMap"}, nil},
		{"deleted", cm(map[string]any{"a": "1"}), nil, ChangeDelete, []string{"-kind: ConfigMap"}, nil},
		{"secret value changed, key added and removed",
			secret(map[string]any{"pw": "c2VjcmV0MQ==", "user": "c2hvcA==", "gone": "b2xk"}),
			secret(map[string]any{"pw": "c2VjcmV0Mg==", "user": "c2hvcA==", "token": "bmV3"}), ChangeUpdate,
			[]string{"-  pw: " + SecretHidden, "+  pw: " + SecretChanged, "-  gone: " + SecretHidden, "+  token: " + SecretHidden, "   user: " + SecretHidden},
			[]string{"c2VjcmV0", "c2hvcA", "b2xk", "bmV3"}},
		{"secret unchanged", secret(map[string]any{"pw": "c2VjcmV0MQ=="}), secret(map[string]any{"pw": "c2VjcmV0MQ=="}), ChangeNone, nil, nil},
		{"secret created", nil, diffObj(map[string]any{"apiVersion": "v1", "kind": "Secret", "stringData": map[string]any{"pw": "hunter2"}}), ChangeCreate,
			[]string{"+  pw: " + SecretHidden}, []string{"hunter2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DiffObjects(tc.before, tc.after, "old", "new")
			if err != nil {
				t.Fatal(err)
			}
			if d.Change != tc.change || d.Object != strings.ToLower(d.Object) || d.Namespace != "ns" {
				t.Fatalf("change %s of %s/%s, want %s", d.Change, d.Namespace, d.Object, tc.change)
			}
			if (d.Change == ChangeNone) != (d.Diff == "") {
				t.Fatalf("change %s with diff %q", d.Change, d.Diff)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Diff, w+"\n") {
					t.Errorf("the diff lacks the line %q:\n%s", w, d.Diff)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(d.Diff, n) {
					t.Errorf("the diff shows %q:\n%s", n, d.Diff)
				}
			}
		})
	}
	// The inputs are left as they were: a caller may apply them afterwards.
	before, after := secret(map[string]any{"pw": "YQ=="}), secret(map[string]any{"pw": "Yg=="})
	if _, err := DiffObjects(before, after, "old", "new"); err != nil {
		t.Fatal(err)
	}
	if before.Object["data"].(map[string]any)["pw"] != "YQ==" || after.Object["data"].(map[string]any)["pw"] != "Yg==" {
		t.Fatalf("DiffObjects changed its inputs: %v %v", before.Object, after.Object)
	}
}
