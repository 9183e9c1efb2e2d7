package kube

import (
	"testing"
	"time"
)

// A renewal may take until the lease runs out, not just one renew interval: on a
// busy API server a call slower than the interval still renews in time.
func TestARenewalMayTakeUntilTheLeaseRunsOut(t *testing.T) {
	l := &Lock{Duration: 2 * time.Second, RenewInterval: 200 * time.Millisecond}
	for _, tc := range []struct{ since, want time.Duration }{
		{200 * time.Millisecond, 1800 * time.Millisecond},
		{time.Second, time.Second},
		{1900 * time.Millisecond, 200 * time.Millisecond},
		{3 * time.Second, 200 * time.Millisecond},
	} {
		if got := l.renewTimeout(tc.since); got != tc.want {
			t.Errorf("renewal %v after the last one may take %v, want %v", tc.since, got, tc.want)
		}
	}
}
