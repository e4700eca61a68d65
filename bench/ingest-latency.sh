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
# Demo mode trains its models in the background at first start: AI4I (the mills) first, then
# turbofan (the engines). Waits for both, so no training competes with the measurement.
started=$SECONDS
for machine in mill-01 engine-01; do
  version=$(icantkube_wait_for_model "$machine" "$work/icantkube.log")
  echo "demo model for $machine active (version id $version) after $((SECONDS - started)) s"
done

curl -sf -o /dev/null -u admin:bench -H 'content-type: application/json' \
  -d '{"name":"plain","profile":"ai4i2020","attributes":{"type":"M"}}' "$base/api/v1/machines"

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/ingest_latency.py "${icantkube_url##*:}" "$requests" "$block" "$warmup"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
