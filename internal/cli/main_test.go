package cli

import (
	"bytes"
	"os"
	"testing"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

// envExec makes the test binary act as the ferry binary, so tests can run ferry as a
// separate process (dev cluster up re-executes itself as the cluster's supervisor).
const envExec = "FERRY_CLI_TEST_EXEC"

func TestMain(m *testing.M) {
	if os.Getenv(envExec) == "1" {
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
