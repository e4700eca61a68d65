#!/usr/bin/env bash
# Issue 15's figures in one table, each next to its baseline measured in the same run: the
# fleet page, /models, /api/v1/machines and a /metrics scrape at 10,000 machines against 10 (and
# 1,000 between), in time (wrk) and bytes (brotli and raw); the machine page of a machine with
# 1,000,000 readings against a new machine's; single-reading ingest with live inference from 8
# clients against 1 (bench/ingest_concurrency.py); the server's resident memory over all of it
# (and demo mode's start-up, bench/demo-memory.sh); the first and repeat load of the fleet page
# (bench/page-weight.sh). Ends with the goals met or not met.
#   bench/scale.sh [--quick] [--fleets 10,1000,10000] [--readings 1000000] [--seconds 5] [--no-demo] [--keep] [--lighthouse]
# --quick: fleets of 10, 100 and 1,000, 100,000 readings, 2 s per load. The first fleet is the
# baseline, the last the one held to the goals. One server on one fresh SQLite file takes
# everything but demo mode: the fleet grows in place, so its memory is sampled throughout.
# --keep leaves the work folder (database, logs, each tool's output).
# --lighthouse also scores every page with Lighthouse at the largest fleet (tests/browser/lighthouse.mjs).
# Release build and site (scripts/build-site.sh); ICANTKUBE_BIN=path/to/icantkube measures that
# binary instead, with the site in ICANTKUBE_SITE (a site root; without it the page weight is
# not measured). Free ports, so a running icantkube does not matter. Debian's wrk is installed
# when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh

fleets=10,1000,10000
readings=1000000
seconds=5
ingest_seconds=5
demo=1
lighthouse=""
keep=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) fleets=10,100,1000 readings=100000 seconds=2 ingest_seconds=2 ;;
    --fleets) fleets=$2; shift ;;
    --readings) readings=$2; shift ;;
    --seconds) seconds=$2 ingest_seconds=$2; shift ;;
    --no-demo) demo="" ;;
    --keep) keep=1 ;;
    --lighthouse) lighthouse=1 ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -r -a sizes <<<"$fleets"
for n in "${sizes[@]}" "$readings"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "fleet sizes and readings must be positive whole numbers, not $n" >&2; exit 2; }
done
[ "${#sizes[@]}" -ge 2 ] || { echo "--fleets needs at least two sizes (a baseline and a fleet)" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "--seconds must be a positive whole number, not $seconds" >&2; exit 2; }
largest=${sizes[-1]}
token=bench-ingest-token-0123456789
run_started=$SECONDS

if ! command -v wrk >/dev/null; then
  echo "installing Debian's wrk" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

