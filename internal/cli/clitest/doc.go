// Package clitest runs ferry as a separate process in tests: the test binary itself,
// re-executed with EnvExec set so that its TestMain runs the ferry command instead of
// the tests. For tests only; it must not import internal/cli (cli's tests import it).
package clitest
