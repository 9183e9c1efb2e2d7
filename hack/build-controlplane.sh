#!/usr/bin/env bash
# Builds the local control plane's binaries once into a cache outside the work tree,
# keyed by version: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl and kwok. A binary that is already there is never rebuilt.
# Prints the bin directory (the last line of stdout) so callers can use it.
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${FERRY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}
bin="$cache/controlplane-k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
mkdir -p "$bin"
# One build at a time: test packages started in parallel all call this script.
exec 9>"$bin/.lock"
flock 9

# build MODULE_DIR LDFLAGS NAME=PACKAGE... builds each missing binary into a temporary
# directory and moves it into place, so an interrupted build never leaves half a binary.
build() {
  local dir=$1 ldflags=$2; shift 2
  local missing=() pkgs=() spec
  for spec in "$@"; do
    [ -x "$bin/${spec%%=*}" ] || { missing+=("${spec%%=*}"); pkgs+=("${spec#*=}"); }
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "ferry: building ${missing[*]} (first time only; the Kubernetes binaries take about 10 minutes on 2 cores)..." >&2
  local tmp; tmp=$(mktemp -d "$bin/.build.XXXXXX")
  trap 'rm -rf "$tmp"' RETURN
  local start=$SECONDS
  (cd "$here/$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/" "${pkgs[@]}")
  for spec in "${missing[@]}"; do mv "$tmp/$spec" "$bin/$spec"; done
  echo "ferry: built ${missing[*]} in $((SECONDS - start))s" >&2
}

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
k8s_ldflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

build etcd "" etcd=.
build kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" kwok=sigs.k8s.io/kwok/cmd/kwok
build k8s "$k8s_ldflags" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
  kubectl=k8s.io/kubernetes/cmd/kubectl
echo "$bin"
