#!/usr/bin/env bash
# make demo: start ferry's local control plane and deploy the example app onto it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bin=$(bash hack/build-controlplane.sh)
echo "==> starting the local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok with 10 fake nodes)"
kubeconfig=$(bin/ferry dev cluster up)
kubectl() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }
echo "==> deploying examples/shop (20 replicas of registry.example.com/shop/web)"
kubectl apply -f examples/shop/namespace.yaml >/dev/null
kubectl apply -f examples/shop/
kubectl -n shop rollout status deployment/web --timeout=90s
echo
kubectl -n shop get deployment web
echo
kubectl -n shop get pods -o wide | head -6
echo "   ..."
ready=$(kubectl -n shop get deployment web -o jsonpath='{.status.readyReplicas}')
nodes=$(kubectl -n shop get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
echo
echo "Done in $((SECONDS - start))s: the example app runs $ready Ready pods spread over $nodes fake nodes."
echo "The cluster keeps running. Look around:  $bin/kubectl --kubeconfig $kubeconfig get pods -A"
echo "Stop it and leave nothing behind:       bin/ferry dev cluster down   (or: make demo-down)"
