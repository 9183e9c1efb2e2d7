#!/usr/bin/env bash
# Installs the Debian packages that ferry's tests and benchmarks drive, only if missing:
# chromium (the HTML report is checked in headless chromium), prometheus (the Prometheus
# metric source is tested against a real one scraping the proxy) and, with --bench, wrk.
# Idempotent and non-interactive; runs apt-get as root, or through sudo otherwise.
set -euo pipefail
pkgs=()
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
command -v prometheus >/dev/null 2>&1 || pkgs+=(prometheus)
if [[ "${1:-}" == "--bench" ]] && ! command -v wrk >/dev/null 2>&1; then
	pkgs+=(wrk)
fi
[[ ${#pkgs[@]} -eq 0 ]] && exit 0
sudo=""
[[ "$(id -u)" -ne 0 ]] && sudo="sudo -n"
echo "==> installing ${pkgs[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq </dev/null
$sudo apt-get install -y -qq "${pkgs[@]}" </dev/null >/dev/null
