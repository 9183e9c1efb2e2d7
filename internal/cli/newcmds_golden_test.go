package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// envUpdateGolden rewrites the golden files of the tests that compare with them:
// FERRY_UPDATE_GOLDEN=1 go test ./internal/cli -run 'Golden'.
const envUpdateGolden = "FERRY_UPDATE_GOLDEN"

// compareWithGolden fails when got differs from testdata/golden/name, or rewrites the
// file when FERRY_UPDATE_GOLDEN is set.
func compareWithGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if os.Getenv(envUpdateGolden) != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with %s=1 to write it)", err, envUpdateGolden)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with %s=1 to rewrite it):\n--- got\n%s\n--- want\n%s", path, envUpdateGolden, got, want)
	}
}

// TestNewCommandsHelpGolden keeps the help of the commands a newcomer looks for first.
func TestNewCommandsHelpGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"diff-help.txt", []string{"diff", "--help"}},
		{"deploy-help.txt", []string{"deploy", "--help"}},
		{"migrate-validate-help.txt", []string{"migrate", "validate", "--help"}},
		{"completion-help.txt", []string{"completion", "--help"}},
		{"version-help.txt", []string{"version", "--help"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			compareWithGolden(t, tc.golden, stdout)
		})
	}
}
