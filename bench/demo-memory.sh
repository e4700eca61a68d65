#!/usr/bin/env bash
# Memory of demo mode: a release build started with ICANTKUBE_DEMO=1 on a fresh SQLite file, so
# it seeds the demo fleet and trains its models as at a first start. Prints the server's peak
# resident memory (VmHWM, start-up included) until every demo machine has an active model, while
# its pages render, and while it streams for SETTLE seconds (default 30), and the peak of each
# process it starts (the demo's training child), against the goal of 100 MB at every point.
#   bench/demo-memory.sh [SETTLE]
# ICANTKUBE_BIN=path/to/icantkube runs that binary instead of building a release one. The
# server listens on free ports (app and metrics), so a running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
settle=${1:-30}

binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(free -m | awk '/^Mem:/ {print $7}') MiB available"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1), $binary"
echo

# The pages need no site bundle, only a site root.
DATABASE_URL="sqlite://$work/demo.db" ICANTKUBE_DEMO=1 RUST_LOG=info NO_COLOR=1 LEPTOS_SITE_ROOT="$work" \
  icantkube_start "$binary" "$work/icantkube.log"
python3 bench/demo_memory.py "${icantkube_url##*:}" "$icantkube_metrics_address" \
  "$icantkube_pid" "$settle"
if ! kill -0 "$icantkube_pid" 2>/dev/null; then
  echo "FAILED: icantkube exited during the run; the last lines of its log:" >&2
  tail -n 20 "$work/icantkube.log" >&2
  exit 1
fi
echo
echo "the server's log on the demo models:"
grep -E 'demo model|training child' "$work/icantkube.log" | sed 's/^/  /' || true
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
