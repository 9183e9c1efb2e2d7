package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/app"
)

func names(objs []*unstructured.Unstructured) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(out, ",")
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSourceRendersEachKind(t *testing.T) {
	for _, tc := range []struct {
		name      string
		manifests app.Manifests
		want      string
		check     func(t *testing.T, objs []*unstructured.Unstructured)
	}{
		{"directory", app.Manifests{Directory: abs(t, "testdata/dir")}, "Deployment/web,Service/web,CronJob/nightly", nil},
		{"kustomize", app.Manifests{Kustomize: abs(t, "testdata/kustomize/overlay")}, "Deployment/prod-web,Service/prod-web", func(t *testing.T, objs []*unstructured.Unstructured) {
			if objs[0].GetLabels()["env"] != "production" {
				t.Errorf("overlay label missing: %v", objs[0].GetLabels())
			}
		}},
		{"helm", app.Manifests{Helm: &app.Helm{Chart: abs(t, "testdata/chart"), Values: []string{abs(t, "testdata/chart/values-prod.yaml")}, Set: map[string]string{"image": "shop/web:set"}, ReleaseName: "shop"}},
			"Deployment/shop-web", func(t *testing.T, objs []*unstructured.Unstructured) {
				replicas, _, _ := unstructured.NestedInt64(objs[0].Object, "spec", "replicas")
				if replicas != 5 || objs[0].GetNamespace() != "shop-ns" {
					t.Errorf("values not applied: replicas %d namespace %q", replicas, objs[0].GetNamespace())
				}
				if !strings.Contains(names(objs), "shop-web") || !strings.Contains(toYAML(objs[0]), "shop/web:set") {
					t.Errorf("--set not applied: %s", toYAML(objs[0]))
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Source(&app.Definition{App: "shop", Namespace: "shop-ns", Manifests: tc.manifests})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(objs); got != tc.want {
				t.Fatalf("objects %s, want %s", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, objs)
			}
		})
	}
}

func toYAML(o *unstructured.Unstructured) string {
	data, _ := o.MarshalJSON()
	return string(data)
}

func TestDecodeErrorsNameTheDocument(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"no kind", "apiVersion: v1\nmetadata: {name: a}\n", "document 1: kind is missing"},
		{"no name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "document 2: ConfigMap has no metadata.name"},
		{"broken yaml", "apiVersion: v1\nkind: [\n", "document 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSourceErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Source(&app.Definition{Manifests: app.Manifests{Directory: dir}}); !errors.Is(err, ErrNoObjects) {
		t.Errorf("empty directory: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("kind: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Source(&app.Definition{Manifests: app.Manifests{Directory: dir}}); err == nil || !strings.Contains(err.Error(), "bad.yaml: document 1") {
		t.Errorf("broken file: %v", err)
	}
	if _, err := Source(&app.Definition{Manifests: app.Manifests{Kustomize: dir}}); err == nil || !strings.Contains(err.Error(), "kustomize") {
		t.Errorf("not a kustomization: %v", err)
	}
	if _, err := Source(&app.Definition{Manifests: app.Manifests{Helm: &app.Helm{Chart: dir}}}); err == nil || !strings.Contains(err.Error(), "load chart") {
		t.Errorf("not a chart: %v", err)
	}
}

func TestSetImage(t *testing.T) {
	objs, err := directory("testdata/dir")
	if err != nil {
		t.Fatal(err)
	}
	if err := SetImage(objs, []string{"web", "assets"}, "shop/web:v2"); err != nil {
		t.Fatal(err)
	}
	images := map[string]string{}
	for _, o := range objs {
		for _, field := range []string{"containers", "initContainers"} {
			list, _, _ := unstructured.NestedSlice(o.Object, append(PodSpecPath(o.GetKind()), field)...)
			for _, c := range list {
				m := c.(map[string]any)
				images[o.GetName()+"/"+m["name"].(string)] = m["image"].(string)
			}
		}
	}
	want := map[string]string{"web/web": "shop/web:v2", "web/assets": "shop/web:v2", "web/sidecar": "envoy:v1.30.0", "nightly/web": "shop/web:v2"}
	for k, v := range want {
		if images[k] != v {
			t.Errorf("%s image %q, want %q", k, images[k], v)
		}
	}
	if err := SetImage(objs, []string{"wbe"}, "x:1"); err == nil || !strings.Contains(err.Error(), "no workload container is named wbe") {
		t.Errorf("typo in container name: %v", err)
	}
}

func TestCheckImmutable(t *testing.T) {
	for ref, mutable := range map[string]bool{
		"shop/web":                                   true,
		"shop/web:latest":                            true,
		"registry:5000/shop/web":                     true,
		"registry:5000/shop/web:v1.2.3":              false,
		"shop/web:2026.11.21-4f3c2a1":                false,
		"shop/web@sha256:" + strings.Repeat("a", 64): false,
	} {
		err := CheckImmutable(ref)
		if got := errors.Is(err, ErrMutableTag); got != mutable {
			t.Errorf("CheckImmutable(%q) = %v, want mutable=%v", ref, err, mutable)
		}
	}
}
