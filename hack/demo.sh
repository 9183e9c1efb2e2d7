#!/usr/bin/env bash
# make demo-shop: start ferry's local control plane, then ship the example app with ferry:
# v1, v2, a broken v3 that rolls back on its own, and the history.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bin=$(bash hack/build-controlplane.sh)
ferry=$PWD/bin/ferry
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok with 10 fake nodes)"
export KUBECONFIG
KUBECONFIG=$("$ferry" dev cluster up)
kubectl() { "$bin/kubectl" "$@"; }

# A fresh app each run: forget what an earlier demo left.
kubectl delete namespace shop --ignore-not-found --wait=true >/dev/null

cd examples/shop
step "ferry deploy v1 (examples/shop: 20 replicas, a Service, a ConfigMap, a CronJob, a pre-deploy migration Job)"
"$ferry" deploy --create-namespace --image registry.example.com/shop/web:2026.11.20-1a2b3c4

step "ferry deploy v2"
"$ferry" deploy --image registry.example.com/shop/web:2026.11.21-4f3c2a1

step "ferry deploy v3, whose pods crash-loop (annotated ferry.dev/simulate: crashloop): ferry rolls back on its own"
broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp -r . "$broken/"
sed -i 's#^      labels:#      annotations:\n        ferry.dev/simulate: crashloop\n      labels:#' "$broken/k8s/deployment.yaml"
sed -i '/^preDeploy:/,$d' "$broken/ferry.yaml"   # the migration itself would crash-loop too, and stop the deploy before any change
if "$ferry" deploy -f "$broken/ferry.yaml" --image registry.example.com/shop/web:2026.11.22-deadbee; then
  echo "the broken release was not caught" >&2; exit 1
else
  echo "(exit code $? — the release failed and was rolled back)"
fi

step "ferry history"
"$ferry" history

step "ferry status"
"$ferry" status

cd ../..
step "ferry loadtest: a short parity run of both sides against the legacy APM baseline"
bash hack/demo-loadtest.sh

step "ferry proxy: three legacy servers and the Kubernetes ingress behind the embedded proxy at 10%"
bash hack/demo-proxy.sh

step "ferry migrate: walk 1 → 5 → 10 → 50 → 100 % through the proxy, then a run that aborts on its own"
bash hack/demo-migrate.sh

echo
echo "Done in $((SECONDS - start))s: v1 and v2 shipped, the broken v3 rolled back on its own to v2's exact state;"
echo "both sides load-tested against the APM baseline; a migration walked to 100% and a regressed one aborted to legacy."
echo "The cluster keeps running. Look around:  $bin/kubectl --kubeconfig $KUBECONFIG -n shop get all"
echo "Stop it and leave nothing behind:       bin/ferry dev cluster down   (or: make demo-down)"
