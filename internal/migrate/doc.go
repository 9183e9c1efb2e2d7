// Package migrate walks a migration plan — traffic to Kubernetes 1 → 5 → 10 → 50 → 100 %
// — through a traffic.Router, judging each step with analysis gates over a
// MetricSource, aborting to legacy on its own, and recording its state before every
// action so a restarted run continues the same step. It must not import internal/cli.
package migrate
