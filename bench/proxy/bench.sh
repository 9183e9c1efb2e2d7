#!/usr/bin/env bash
# make bench-proxy: ferry's proxy against the backend directly, HAProxy and nginx with
# wrk on loopback. Installs what it needs from Debian when missing. Extra arguments go
# to the benchmark program (e.g. -duration 20s -runs 3 -backend raw).
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v haproxy >/dev/null || need+=(haproxy)
command -v nginx >/dev/null || need+=(nginx)
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq "${need[@]}" </dev/null >/dev/null
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "bench-proxy: needs at least 2 CPUs (one for the proxy, one for wrk and the backend)" >&2
  exit 1
fi
# Many keep-alive connections need many file descriptors (wrk, proxy, backend).
ulimit -Hn 200000 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
make build >/dev/null
go build -o bin/proxy-bench ./bench/proxy
exec bin/proxy-bench -ferry bin/ferry "$@"
