// Command migrate measures ferry's migration gates.
//
// Part 1 (simulated, deterministic): for regressions of several sizes injected on the
// new side at the 5 % step of 1 000 req/s, how many new-side requests ferry's gates
// needed to abort, beside a fixed-threshold judge over 1-minute windows with
// Flagger's default checks (success rate ≥ 99 %, p99 ≤ 500 ms) fed the same traffic.
//
// Part 2 (real traffic): an A/A check — migrations with identical sides through the
// embedded proxy — and how often they aborted.
//
// Run it with `make bench-migrate`.
package main
