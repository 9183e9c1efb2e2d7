package devclustertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// PollInterval is how often Poll and WaitFor check their condition.
const PollInterval = 100 * time.Millisecond

// ErrTimeout is what Poll returns when the condition never held.
var ErrTimeout = errors.New("timed out")

// Poll checks cond every PollInterval, the first time at once, until it holds (nil),
// cond returns an error (that error), or timeout passes (ErrTimeout). For a condition
// that no watch can tell, such as a count kept by a test server or the processes
// left on the machine.
func Poll(timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, PollInterval, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		last = err
		return ok, err
	})
	switch {
	case err == nil:
		return nil
	case last != nil:
		return last
	default:
		return fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
}

// WaitFor is Poll that fails the test when cond does not hold in time (timeout, or
// the test's Patience). what names the condition in the failure ("200 ready
// replicas").
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func(context.Context) (bool, error)) {
	tb.Helper()
	if err := Poll(Patience(tb, timeout), cond); err != nil {
		tb.Fatalf("waiting for %s: %v", what, err)
	}
}

// patienceMargin is the time left, before the test binary's own deadline, for a
// wait that ran out to fail with its reason rather than the binary's panic.
const patienceMargin = 30 * time.Second

// Patience is how long a test waits for something that takes about d on a quiet
// machine: the time its test binary has left (go test -timeout), less a margin, when
// that is longer. A machine loaded by other work then slows a test down instead of
// failing it; a condition that never holds still fails, with what was awaited.
func Patience(tb testing.TB, d time.Duration) time.Duration {
	t, ok := tb.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return d
	}
	deadline, ok := t.Deadline()
	if !ok {
		return d
	}
	return max(d, time.Until(deadline)-patienceMargin)
}
