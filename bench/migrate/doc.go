// Command migrate measures ferry's migration gates.
//
// Part 1 (simulated, deterministic): for regressions of several sizes injected on the
// new side at the 5 % step of 1 000 req/s, how many new-side requests ferry's gates
// needed to abort, beside a fixed-threshold judge over 1-minute windows with
// Flagger's default checks (success rate ≥ 99 %, p99 ≤ 500 ms) fed the same traffic.
//
// Part 2 (simulated): a regression confined to one endpoint with 2 % of the traffic
// of an app with 50 endpoints (its errors 0.5 % → 10 %, or its p99 doubled) at the
// 10 % step: the new-side requests the per-endpoint gates needed to abort, beside the
// whole-side gates alone and the fixed 1-minute judge on the same traffic.
//
// Part 3 (real traffic): an A/A check — migrations with identical sides through the
// embedded proxy, a shop of 50 endpoints replayed, per-endpoint gates on — and how
// often they aborted.
//
// Run it with `make bench-migrate`.
package main