work=$(mktemp -d)
sampler=""
reported=""
cleanup() {
  local status=$?
  if [ "$status" != 0 ] && [ -z "$reported" ] && [ -s "$work/icantkube.log" ]; then
    echo "failed (status $status); the last lines of the server's log:" >&2
    tail -n 15 "$work/icantkube.log" >&2
  fi
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  icantkube_stop
  if [ -n "$keep" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The site the pages link, served from disk: built here with the binary into a site root of
# this run's own (another build in the same tree empties target/site first), or given.
if [ -n "${ICANTKUBE_BIN:-}" ]; then
  binary=$ICANTKUBE_BIN
  site=${ICANTKUBE_SITE:-}
else
  site="$work/site"
  if [ -x scripts/build-site.sh ]; then
    LEPTOS_SITE_ROOT=$site scripts/build-site.sh --release >&2
  else
    LEPTOS_SITE_ROOT=$site cargo leptos build --release >&2
  fi
  # cargo-leptos built the binary with the site (scripts/run.sh runs it so). A copy: another
  # build replaces it.
  cp "$CARGO_TARGET_DIR/release/icantkube" "$work/icantkube"
  binary="$work/icantkube"
fi
[ -x "$binary" ] || { echo "$binary is not an executable" >&2; exit 1; }
echo "build: $((SECONDS - run_started)) s" >&2
run_started=$SECONDS
site_shown=${site:-none}
if [ -z "$site" ]; then
  site="$work/empty-site"
  mkdir -p "$site"
  echo "no site (ICANTKUBE_SITE unset): pages render, the page weight is not measured" >&2
fi

{
  echo "$(date +%F): $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "binary: ${ICANTKUBE_BIN:-release build of $(git log -1 --format='%h %cs')$(git diff --quiet HEAD || echo ' with uncommitted changes')}; site: $site_shown"
  echo "$(wrk -v 2>&1 | head -1); Python $(python3 -c 'import sys; print(sys.version.split()[0])')"
} | tee "$work/about.txt"

python3 bench/metrics_scrape_data.py "$largest" "$work/train.csv" "$work/fleet.jsonl"

phase() { echo "$1" >"$work/phase"; echo "[$((SECONDS - run_started)) s] $1" >&2; }
phase "start-up"
DATABASE_URL="sqlite://$work/scale.db" ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=$token \
  RUST_LOG=warn LEPTOS_SITE_ROOT="$site" icantkube_start "$binary" "$work/icantkube.log"
base=$icantkube_url
python3 bench/scale_rss.py "$icantkube_pid" "$work/phase" "$work/rss.json" &
sampler=$!

# One model for the profile, trained as an admin does (icantkube_train_model): sign in,
# upload the data set, start a training run (a child process of the server), wait for it.
phase "training a model"
jar="$work/cookies"
icantkube_train_model "$jar" "$work/train.csv" "$work/icantkube.log"
version=$(curl -sf -b "$jar" "$base/models" | grep -o 'data-version="[0-9]*"' | head -1 | cut -d'"' -f2)
[ -n "$version" ] || { echo "no model version on /models after training" >&2; exit 1; }

results="$work/results.tsv"
: >"$results"
# Measures URL as LABEL at SIZE: bytes with Accept-Encoding: br and without (status and the
# encoding served recorded), then wrk's run with br, as browsers ask.
measure() {
  local label=$1 size=$2 url=$3 file
  file="$work/wrk-$(tr -c 'a-z0-9' '_' <<<"$label")-$size.txt"
  local br raw
  br=$(curl -s -o /dev/null -D "$work/headers" -w '%{http_code} %{size_download}' -H 'Accept-Encoding: br' "$url")
  br="$br $(tr -d '\r' <"$work/headers" | sed -n 's/^content-encoding: *//Ip' | head -1)"
  raw=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url")
  wrk -t1 -c4 -d"${seconds}s" --latency -H 'Accept-Encoding: br' "$url" >"$file" 2>&1 ||
    echo "wrk failed: status $?" >>"$file"
  printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$size" "$file" "$br" "$raw" >>"$results"
}

previous=0
for size in "${sizes[@]}"; do
  phase "fleet of $size: registering"
  python3 bench/scale_fleet.py "${base##*:}" "$token" "$work/fleet.jsonl" "$previous" "$size" "$version" | tee -a "$work/setup.txt"
  previous=$size
  phase "fleet of $size: pages"
  measure "fleet page /" "$size" "$base/"
  measure "/models" "$size" "$base/models"
  measure "/api/v1/machines" "$size" "$base/api/v1/machines"
  measure "/metrics scrape" "$size" "$icantkube_metrics_url"
done

page_weight="$work/page-weight.txt"
if [ "$site_shown" != none ]; then
  phase "page weight of / at $largest machines"
  bench/page-weight.sh "$base" / >"$page_weight" 2>&1 || echo "bench/page-weight.sh failed: status $?" >>"$page_weight"
fi

if [ -n "$lighthouse" ]; then
  phase "Lighthouse at $largest machines"
  node tests/browser/lighthouse.mjs "$base" bench >"$work/lighthouse.txt" 2>&1 ||
    echo "tests/browser/lighthouse.mjs failed: status $?" >>"$work/lighthouse.txt"
fi

# A long history and a new machine, as bench/machine-history.sh makes them: no model, the
# history posted as CSV batches through the ingest API.
phase "machine history: $readings readings"
icantkube_fill_history "$token" "$readings" "$work/scale.db" | tee -a "$work/setup.txt"
phase "machine pages"
measure "machine page" "$readings" "$base/machines/long-history"
measure "machine page" 1 "$base/machines/new"

# Single readings from 1 and 8 clients to eight machines of the fleet with the model (every
# 20th has none), so each is scored live.
phase "ingest: 1 and 8 clients"
mills=$(printf 'mill-%04d,' {1..8})
mills=${mills%,}
ICANTKUBE_INGEST_TOKEN=$token python3 bench/ingest_concurrency.py "${base##*:}" "$icantkube_pid" \
  "$ingest_seconds" "$mills" 1 8 >"$work/ingest.txt" 2>&1 || echo "bench/ingest_concurrency.py failed: status $?" >>"$work/ingest.txt"

phase "end"
kill "$sampler"
wait "$sampler" || true
sampler=""
icantkube_stop

demo_file="$work/demo.txt"
if [ -n "$demo" ]; then
  phase "demo mode's start-up (bench/demo-memory.sh 10)"
  ICANTKUBE_BIN=$binary bench/demo-memory.sh 10 >"$demo_file" 2>&1 || echo "bench/demo-memory.sh failed: status $?" >>"$demo_file"
fi

echo
cat "$work/setup.txt"
if [ -n "$lighthouse" ]; then
  echo
  echo "Lighthouse 12.2.3 (mobile) at $largest machines:"
  cat "$work/lighthouse.txt"
fi
report=0
python3 bench/scale_report.py "$work" "$readings" "$seconds" "${sizes[@]}" || report=$?
echo "whole run (after the build): $((SECONDS - run_started)) s; load average after it: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
# A figure not measured fails the run; its tool's output is above, the server's log is no help.
reported=1
exit "$report"
