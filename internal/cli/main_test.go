package cli

import (
	"bytes"
	"os"
	"testing"

	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

// TestMain runs ferry itself when clitest started this binary as a ferry process
// (dev cluster up re-executes itself as the cluster's supervisor, too).
func TestMain(m *testing.M) {
	if clitest.IsFerry() {
		os.Exit(Execute(os.Args[1:], os.Stdout, os.Stderr))
	}
	devclustertest.Main(m)
}

// run runs ferry in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}
