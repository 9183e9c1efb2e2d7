// Package migrate runs a migration plan (internal/plan) — traffic to Kubernetes
// 1 → 5 → 10 → 50 → 100 % — through a traffic.Router, judging each step with
// analysis gates over a MetricSource, aborting to legacy on its own, and recording its
// state in a Store (each save conditional on the version it read) before every action,
// so a restarted run continues the same step. It declares what it drives and imports
// no provider and not internal/cli.
package migrate
