package cli

import (
	"errors"
	"strings"
)

// Exit codes of every ferry command: the one table of them. The README's "Exit codes"
// table shows the same rows in the same order, each row's text being what follows
// "means" in the comment (exitcodes_test.go compares the two).
const (
	// ExitOK means success: the command did what was asked; for `ferry lint`, no
	// finding at or above `--fail-on`; for `ferry loadtest`, the verdict is pass.
	ExitOK = 0
	// ExitError means an error, printed as one line on stderr starting `ferry:`;
	// nothing was changed unless it says so. Also a `ferry loadtest` that was
	// interrupted (its report covers what ran), and a `ferry lint` with nothing to
	// check.
	ExitError = 1
	// ExitUsage means a usage error: an unknown command or flag, a missing or extra
	// argument, or a flag value ferry does not accept.
	ExitUsage = 2
	// ExitReleaseFailed means `ferry deploy` or `ferry rollback` applied a revision
	// that did not become healthy; it was rolled back unless `--no-rollback` was given.
	ExitReleaseFailed = 3
	// ExitAborted means `ferry migrate start` or `ferry migrate resume` ended in an
	// abort: all traffic went back to legacy.
	ExitAborted = 3
	// ExitLocked means another deploy or rollback of the app holds its deploy lock and
	// `--no-wait` was given.
	ExitLocked = 4
	// ExitLintWarnings means `ferry lint` found a warning (or info, with `--fail-on
	// info`) at or above `--fail-on`, and no error.
	ExitLintWarnings = 5
	// ExitLintErrors means `ferry lint` found at least one error, and `--fail-on` is
	// not `none`.
	ExitLintErrors = 6
	// ExitLoadtestFailed means `ferry loadtest` ran to its end and its verdict is
	// fail: the Kubernetes side was slower or failed more than the thresholds allow.
	ExitLoadtestFailed = 7
	// ExitLoadtestInconclusive means `ferry loadtest` ran to its end with too few
	// responses to judge (fewer than `--min-samples` a side): run it longer or at a
	// higher rate.
	ExitLoadtestInconclusive = 8
	// ExitDifferences means `ferry diff` found an object that a deploy would change;
	// 0 means it found none.
	ExitDifferences = 9
)

// usageError marks errors in how ferry was called (ExitUsage).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCodeError carries a specific exit code.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

// exitCode is the exit code of a command that returned err.
func exitCode(err error) int {
	var ue usageError
	var ce exitCodeError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command"):
		return ExitUsage
	case errors.As(err, &ce):
		return ce.code
	}
	return ExitError
}
