package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"ferry.dev/ferry/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		setup func(path string)
	}{
		{"new file in a new directory", func(string) {}},
		{"existing world-readable file", func(path string) {
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink to another file", func(path string) {
			target := filepath.Join(dir, "target")
			if err := os.WriteFile(target, []byte("target"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "sub", string(rune('a'+i)))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(path)
			if err := atomicfile.Write(path, []byte("secret"), 0o600); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o600 {
				t.Errorf("mode %v, want -rw-------", fi.Mode())
			}
			if got, _ := os.ReadFile(path); string(got) != "secret" {
				t.Errorf("content %q", got)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if filepath.Ext(e.Name()) != "" && e.Name()[0] == '.' {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "target")); string(got) != "target" {
		t.Errorf("the symlink's target was written through: %q", got)
	}
}
