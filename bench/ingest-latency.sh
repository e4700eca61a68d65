#!/usr/bin/env bash
# Ingest latency: ONE reading per HTTP request, posted over one keep-alive connection on loopback
# to a release build in demo mode, next to the peers measured in the same run and on the same
# connection: the same request to a machine without a model (so the difference is the cost of
# live inference: finding the active model, scoring, and storing the prediction in the same
# transaction), and GET /healthz (the HTTP round-trip floor, the Python client's own
# overhead included). The three are timed in alternating blocks, so drift hits each alike.
#   bench/ingest-latency.sh [REQUESTS] [BLOCK]
# ICANTKUBE_BIN=path/to/icantkube runs that binary instead of building a release one. The
# server listens on free ports (app and metrics), so a running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
requests=${1:-2000}
block=${2:-200}
warmup=100
binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# An hour between demo readings: the demo's own stream stays idle during the run. The API does
# not need the site bundle, only a site root that exists. Demo seeding happens before the
# listener is bound.
DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_DEMO_INTERVAL_MS=3600000 \
  ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=bench RUST_LOG=warn LEPTOS_SITE_ROOT="$work" \
  icantkube_start "$binary" "$work/icantkube.log" --demo
base=$icantkube_url
alive() {
  kill -0 "$icantkube_pid" 2>/dev/null || {
    echo "icantkube exited; the last lines of its log:" >&2
    tail -n 20 "$work/icantkube.log" >&2
    exit 1
  }
}

# Demo mode trains its models in the background at first start: AI4I (the mills) first, then
# turbofan (the engines). Waits for both, so no training competes with the measurement.
active_model() {
  curl -sf "$base/api/v1/machines/$1" |
    python3 -c 'import json, sys; v = json.load(sys.stdin).get("active_model_version_id"); print("" if v is None else v)'
}
started=$(date +%s%N)
for machine in mill-01 engine-01; do
  version=""
  while [ -z "$version" ]; do
    alive
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    if [ "$elapsed" -gt 300000 ]; then
      echo "$machine has no active model after 300 s" >&2
      exit 1
    fi
    version=$(active_model "$machine" || true)
    [ -n "$version" ] || sleep 0.5
  done
  elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
  echo "demo model for $machine active (version id $version) after $(python3 -c "print(f'{$elapsed/1000:.1f}')") s"
done

curl -sf -o /dev/null -u admin:bench -H 'content-type: application/json' \
  -d '{"name":"plain","profile":"ai4i2020","attributes":{"type":"M"}}' "$base/api/v1/machines"

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/ingest_latency.py "${icantkube_url##*:}" "$requests" "$block" "$warmup"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
