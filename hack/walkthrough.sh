#!/usr/bin/env bash
# make demo: the README's walkthrough, run as written. A Laravel app that ran on EC2
# behind Capistrano (examples/payroll) moves to the local control plane: its .env and
# crontab imported, linted, deployed, shipped again and rolled back, load-tested side by
# side, put behind ferry's proxy and migrated 1 → 5 → 10 → 50 → 100 %.
#
# The commands between "walkthrough: begin" and "walkthrough: end" are the README's
# walkthrough block, line for line: internal/cli's TestWalkthroughScriptMatchesREADME
# fails when the two differ. Change both together.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "building bin/ferry"
make -s build
export PATH=$PWD/bin:$PATH

# The walkthrough starts processes in the background (stand-in servers, the proxy,
# steady traffic); stop them however the script ends. The cluster keeps running.
cleanup() {
  local pids
  pids=$(jobs -p)
  [[ -z $pids ]] || kill $pids 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# A fresh app each run: forget what an earlier run left in the cluster.
forget_earlier_run() {
  local kubectl
  kubectl=$(bash hack/build-controlplane.sh)/kubectl
  "$kubectl" delete namespace payroll --ignore-not-found --wait=true >/dev/null
}

# walkthrough: begin
# 1. A local Kubernetes control plane in the background: etcd, kube-apiserver,
#    controller-manager, scheduler and kwok with 10 fake nodes.
KUBECONFIG=$(ferry dev cluster up)
export KUBECONFIG
# walkthrough: end
forget_earlier_run
# walkthrough: begin

# Work on a copy of the example: legacy/ is what the EC2 servers had. demo-traffic
# stands in, on loopback, for what the local control plane has not got: the legacy
# EC2 servers, the cluster's ingress (kwok's pods serve nothing) and users.
work=$(mktemp -d)
go build -o "$work/demo-traffic" ./examples/demo-traffic
cp -r examples/payroll/. "$work" && cd "$work"
ls legacy legacy/config legacy/shared

# 2. The legacy .env becomes a ConfigMap and a Secret (its values never printed).
ferry import env legacy/shared/.env --name payroll -n payroll \
  --secret-out k8s/secret.yaml > k8s/configmap.yaml

# 3. The deploy user's crontab becomes suspended CronJobs, in the server's zone.
ferry import crontab legacy/crontab --image registry.example.com/payroll/web:2026.11.21-4f3c2a1 \
  --time-zone Asia/Tokyo --container web --env-from-configmap payroll-env \
  --env-from-secret payroll-secrets --cpu 250m --memory 512Mi -n payroll > k8s/cronjobs.yaml

# 4. ferry.yaml: where the manifests are, which containers get the release image, the
#    pre-deploy `php artisan migrate`. (For your own app, `ferry init` writes one.)
cat ferry.yaml

# 5. Lint against the legacy environment: every .env variable and Capistrano linked
#    file must reach the pods.
ferry lint --env-file legacy/shared/.env --capistrano legacy/config/deploy.rb

# 6. Deploy, ship again, roll back.
ferry deploy --create-namespace --image registry.example.com/payroll/web:2026.11.21-4f3c2a1
ferry deploy --image registry.example.com/payroll/web:2026.11.28-9e8d7c6
ferry rollback
ferry history
ferry status

# 7. Two legacy servers and the Kubernetes ingress (stand-ins), then a load test of both
#    sides side by side: same requests, same rate, same moment.
./demo-traffic backend -listen 127.0.0.1:18081 -name ec2-1 -latency 15ms-25ms &
./demo-traffic backend -listen 127.0.0.1:18082 -name ec2-2 -latency 15ms-25ms &
./demo-traffic backend -listen 127.0.0.1:18083 -name k8s-ingress -latency 10ms-20ms &
for port in 18081 18082 18083; do until curl -s -o /dev/null 127.0.0.1:$port; do sleep 0.1; done; done
ferry loadtest --legacy http://127.0.0.1:18081 --kubernetes http://127.0.0.1:18083 \
  --path /up --path /payroll/runs/42 --rate 100 --duration 10s \
  --html loadtest.html

# 8. ferry's proxy in front of both sides, all traffic on legacy for now.
cat > proxy.yaml <<'YAML'
listen: 127.0.0.1:18080
admin:
  listen: 127.0.0.1:18090
weights:
  kubernetes: 0%
stats:
  bucket: 1s
backends:
  legacy:
    servers: [http://127.0.0.1:18081, http://127.0.0.1:18082]
  kubernetes:
    servers: [http://127.0.0.1:18083]
    hostHeader: payroll.example.com
YAML
ferry proxy check -f proxy.yaml
ferry proxy run -f proxy.yaml 2> proxy.log &
until curl -fs http://127.0.0.1:18090/healthz > /dev/null; do sleep 0.2; done
./demo-traffic load -url http://127.0.0.1:18080/ -rate 1000 &

# 9. Migrate: 1 → 5 → 10 → 50 → 100 %, each step judged against legacy; the CronJobs
#    take over from the crontab at the end.
cat > migration.yaml <<'YAML'
name: payroll
steps:                       # the default ladder, held briefly for the walkthrough
- {weight: 1, hold: 2s}
- {weight: 5, hold: 2s}
- {weight: 10, hold: 2s}
- {weight: 50, hold: 2s}
- {weight: 100, hold: 2s}
router:
  proxy: {admin: "http://127.0.0.1:18090"}
metrics:
  proxy: {}
gates:
  errorRate: {minAbsolute: 0.01}
  latency: {minRequests: 100}
interval: 500ms
warmup: 2s
deadline: 3m
cronJobs:
  namespace: payroll
  selector: app.kubernetes.io/component=cron
  legacyCrontab: legacy/crontab
YAML
ferry migrate start -f migration.yaml
ferry migrate status -f migration.yaml
ferry proxy weights -f proxy.yaml

# Stop the stand-ins and the proxy.
kill $(jobs -p)
# walkthrough: end

echo
echo "Done in $((SECONDS - start))s: payroll imported, linted, deployed, rolled back, load-tested and migrated."
echo "Its files are in $work (loadtest.html is the load test's report)."
echo "The cluster keeps running: ferry status -n payroll --app payroll, with KUBECONFIG=$KUBECONFIG"
echo "Stop it and leave nothing behind: bin/ferry dev cluster down   (or: make demo-down)"
