#!/usr/bin/env bash
# Soak: a release build in demo mode (its models trained at first start) takes RATE readings/s
# for SECONDS from bench/soak_driver.py: batches of 50 on a fixed timetable, four keep-alive
# clients, ten machines of their own (eight milling machines and two run-to-failure engines,
# each given the demo's active model, so every reading is scored live). It then checks that
# every reading a 2xx acknowledged is in the database (readings lost, must be 0) and prints
# latency p50/p99 and the server's RSS per 10 s window, with the RSS slope so "flat" is a
# figure. The peer, measured in the same run by the same driver on the same timetable: a
# minimal Python ingest server (bench/soak_peer.py) doing icantkube's storage work (same schema,
# pragmas, seq check and batch transaction) without schema checks or scoring.
#   bench/soak.sh [SECONDS] [RATE] [PEER_SECONDS]
# PEER_SECONDS defaults to SECONDS. ICANTKUBE_BIN=path/to/icantkube runs that binary instead of
# building a release one. The servers listen on free ports, so a running icantkube does not
# matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
source scripts/lib/bench.sh
seconds=${1:-300}
rate=${2:-500}
peer_seconds=${3:-$seconds}
batch=50
clients=4
fleet="soak-mill-01:ai4i2020-L,soak-mill-02:ai4i2020-L,soak-mill-03:ai4i2020-M,soak-mill-04:ai4i2020-H"
fleet+=",soak-mill-05:ai4i2020-L,soak-mill-06:ai4i2020-M,soak-mill-07:ai4i2020-L,soak-mill-08:ai4i2020-H"
fleet+=",soak-engine-01:turbofan,soak-engine-02:turbofan"
binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { bench_peer_stop; icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1), $(python3 -c 'import sqlite3, sys; print("Python", sys.version.split()[0] + ", SQLite", sqlite3.sqlite_version)') (the peer and the driver)"

# An hour between demo readings: the demo's own stream stays idle during the run. The API does
# not need the site bundle, only a site root that exists.
DATABASE_URL="sqlite://$work/icantkube.db" ICANTKUBE_DEMO_INTERVAL_MS=3600000 \
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
# turbofan (the engines). Waits for both, so no training competes with the soak.
declare -A model
started=$SECONDS
for machine in mill-01 engine-01; do
  version=$(icantkube_wait_for_model "$machine" "$work/icantkube.log")
  model[$machine]=$version
  echo "demo model for $machine active (version id $version) after $((SECONDS - started)) s"
done

# The soak's own machines, each with the demo's model of its profile.
for entry in ${fleet//,/ }; do
  name=${entry%%:*}
  kind=${entry#*:}
  if [ "$kind" = turbofan ]; then
    body="{\"name\":\"$name\",\"profile\":\"turbofan\"}"
    version=${model[engine-01]}
  else
    body="{\"name\":\"$name\",\"profile\":\"ai4i2020\",\"attributes\":{\"type\":\"${kind#ai4i2020-}\"}}"
    version=${model[mill-01]}
  fi
  curl -sf -o /dev/null -u admin:bench -H 'content-type: application/json' -d "$body" "$base/api/v1/machines"
  curl -sf -o /dev/null -u admin:bench -X PUT -H 'content-type: application/json' \
    -d "{\"model_version_id\":$version,\"reason\":\"soak\"}" "$base/api/v1/machines/$name/model"
done

echo
echo "icantkube: $rate readings/s for $seconds s (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 bench/soak_driver.py "${base##*:}" "$icantkube_pid" "$seconds" "$rate" "$batch" "$clients" \
  soak "$fleet" "$work/icantkube.json"
alive
icantkube_stop

echo "peer (bench/soak_peer.py): $rate readings/s for $peer_seconds s (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
port=$(icantkube_free_ports 1)
python3 bench/soak_peer.py "$work/peer.db" "$port" server/migrations/sqlite/*_initial.sql "$fleet" &
peer=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  kill -0 "$peer" 2>/dev/null || { echo "the peer exited during start-up" >&2; exit 1; }
  sleep 0.1
done
python3 bench/soak_driver.py "$port" "$peer" "$peer_seconds" "$rate" "$batch" "$clients" \
  soak "$fleet" "$work/peer.json"
bench_peer_stop

python3 bench/soak_report.py icantkube "$work/icantkube.json" "$work/icantkube.db" \
  "peer (Python http.server + sqlite3)" "$work/peer.json" "$work/peer.db"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
