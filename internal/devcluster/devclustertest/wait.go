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

// WaitFor is Poll that fails the test when cond does not hold in time. what names
// the condition in the failure ("200 ready replicas").
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func(context.Context) (bool, error)) {
	tb.Helper()
	if err := Poll(timeout, cond); err != nil {
		tb.Fatalf("waiting for %s: %v", what, err)
	}
}
