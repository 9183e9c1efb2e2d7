package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	def, err := Parse([]byte(`
app: shop
namespace: shop
manifests:
  directory: k8s
image:
  containers: [web, worker]
health:
  timeout: 2m
preDeploy:
  fromDeployment: web
  command: [bin/rails, db:migrate]
`), "/srv/shop")
	if err != nil {
		t.Fatal(err)
	}
	if def.Manifests.Directory != "/srv/shop/k8s" {
		t.Errorf("directory %q, want it made absolute", def.Manifests.Directory)
	}
	if def.Health.Timeout != 2*time.Minute || def.History.Limit != DefaultHistoryLimit || def.PreDeploy.Timeout != DefaultPreDeployTimeout {
		t.Errorf("defaults not applied: %+v %+v %+v", def.Health, def.History, def.PreDeploy)
	}
}

func TestParseHelmDefaultsReleaseName(t *testing.T) {
	def, err := Parse([]byte("app: shop\nnamespace: shop\nmanifests:\n  helm:\n    chart: chart\n    values: [v.yaml]\nimage:\n  containers: [web]\n"), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if def.Manifests.Helm.ReleaseName != "shop" || def.Manifests.Helm.Values[0] != "/x/v.yaml" {
		t.Errorf("helm %+v", def.Manifests.Helm)
	}
}

func TestParseErrorsSayWhatAndWhere(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "the file is empty"},
		{"not yaml", "app: [", "did not find expected"},
		{"unknown field", "app: shop\nnamespace: shop\nreplicas: 3\n", "line 3: field replicas not found"},
		{"wrong type", "app: shop\nnamespace: shop\nhistory:\n  limit: many\n", "line 4: cannot unmarshal"},
		{"missing app", "namespace: shop\n", "app: is required"},
		{"bad app name", "app: Shop_App\nnamespace: shop\n", "line 1: app: \"Shop_App\" must be a lower-case DNS label"},
		{"missing namespace", "app: shop\n", "namespace: is required"},
		{"no source", "app: shop\nnamespace: shop\nmanifests: {}\n", "line 3: manifests: name exactly one"},
		{"two sources", "app: shop\nnamespace: shop\nmanifests:\n  directory: a\n  kustomize: b\n", "name exactly one"},
		{"helm without chart", "app: shop\nnamespace: shop\nmanifests:\n  helm:\n    values: [a]\n", "manifests.helm.chart: is required"},
		{"no containers", "app: shop\nnamespace: shop\nmanifests:\n  directory: k8s\n", "image.containers: name at least one"},
		{"bad duration", "app: shop\nnamespace: shop\nhealth:\n  timeout: soon\n", "line 4"},
		{"history of one", "app: shop\nnamespace: shop\nmanifests:\n  directory: k\nimage:\n  containers: [web]\nhistory:\n  limit: 1\n", "line 8: history.limit: must be at least 2"},
		{"predeploy without command", "app: shop\nnamespace: shop\nmanifests:\n  directory: k\nimage:\n  containers: [web]\npreDeploy:\n  fromDeployment: web\n", "preDeploy.command: is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "/x")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.yaml")
	if err := os.WriteFile(path, []byte("app: shop\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Fatalf("error %v, want it prefixed with the path", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file error %v", err)
	}
}
