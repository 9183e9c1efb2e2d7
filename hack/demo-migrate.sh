#!/usr/bin/env bash
# The migration demo, on loopback: a legacy pool of three local servers, one local
# server standing for the Kubernetes ingress, ferry proxy in front of them and steady
# traffic through it. First a healthy migration 1 → 5 → 10 → 50 → 100 %; then a second
# one in which the Kubernetes side answers 2 % errors from the 5 % step on: ferry
# aborts on its own and sends everything back to legacy.
set -euo pipefail
cd "$(dirname "$0")/.."
ferry=$PWD/bin/ferry
[[ -x $ferry ]] || make build >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/demo-traffic" ./examples/demo-traffic
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

legacy_urls=()
for i in 1 2 3; do
	port=$(free_port)
	"$work/demo-traffic" backend -listen "127.0.0.1:$port" -name "legacy-$i" -latency 8ms-16ms -errors-file "$work/legacy-errors" & pids+=($!)
	legacy_urls+=("http://127.0.0.1:$port")
done
echo 0.001 >"$work/legacy-errors"
kube_port=$(free_port)
"$work/demo-traffic" backend -listen "127.0.0.1:$kube_port" -name kubernetes-ingress -latency 7ms-15ms -errors-file "$work/kube-errors" & pids+=($!)
echo 0.001 >"$work/kube-errors"

proxy_port=$(free_port)
admin_port=$(free_port)
cat >"$work/proxy.yaml" <<YAML
listen: 127.0.0.1:$proxy_port
admin:
  listen: 127.0.0.1:$admin_port
weights:
  kubernetes: 0
stats:
  bucket: 1s
backends:
  legacy:
    servers: [$(IFS=,; echo "${legacy_urls[*]}")]
  kubernetes:
    servers: [http://127.0.0.1:$kube_port]
YAML
"$ferry" proxy run --config "$work/proxy.yaml" 2>"$work/proxy.log" & pids+=($!)
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$admin_port") 2>/dev/null && break; sleep 0.1; done
"$work/demo-traffic" load -url "http://127.0.0.1:$proxy_port/" -rate 2000 & pids+=($!)

cat >"$work/migration.yaml" <<YAML
name: shop
steps:                       # the default 1, 5, 10, 50, 100 %, held briefly for the demo
- {weight: 1, hold: 2s}
- {weight: 5, hold: 2s}
- {weight: 10, hold: 2s}
- {weight: 50, hold: 2s}
- {weight: 100, hold: 2s}
router:
  proxy: {admin: "http://127.0.0.1:$admin_port"}
metrics:
  proxy: {}
interval: 500ms
warmup: 2s
deadline: 2m
gates:
  errorRate: {minAbsolute: 0.01}   # catch +1 point or worse
  latency: {minRequests: 100}
YAML

echo "==> legacy pool: ${legacy_urls[*]}; kubernetes: http://127.0.0.1:$kube_port; proxy: http://127.0.0.1:$proxy_port at 2000 req/s"
echo "==> ferry migrate start: a healthy migration"
"$ferry" migrate start --plan "$work/migration.yaml" >/dev/null
"$ferry" migrate status --plan "$work/migration.yaml"
echo
echo "==> ferry proxy stats: per side over the last 10s"
"$ferry" proxy stats --admin "http://127.0.0.1:$admin_port" --window 10s || true

echo
echo "==> ferry migrate start again: this time the Kubernetes side answers 2% errors from the 5% step"
"$ferry" migrate start --plan "$work/migration.yaml" >/dev/null &
run=$!
# Wait until this run (not the completed one before it) reaches the 5 % step.
until "$ferry" migrate status --plan "$work/migration.yaml" -o json 2>/dev/null | tr -d ' \n' | grep -q '"phase":"running","step":[1-9]'; do sleep 0.2; done
echo 0.02 >"$work/kube-errors"
echo "    (2% errors switched on at the 5% step)"
set +e
wait "$run"
code=$?
set -e
"$ferry" migrate status --plan "$work/migration.yaml"
echo
echo "ferry migrate exited with $code (3: aborted); the proxy's weights now:"
"$ferry" proxy weights --admin "http://127.0.0.1:$admin_port"
