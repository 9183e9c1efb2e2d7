#!/usr/bin/env bash
# Runs `go test` with the given arguments against one local control plane for the
# whole run: starts it with `ferry dev cluster up`, hands it to every test binary
# through FERRY_TEST_KUBECONFIG (each test makes its own namespace in it), and stops
# it when the run ends, whether it passed, failed or was interrupted. With
# FERRY_TEST_KUBECONFIG already set, that cluster is used and none is started.
#
# Without arguments it runs the whole suite, as `make test` does: every package with
# the race detector (TEST_PARALLEL test binaries at a time, TEST_PARALLEL_TESTS tests
# of one binary at a time) and, without the detector, the few tests that are only
# heavy computation, only timing or only statistics: the big revision tests
# (megabytes through gzip and JSON), the image's reproducibility (two images of the
# ferry binary through tar and gzip), the gates' false-alarm simulations, the load
# generator's accuracy, and the migrations whose point is what the gates conclude
# from tens of thousands of real requests (a regression caught at its step, A/A runs
# that never abort). Under the detector each request costs several times the CPU,
# which made those few tests most of the suite's time and starved the machine until
# its own scheduling drowned the regressions they inject. The code they drive (the
# proxy, the runner, the gates) runs under the detector in the other tests of their
# packages. Those that only compute or count run beside the race pass; those that
# measure time (the load generator's percentiles, a latency regression caught at its
# step) run after it, both packages side by side, on a machine the suite no longer keeps
# busy. With arguments, it runs `go test ARGS`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
# make build's tags (see the Makefile): without them, every race-detector test binary
# that imports kustomize is linked for Go plugins, externally: about 40 % longer.
tags=kustomize_disable_go_plugin_support

norace_tests=(
  TestARevisionBiggerThanASecretDeploysRollsBackAndIsPruned # internal/release
  TestABigRevisionIsSplitAndReadBackWhole
  TestARevisionWithADamagedPartIsIncomplete
  TestACrashBetweenPartsLeavesNoRevision
  TestAAFalseAlarmsWithEndpoints # internal/analysis
  TestErrorRateGateFalseAlarmsStayRareUnderRepeatedLooks
  TestLatencyGateFalseAlarmsBesideASmallControl
  TestLatencyGateFalseAlarmsUnderRepeatedLooks
  TestPercentilesMatchKnownDistributions # internal/loadtest: how exactly the generator
  TestVerdict30PercentSlowerFails        # times requests, which the race detector's cost would blur
  TestRegressionConfinedToOneEndpoint    # internal/providers: ~80 000 replayed requests a case
  TestAAMigrationsWithEndpoints
  TestRegressionsAbortAtTheStepWhereTheyAppear # internal/migrate
  TestAACheckNeverAborts
  TestTwoBuildsGiveOneDigest # hack/image: two OCI layers of the ferry binary through tar and gzip
)
norace="^($(IFS='|'; echo "${norace_tests[*]}"))\$"
beside_pkgs=(./internal/providers ./internal/release ./internal/analysis ./hack/image) # counts and computation
after_pkgs=(./internal/loadtest ./internal/migrate)                       # measured time
suite() {
  if [ "$#" -gt 0 ]; then
    "$GO" test -tags "$tags" "$@"
    return
  fi
  local timeout=${TEST_TIMEOUT:-30m}
  # The longest packages start first, so that the run does not end waiting on one.
  local first=(internal/controller internal/cli internal/providers internal/migrate internal/dashboard internal/traffic/proxy internal/release internal/legacy)
  local module pkgs=()
  module=$("$GO" list -m)
  for p in "${first[@]}"; do pkgs+=("$module/$p"); done
  while read -r p; do
    [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
  done < <("$GO" list ./...)
  # The computation and counting tests run beside the race pass; their output
  # follows the race pass's.
  local beside_out beside_pid status=0
  beside_out=$(mktemp "${TMPDIR:-/tmp}/ferry-norace.XXXXXX")
  "$GO" test -trimpath -tags "$tags" -count=1 -timeout "$timeout" -run "$norace" "${beside_pkgs[@]}" >"$beside_out" 2>&1 &
  beside_pid=$!
  "$GO" test -race -trimpath -tags "$tags" -ldflags=-w -count=1 -p "${TEST_PARALLEL:-3}" -parallel "${TEST_PARALLEL_TESTS:-2}" -timeout "$timeout" -skip "$norace" "${pkgs[@]}" || status=$?
  wait "$beside_pid" || status=$?
  echo "==> go test, without the race detector: the computation- and statistics-only tests"
  cat "$beside_out"
  rm -f "$beside_out"
  echo "==> go test, without the race detector: the tests that measure time"
  # The two packages run side by side, and so do the migrations (three at most): they
  # keep about two thirds of a core busy together, most of their time is the steps'
  # holds and analysis intervals, and the load generator's tests send 100 requests a
  # second and run again when they find the machine busy (parityRun).
  "$GO" test -trimpath -tags "$tags" -count=1 -p 2 -parallel 3 -timeout "$timeout" -run "$norace" "${after_pkgs[@]}" || status=$?
  return "$status"
}

# The whole run is CPU-bound on two cores: the test processes, and the control plane
# started below, collect garbage an eighth as often (memory is not what is short).
export GOGC=${GOGC:-800}
# A race-detector process sleeps a second before it exits, for races still to be
# reported; the CLI and controller tests start their binary again dozens of times.
export GORACE=${GORACE:-atexit_sleep_ms=0}

if [ -n "${FERRY_TEST_KUBECONFIG:-}" ]; then
  suite "$@"
  exit
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")
ferry=$work/ferry
cluster=$work/cluster
stop() {
  local status=$?
  trap - EXIT INT TERM HUP
  if [ -d "$cluster" ]; then
    "$ferry" dev cluster down --dir "$cluster" >/dev/null || status=1
  fi
  rm -rf "$work"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

CGO_ENABLED=0 "$GO" build -trimpath -tags "$tags" -o "$ferry" ./cmd/ferry # the flags of make image: its test then finds every package compiled
start=$SECONDS
FERRY_TEST_KUBECONFIG=$("$ferry" dev cluster up --dir "$cluster")
export FERRY_TEST_KUBECONFIG
echo "==> local control plane up in $((SECONDS - start))s for the whole run ($cluster)"
suite "$@"
