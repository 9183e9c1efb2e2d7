package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// CapacitySource tells how much traffic the legacy side can take now: the router's
// view of its servers' health and load (traffic.CapacityReporter).
type CapacitySource interface {
	// LegacyCapacity returns the legacy side's health and load now; an error wrapping
	// traffic.ErrNoCapacity when there is nothing to judge by.
	LegacyCapacity(ctx context.Context) (traffic.Capacity, error)
}

// ErrAbortLimited is returned by Control when an abort could send back only part of
// the traffic: legacy cannot take all of it yet. The migration stays aborting, and
// the next evaluation (a running ferry migrate, the controller, another abort) sends
// back more as legacy recovers.
var ErrAbortLimited = errors.New("abort limited by the legacy side's capacity")

// The legacy-capacity guard.
//
// An abort is the way back, and it sends every request to legacy at once. A legacy
// fleet that shrank during the migration (servers scaled down, failing their checks)
// would then fail under the load, turning a regression on a few percent of the
// traffic into an outage of all of it. So:
//
//   - Before a step up, the guard asks whether legacy could still take all of the
//     traffic, which is what an abort from the next step would send it. A step up
//     lowers legacy's load, so the question is not whether legacy can carry the next
//     step but whether the way back stays open: a migration whose way back is closed
//     must not go further, where a regression would reach more users with nowhere to
//     send them. It holds the step, saying why, until legacy recovers (or someone
//     promotes by hand). Completing the last step is not guarded: after it, no abort
//     follows.
//   - Before an abort sets weights, the guard sends legacy as much as it can take
//     (never less than it has), keeps the rest on Kubernetes, alerts, and stays
//     aborting: each evaluation sends back more as legacy recovers, until the abort
//     lands at 0 %. With every legacy server healthy it lands at once.
//
// A router that cannot tell (traffic.ErrNoCapacity: Gateway API, a DNS record without
// a health check) is logged once and the guard does not hold; one that fails to
// answer holds a step up (no data is never "healthy") but never an abort, which then
// sends all of the traffic back as it always did.

// stepUpHold returns why a step up from at (the Kubernetes share now) must hold, or
// "" when it may go: legacy must be able to take all of the traffic.
func stepUpHold(c traffic.Capacity, at int) string {
	can := c.MaxLegacy()
	if can >= traffic.Total {
		return ""
	}
	return fmt.Sprintf("%s: it could take %s of the traffic, and an abort from the next step would send it %s; holding at %s until legacy can take it all",
		c, traffic.FormatPercent(can), traffic.FormatPercent(traffic.Total), traffic.FormatPercent(at))
}

// abortLimit returns the weights an abort may send now and, when they are not all
// legacy, why.
func abortLimit(c traffic.Capacity, applied traffic.Weights) (traffic.Weights, string) {
	can := c.MaxLegacy()
	w := traffic.CapAbort(applied, can)
	if w.Kubernetes == 0 {
		return w, ""
	}
	return w, fmt.Sprintf("%s: it can take %s of the traffic, so the abort sends it %s and kubernetes keeps %s until legacy can take more",
		c, traffic.FormatPercent(can), traffic.FormatPercent(w.Legacy), traffic.FormatPercent(w.Kubernetes))
}

// capacity asks the capacity source, with a bound on the call. ok is false when the
// guard is off or cannot check; the latter is logged once (recorded in State.Guard).
func (r *runner) capacity(ctx context.Context) (c traffic.Capacity, ok bool, err error) {
	if r.cfg.Capacity == nil {
		return c, false, nil
	}
	callCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err = r.cfg.Capacity.LegacyCapacity(callCtx)
	if errors.Is(err, traffic.ErrNoCapacity) {
		line := fmt.Sprintf("the legacy-capacity guard cannot check: %v; it does not hold", err)
		r.guardNote(line, line)
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return r.rememberFleet(c), true, nil
}

// rememberFleet judges the legacy fleet against the one that carried all of the
// traffic: the servers the router knew at the guard's first check of the migration.
// A load balancer knows only the targets registered now, and an autoscaler
// deregisters legacy targets as legacy's share falls; an abort would then send all
// of the traffic to those that are left, which would look whole. So servers the
// router no longer knows count as down. A fleet that grew is judged as it is.
func (r *runner) rememberFleet(c traffic.Capacity) traffic.Capacity {
	switch {
	case r.st.LegacyServers == 0:
		r.st.LegacyServers = c.Servers
	case c.Servers < r.st.LegacyServers:
		c.Gone = r.st.LegacyServers - c.Servers
		c.Servers = r.st.LegacyServers
	}
	return c
}

// guardNote records the guard's finding, and logs it when it differs from the last
// one in more than numbers that move at every evaluation: a finding that starts
// with the same kind (such as "legacy has 1 of 3 servers healthy") is recorded but not
// logged again. It reports whether it logged.
func (r *runner) guardNote(line, kind string) bool {
	same := r.st.Guard == line || (kind != "" && strings.HasPrefix(r.st.Guard, kind))
	r.st.Guard = line
	if same || line == "" {
		return false
	}
	r.logf("%s", line)
	return true
}

// guardStepUp turns an advance into a hold while legacy could not take an abort from
// the next step.
func (r *runner) guardStepUp(ctx context.Context, d Decision) Decision {
	if d.Action != ActionAdvance {
		return d
	}
	c, ok, err := r.capacity(ctx)
	switch {
	case err != nil:
		reason := fmt.Sprintf("legacy capacity: %v (holding; retrying)", err)
		r.guardNote(reason, reason)
		return Decision{ActionHold, reason}
	case !ok:
		return d
	}
	reason := stepUpHold(c, r.st.Applied.Kubernetes)
	if reason == "" {
		r.guardNote("", "")
		return d
	}
	r.guardNote(reason, c.String())
	return Decision{ActionHold, reason}
}

// abortTarget returns the weights the abort sends now and, when they are not all
// legacy, why (see abortLimit) and the kind of finding that is (see guardNote).
// Without a guard, or when it cannot check, it is all legacy.
func (r *runner) abortTarget(ctx context.Context) (w traffic.Weights, why, kind string) {
	all := traffic.KubernetesShare(0)
	c, ok, err := r.capacity(ctx)
	if err != nil {
		line := fmt.Sprintf("legacy capacity: %v: the abort sends all traffic back unguarded", err)
		r.guardNote(line, line)
		return all, "", ""
	}
	if !ok {
		return all, "", ""
	}
	w, why = abortLimit(c, r.st.Applied)
	return w, why, c.String()
}
