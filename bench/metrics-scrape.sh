#!/usr/bin/env bash
# One Prometheus scrape of /metrics on a fleet of MACHINES (1,000) milling machines, each with an
# active model and a prediction: time, bytes and series, at the default per-machine cap of 200
# and at a cap of MACHINES (the same database, the server restarted), next to the peer measured
# in the same run: Python's prometheus_client serving the same families, series and values
# (parsed from icantkube's own scrape) through its start_http_server. The peer serves them from
# memory; icantkube reads the fleet from SQLite and /proc at every scrape, as in production.
#   bench/metrics-scrape.sh [MACHINES] [REPEATS]
# The Python side lives in a virtualenv, ICANTKUBE_BENCH_VENV (default
# ~/.cache/icantkube/bench-venv, shared with bench/models.sh), made on first use.
# ICANTKUBE_BIN=path/to/icantkube runs that binary instead of building a release one. The
# server listens on free ports (app and metrics), so a running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
source scripts/lib/bench.sh
machines=${1:-1000}
repeats=${2:-50}
warmup=5
caps=(200 "$machines")
# A fleet of 200 or fewer exports every machine at the default cap already.
[ "$machines" -gt 200 ] || caps=("$machines")

python=$(bench_python prometheus_client==0.26.0)

binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { bench_peer_stop; icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

# icantkube on the bench database with the metrics cap $1; sets base and metrics_url.
# No demo fleet; the API and forms need no site bundle, only a site root that exists.
start_server() {
  DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_METRICS_MACHINE_CAP="$1" \
    ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=bench RUST_LOG=warn \
    LEPTOS_SITE_ROOT="$work" icantkube_start "$binary" "$work/icantkube-cap-$1.log"
  base=$icantkube_url
  metrics_url=$icantkube_metrics_url
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1), $("$python" -c 'import sys; from importlib.metadata import version; print("Python", sys.version.split()[0] + ", prometheus_client", version("prometheus_client"))')"

# A training set in the AI4I 2020 layout and one reading per machine, both drawn from the data
# set's published generating process, so some machines land in a failure region (HDF, PWF,
# OSF) and the fleet gets every status.
python3 bench/metrics_scrape_data.py "$machines" "$work/train.csv" "$work/fleet.jsonl"

start_server "${caps[0]}"
setup_started=$(date +%s%N)

# One model for the profile, trained the way an admin does: sign in, upload the data set, start
# a training run (the local runner, a child `icantkube train --run-id N`), wait for it.
jar="$work/cookies"
icantkube_train_model "$jar" "$work/train.csv" "$work/icantkube-cap-${caps[0]}.log"
version=$(curl -sf -b "$jar" "$base/models" | grep -o 'data-version="[0-9]*"' | head -1 | cut -d'"' -f2)
[ -n "$version" ] || { echo "no model version on /models after training" >&2; exit 1; }

# The fleet through the JSON API over one keep-alive connection: register each machine, make
# the version its active model, post its reading (scored as it is stored). Then checks that
# every machine has the model, a probability, a status and a latest reading.
python3 bench/metrics_scrape_fleet.py "${base##*:}" "$work/fleet.jsonl" "$version"
echo "setup (the training run included): $(( ($(date +%s%N) - setup_started) / 1000000 )) ms"

# The peer: prometheus_client's exposition of the families of icantkube's scrape in $1, with the
# same label sets and values, rebuilt at every scrape by a custom collector (as icantkube builds
# its registry at every scrape), served by start_http_server on port $2.
start_peer() {
  "$python" bench/metrics_scrape_peer.py "$1" "$2" &
  peer=$!
  peer_url="http://127.0.0.1:$2/metrics"
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$peer_url" && return
    kill -0 "$peer" 2>/dev/null || { echo "the prometheus_client peer exited during start-up" >&2; exit 1; }
    sleep 0.1
  done
  echo "the prometheus_client peer not answering after 10 s" >&2
  exit 1
}

# One GET per curl process, so each scrape opens its own connection, as prometheus_client's
# HTTP/1.0 server needs anyway; asking for gzip as Prometheus does (both servers compress).
# Prints the time and the bytes on the wire; the body is saved decompressed.
scrape() { curl -sf --compressed -o "$2" -w '%{time_total} %{size_download}\n' "$1"; }

echo
echo "One GET /metrics per curl process (a new loopback connection each, Accept-Encoding: gzip"
echo "as Prometheus sends it), $repeats scrapes after $warmup warm-up ones, icantkube and the peer"
echo "alternating; time is curl's time_total; bytes is the text, wire what was sent for it."
results="$work/results.txt"
for cap in "${caps[@]}"; do
  if [ "$cap" != "${caps[0]}" ]; then
    icantkube_stop
    start_server "$cap"
  fi
  scrape "$metrics_url" "$work/icantkube-$cap.txt" >/dev/null
  start_peer "$work/icantkube-$cap.txt" "$(icantkube_free_ports 1)"
  for _ in $(seq "$warmup"); do
    scrape "$metrics_url" /dev/null >/dev/null
    scrape "$peer_url" /dev/null >/dev/null
  done
  : >"$work/times-icantkube" && : >"$work/times-peer"
  for _ in $(seq "$repeats"); do
    scrape "$metrics_url" "$work/icantkube-$cap.txt" >>"$work/times-icantkube"
    scrape "$peer_url" "$work/peer-$cap.txt" >>"$work/times-peer"
  done
  bench_peer_stop
  for who in icantkube peer; do
    body="$work/$who-$cap.txt"
    echo "$cap $who $(grep -vc '^#' "$body") $(grep -c 'machine="' "$body") $(wc -c <"$body")" \
      "$(tail -1 "$work/times-$who" | cut -d' ' -f2) $(cut -d' ' -f1 "$work/times-$who" | tr '\n' ' ')" >>"$results"
  done
done

python3 bench/metrics_scrape_report.py "$results"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
