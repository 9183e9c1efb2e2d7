#!/usr/bin/env bash
# Runs `go test` with the given arguments against one local control plane for the
# whole run: starts it with `ferry dev cluster up`, hands it to every test binary
# through FERRY_TEST_KUBECONFIG (each test makes its own namespace in it), and stops
# it when the run ends, whether it passed, failed or was interrupted. With
# FERRY_TEST_KUBECONFIG already set, that cluster is used and none is started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}

if [ -n "${FERRY_TEST_KUBECONFIG:-}" ]; then
  exec "$GO" test "$@"
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

CGO_ENABLED=0 "$GO" build -trimpath -o "$ferry" ./cmd/ferry # the flags of make image: its test then finds every package compiled
start=$SECONDS
FERRY_TEST_KUBECONFIG=$("$ferry" dev cluster up --dir "$cluster")
export FERRY_TEST_KUBECONFIG
echo "==> local control plane up in $((SECONDS - start))s for the whole run ($cluster)"
"$GO" test "$@"
