#!/usr/bin/env bash
# Ingest under concurrency: ONE reading per HTTP request from 1, 8, ... concurrent clients, each
# its own keep-alive connection on loopback, each posting its next reading as soon as the last is
# answered, to a release build in demo mode: the clients spread over the demo's milling machines,
# each with its active model, so every reading is scored live (bench/ingest_concurrency.py).
# Per client count: readings/s (2xx only), p50/p99 latency, errors and the speed-up over one
# client; next to it, measured in the same run from the same clients and processes, GET /healthz
# (the client's and the HTTP round trip's ceiling: a figure near it measures the client, not
# icantkube). Then every reading answered 2xx must be stored: the mills' reading_count before and
# after each run, or the bench fails. Ends with the goal (≥ 10,000 readings/s from 8 clients
# with p99 < 20 ms, and 8 clients ≥ 4× one): met or not met.
#   bench/ingest-concurrency.sh [SECONDS] [CLIENTS...]
# SECONDS per run (default 10), after 1 s of warm-up; CLIENTS defaults to `1 8`, and 1 is added
# when missing (the speed-ups are over it). CLIENTS_PER_PROCESS (default 8): connections per
# client process; more clients, more processes. ICANTKUBE_BIN=path/to/icantkube runs that binary
# instead of building a release one. The server listens on free ports (app and metrics), so a
# running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
seconds=${1:-10}
levels=(1)
for clients in "${@:2}"; do
  [[ $clients =~ ^[1-9][0-9]*$ ]] || { echo "CLIENTS must be positive whole numbers, not $clients" >&2; exit 2; }
  [[ " ${levels[*]} " == *" $clients "* ]] || levels+=("$clients")
done
[ $# -ge 2 ] || levels=(1 8)
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "SECONDS must be a number, not $seconds" >&2; exit 2; }
binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1), Python $(python3 -c 'import sys; print(sys.version.split()[0])') (the client)"

# An hour between demo readings: the demo's own stream stays idle during the run (its first
# tick is at start-up, before the counts are read). The API does not need the site bundle, only
# a site root that exists.
token=bench
DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_DEMO_INTERVAL_MS=3600000 \
  ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=$token RUST_LOG=warn LEPTOS_SITE_ROOT="$work" \
  icantkube_start "$binary" "$work/icantkube.log" --demo

# The demo's machines: its mills take the readings. Demo mode trains its models in the
# background at first start and promotes them machine by machine: waits for every machine's, so
# no training competes with the measurement and every mill scores.
machines=$(curl -sf "$icantkube_url/api/v1/machines?limit=1000" | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print(m["name"], m["profile"])')
mills=$(awk '$2 == "ai4i2020" && $1 ~ /^mill-/ { print $1 }' <<<"$machines" | paste -sd, -)
[ -n "$mills" ] || { echo "the demo has no milling machines (ai4i2020 mill-*): $machines" >&2; exit 1; }
started=$SECONDS
while read -r machine _; do
  icantkube_wait_for_model "$machine" "$work/icantkube.log" >/dev/null
done <<<"$machines"
echo "demo models active for all $(wc -l <<<"$machines") demo machines after $((SECONDS - started)) s; the clients post to $mills"

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
ICANTKUBE_INGEST_TOKEN=$token python3 bench/ingest_concurrency.py "${icantkube_url##*:}" "$icantkube_pid" \
  "$seconds" "$mills" "${levels[@]}"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
