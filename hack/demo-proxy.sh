#!/usr/bin/env bash
# The embedded proxy at work: three legacy "VMs" of the example app and one process
# standing for the Kubernetes ingress, all on loopback, with ferry's proxy in front at
# 10 % Kubernetes. Sends traffic, shows per-side stats, stickiness and a forced side,
# and stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

used_ports=" "
# free_port sets $port to a loopback port nothing listens on and not handed out before.
free_port() {
  while :; do
    port=$((20000 + RANDOM % 40000))
    case "$used_ports" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then used_ports+="$port "; return; fi
  done
}
wait_http() {
  for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "demo-proxy: nothing answers at $1" >&2; return 1
}

echo "==> building bin/ferry and bin/shop-app"
make -s build
go build -o bin/shop-app ./examples/shop/app

echo "==> starting the legacy pool (3 VMs of the example app) and the Kubernetes ingress"
legacy=()
for i in 1 2 3; do
  free_port
  bin/shop-app -listen "127.0.0.1:$port" -side legacy -name "vm-$i" 2>>"$work/apps.log" &
  pids+=($!)
  legacy+=("http://127.0.0.1:$port")
done
free_port; k8s_port=$port
bin/shop-app -listen "127.0.0.1:$k8s_port" -side kubernetes -name ingress 2>>"$work/apps.log" &
pids+=($!)
for u in "${legacy[@]}" "http://127.0.0.1:$k8s_port"; do wait_http "$u/healthz"; done

free_port; proxy_port=$port
free_port; admin_port=$port
config="$work/proxy.yaml"
force_secret="demo-tester-$RANDOM$RANDOM$RANDOM"
cat >"$config" <<YAML
listen: 127.0.0.1:$proxy_port
admin:
  listen: 127.0.0.1:$admin_port
  token: demo-$RANDOM$RANDOM
weights:
  kubernetes: 10%
force:                      # testers may pick a side, with the secret
  enabled: true
  secret: $force_secret
backends:
  legacy:
    servers: [${legacy[0]}, ${legacy[1]}, ${legacy[2]}]
    healthCheck: {path: /healthz, interval: 1s, timeout: 500ms}
  kubernetes:
    servers: [http://127.0.0.1:$k8s_port]
    hostHeader: shop.internal
    healthCheck: {path: /healthz, interval: 1s, timeout: 500ms}
stats:
  bucket: 1s
YAML
echo "==> ferry proxy check"
bin/ferry proxy check --config "$config"
echo "==> starting ferry proxy run on 127.0.0.1:$proxy_port (admin API on 127.0.0.1:$admin_port)"
bin/ferry proxy run --config "$config" 2>"$work/proxy.log" &
proxy_pid=$!
pids+=($proxy_pid)
wait_http "http://127.0.0.1:$admin_port/healthz"
url="http://127.0.0.1:$proxy_port"

echo "==> 1000 requests from new visitors (no cookies)"
for _ in $(seq 1 10); do
  # 100 requests per curl, over one keep-alive connection
  curl -s -o /dev/null -w '%{http_code}\n' $(for j in $(seq 1 100); do printf -- "-o /dev/null $url/products/%d " "$j"; done) >>"$work/codes"
done
echo "    answers: $(sort "$work/codes" | uniq -c | tr -s ' ' | tr '\n' ' ')"
echo
bin/ferry proxy stats --config "$config" --window 1m
echo
echo "==> one visitor with a cookie jar stays on its side (a Rails session is not bounced)"
for _ in 1 2 3 4 5; do
  curl -s -c "$work/jar" -b "$work/jar" "$url/cart" | sed 's/^/    /'
done
echo "==> a tester forces Kubernetes with the X-Ferry-Side header and the secret (kept out of the gates' stats)"
curl -s -H "X-Ferry-Side: kubernetes:$force_secret" "$url/checkout" | sed 's/^/    /'
echo
echo "==> ferry proxy weights set --kubernetes-weight 50%, then the same visitor again"
bin/ferry proxy weights set -f "$config" --kubernetes-weight 50%
curl -s -c "$work/jar" -b "$work/jar" "$url/cart" | sed 's/^/    /'
echo
bin/ferry proxy backends --config "$config"
echo
echo "==> stopping the proxy (SIGTERM drains in-flight requests) and the apps"
kill -TERM "$proxy_pid"
wait "$proxy_pid"
grep -c 'level=' "$work/proxy.log" >/dev/null && tail -1 "$work/proxy.log" | sed 's/^/    /'
echo "Done in $((SECONDS - start))s: 3 legacy VMs and the Kubernetes ingress behind ferry's proxy at 10 %, per-side stats above; no process left behind."
