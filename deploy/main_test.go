package deploy

import (
	"os"
	"testing"

	"ferry.dev/ferry/internal/cli"
	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

// TestMain runs ferry itself when clitest started this binary as a ferry process: the
// controller the chart installs runs out of cluster as that process.
func TestMain(m *testing.M) {
	if clitest.IsFerry() {
		os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
	}
	devclustertest.Main(m)
}
