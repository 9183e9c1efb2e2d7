package rbac_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"ferry.dev/ferry/config/rbac"
)

// TestRoleUpToDate fails when config/rbac/role.yaml (the controller's) or
// config/rbac/dashboard/role.yaml (the dashboard's, bound only when it is served) is
// not what controller-gen makes of the RBAC markers now: run `make generate` and
// commit the result.
func TestRoleUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds controller-gen")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, paths, file string }{
		{rbac.RoleName, "./internal/controller/...", "role.yaml"},
		{"ferry-dashboard", "./internal/dashboard/...", filepath.Join("dashboard", "role.yaml")},
	} {
		out := t.TempDir()
		cmd := exec.Command("go", "tool", "controller-gen", "rbac:roleName="+tc.name, "paths="+tc.paths, "output:rbac:artifacts:config="+out)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen: %v\n%s", err, msg)
		}
		want, err := os.ReadFile(filepath.Join(out, "role.yaml"))
		if err != nil {
			t.Fatalf("controller-gen wrote no role: %v", err)
		}
		got, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("config/rbac/%s is stale: run make generate and commit it", tc.file)
		}
	}
	role, err := rbac.Role()
	if err != nil || role.Name != rbac.RoleName || len(role.Rules) == 0 {
		t.Fatalf("the embedded role: %+v, %v", role, err)
	}
}
