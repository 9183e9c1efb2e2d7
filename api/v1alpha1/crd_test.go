package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCRDUpToDate fails when config/crd is not what controller-gen makes of the types
// now: run `make generate` and commit the result.
func TestCRDUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds controller-gen")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("go", "tool", "controller-gen", "paths=./api/...", "crd:allowDangerousTypes=true", "output:crd:artifacts:config="+out)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, msg)
	}
	generated, err := filepath.Glob(filepath.Join(out, "*.yaml"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("controller-gen wrote no CRD (%v)", err)
	}
	for _, path := range generated {
		want, _ := os.ReadFile(path)
		name := filepath.Base(path)
		got, err := os.ReadFile(filepath.Join(root, "config", "crd", name))
		if err != nil {
			t.Errorf("config/crd/%s: %v (run make generate)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("config/crd/%s is stale: run make generate and commit it", name)
		}
	}
	checkedIn, _ := filepath.Glob(filepath.Join(root, "config", "crd", "*.yaml"))
	if len(checkedIn) != len(generated) {
		t.Errorf("config/crd holds %d CRDs, controller-gen makes %d", len(checkedIn), len(generated))
	}
}
