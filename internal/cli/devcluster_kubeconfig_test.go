package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDevClusterKubeconfigWriteIsPrivateAndReplacesSymlinks: the kubeconfig holds a
// client key, so --write ends with a regular file of mode 0600 whatever was at the path
// before, and a symlink there is replaced, never written through.
//
// The command reads only the run directory's ready marker and kubeconfig, so the test
// lays those two files out instead of starting a control plane.
func TestDevClusterKubeconfigWriteIsPrivateAndReplacesSymlinks(t *testing.T) {
	runDir := t.TempDir()
	kubeconfig := []byte("apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: c2VjcmV0\n")
	for name, data := range map[string][]byte{"ready": nil, "kubeconfig": kubeconfig} {
		if err := os.WriteFile(filepath.Join(runDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "someone-elses-file")
	const targetData = "not yours\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"new file", func(*testing.T, string) {}},
		{"existing world-readable file", func(t *testing.T, path string) {
			writeWorldReadable(t, path, "old\n")
		}},
		{"symlink to another file", func(t *testing.T, path string) {
			writeWorldReadable(t, target, targetData)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "kubeconfig-"+string(rune('a'+i)))
			tt.setup(t, path)
			code, _, stderr := run(t, "dev", "cluster", "kubeconfig", "--dir", runDir, "--write", path)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s is %s, want a regular file with mode 0600", path, fi.Mode())
			}
			if got, _ := os.ReadFile(path); string(got) != string(kubeconfig) {
				t.Errorf("%s holds %q, want the kubeconfig", path, got)
			}
			if got, err := os.ReadFile(target); err == nil && string(got) != targetData {
				t.Errorf("the symlink's target was written: it holds %q", got)
			}
			if fi, err := os.Stat(target); err == nil && fi.Mode().Perm() != 0o644 {
				t.Errorf("the symlink's target changed mode to %s", fi.Mode())
			}
		})
	}
}

// writeWorldReadable writes a file of mode 0644 whatever the umask.
func writeWorldReadable(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
