package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/golden"
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

// goInternals are words of Go and of the YAML library that a user must never see.
var goInternals = []string{"!!", "unmarshal", "app.Definition", "time.Duration", "in type", "yaml:"}

// TestParseErrorsSayWhatAndWhere reads every file of testdata/invalid and compares its
// error with the .golden file beside it (go test -update rewrites them): one line,
// every mistake with its field, line and what would be valid, in ferry's words.
func TestParseErrorsSayWhatAndWhere(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid/*.yaml: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data, "/x")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range goInternals {
				if strings.Contains(msg, w) {
					t.Errorf("error %q shows %q", msg, w)
				}
			}
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden", msg+"\n")
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
