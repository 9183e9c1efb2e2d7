#!/usr/bin/env bash
# A short parity load test: two local HTTP servers stand for the legacy side and the
# Kubernetes side; ferry loadtest drives both at the same rate with a replayed access
# log, compares them with an APM baseline and writes an HTML report. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x bin/ferry ]] || make build >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# A small HTTP server: answers every request after a delay drawn between min and max ms.
cat >"$work/server.go" <<'GO'
package main

import (
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	lo, _ := strconv.Atoi(os.Args[2])
	hi, _ := strconv.Atoi(os.Args[3])
	http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(lo+rand.IntN(hi-lo+1)) * time.Millisecond)
		w.Write([]byte("ok\n"))
	}))
}
GO
go build -o "$work/server" "$work/server.go"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
legacy_port=$(free_port)
kube_port=$(free_port)
"$work/server" "127.0.0.1:$legacy_port" 8 30 & pids+=($!)
"$work/server" "127.0.0.1:$kube_port" 6 26 & pids+=($!)
for port in "$legacy_port" "$kube_port"; do
	for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

report="${TMPDIR:-/tmp}/ferry-loadtest-demo/report.html"
mkdir -p "$(dirname "$report")"
echo "==> ferry loadtest: legacy http://127.0.0.1:$legacy_port vs kubernetes http://127.0.0.1:$kube_port"
echo "    replaying internal/loadtest/accesslog/testdata/shop-nginx.log at 60 req/s per side for 5s (writes skipped),"
echo "    compared with the APM baseline internal/baseline/testdata/shop-apm.csv"
echo
status=0
bin/ferry loadtest --legacy "http://127.0.0.1:$legacy_port" --kubernetes "http://127.0.0.1:$kube_port" \
	--log internal/loadtest/accesslog/testdata/shop-nginx.log --rate 60 --duration 5s \
	--baseline internal/baseline/testdata/shop-apm.csv --min-samples 30 --html "$report" || status=$?
echo
echo "HTML report (open it in a browser): $report"
echo "ferry loadtest exited with $status (0 pass, 1 a verdict other than pass or an error, 2 a usage error)"
