#!/usr/bin/env bash
# The machine page of a machine with READINGS (1,000,000) readings of history against the page
# of a machine with one, on the same server and database, alternating, REPEATS (30) times each:
# the page should cost the same whatever the machine's history (issue 15's goal: within 2×).
# The history goes in through the ingest API (CSV batches of 10,000), as a gateway would post it.
# Then the database's size by table once the rollup job has folded every reading (it waits for
# readings to settle a minute, so this takes a minute or two), per million readings.
#   bench/machine-history.sh [READINGS] [REPEATS]
# ICANTKUBE_BIN=path/to/icantkube runs that binary instead of building a release one; the
# server listens on free ports, so a running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
readings=${1:-1000000}
repeats=${2:-30}
token=bench-ingest-token-0123456789

binary=$(icantkube_binary)
work=$(mktemp -d)
cleanup() { icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN="$token" \
  RUST_LOG=warn LEPTOS_SITE_ROOT="$work" icantkube_start "$binary" "$work/icantkube.log"
icantkube_fill_history "$token" "$readings" "$work/bench.db"

# One GET per curl process; time is curl's time_total, the two pages alternating.
times="$work/times.txt"
for round in $(seq 0 "$repeats"); do
  for machine in long-history new; do
    seconds=$(curl -sf -o "$work/page.html" -w '%{time_total}' "$icantkube_url/machines/$machine")
    # Round 0 warms both up.
    [ "$round" = 0 ] || echo "$machine $seconds $(wc -c <"$work/page.html")" >>"$times"
  done
done
python3 - "$times" "$readings" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def stats(machine):
    times = sorted(float(t) * 1000 for m, t, _ in rows if m == machine)
    size = [int(b) for m, _, b in rows if m == machine][-1]
    return statistics.median(times), times[int(len(times) * 0.9) - 1], size
long, new = stats("long-history"), stats("new")
print(f"{'machine page':<28} {'median ms':>10} {'p90 ms':>8} {'bytes':>8}")
print(f"{'with ' + format(int(sys.argv[2]), ',') + ' readings':<28} {long[0]:>10.2f} {long[1]:>8.2f} {long[2]:>8}")
print(f"{'with 1 reading':<28} {new[0]:>10.2f} {new[1]:>8.2f} {new[2]:>8}")
ratio = long[0] / new[0]
print(f"ratio {ratio:.2f}× (goal: at most 2×: {'met' if ratio <= 2 else 'not met'})")
PY
# What the history costs on disk once the rollups hold it.
python3 bench/database_size.py "$work/bench.db" "$readings"
