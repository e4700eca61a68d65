#!/usr/bin/env bash
# Ingest throughput: one 10,000-reading CSV batch posted over HTTP on loopback to a release
# build, next to the storage limit measured in the same run: the sqlite3 command line inserting
# the same rows into the same schema, in one transaction, with the same pragmas.
#   bench/ingest.sh [ROWS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
rows=${1:-10000}
repeats=${2:-5}
command -v sqlite3 >/dev/null || { echo "bench/ingest.sh needs the sqlite3 command line" >&2; exit 1; }
cargo build --release -p server --bin icantkube >/dev/null
binary="$CARGO_TARGET_DIR/release/icantkube"

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$rows" "$work/batch.csv" "$work/values.txt" <<'PY'
import random, sys
rows, csv_path, values_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
random.seed(2020)
with open(csv_path, "w") as csv, open(values_path, "w") as values:
    csv.write("air_temperature,process_temperature,rotational_speed,torque,tool_wear\n")
    for i in range(rows):
        row = [round(random.gauss(300, 2), 1), round(random.gauss(310, 1.5), 1),
               round(random.gauss(1539, 178)), round(random.gauss(40, 10), 1), i % 240]
        csv.write(",".join(map(str, row)) + "\n")
        values.write("[" + ",".join(str(float(v)) for v in row) + "]\n")
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_LISTEN="127.0.0.1:$port" \
  ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=bench RUST_LOG=warn \
  "$binary" serve &
server=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
curl -sf -u admin:bench -H 'content-type: application/json' \
  -d '{"name":"bench","profile":"ai4i2020"}' "http://127.0.0.1:$port/api/v1/machines" >/dev/null

echo "icantkube: POST of one $rows-reading CSV batch ($(du -k "$work/batch.csv" | cut -f1) KiB), $repeats times"
http_times=()
for i in $(seq "$repeats"); do
  t=$(curl -sf -o /dev/null -w '%{time_total}' -H 'authorization: Bearer bench' \
    -H 'content-type: text/csv' --data-binary @"$work/batch.csv" \
    "http://127.0.0.1:$port/api/v1/machines/bench/readings")
  http_times+=("$t")
done

# The same schema, the same rows as the service stores them, one transaction.
sqlite3 "$work/peer.db" < server/migrations/sqlite/*_initial.sql
sqlite3 "$work/peer.db" "INSERT INTO machines (name, display_name, profile, attributes, sensors, created_at, updated_at) VALUES ('bench','bench','ai4i2020','{}','[]',0,0);"
# Two scripts: one INSERT per row, and 500-row INSERTs as icantkube itself sends them.
python3 - "$work/values.txt" "$work/insert-rows.sql" "$work/insert-multi.sql" <<'PY'
import sys
head = ("INSERT INTO readings (machine_id, recorded_at, client_seq, sensor_values, failure, "
        "failure_mode, time_to_failure, received_at) VALUES ")
rows = [f"(1, 1795000000000, NULL, '{line.strip()}', NULL, NULL, NULL, 1795000000000)"
        for line in open(sys.argv[1])]
prelude = "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nBEGIN;\n"
with open(sys.argv[2], "w") as sql:
    sql.write(prelude + "".join(f"{head}{row};\n" for row in rows) + "COMMIT;\n")
with open(sys.argv[3], "w") as sql:
    chunks = [rows[i:i + 500] for i in range(0, len(rows), 500)]
    sql.write(prelude + "".join(f"{head}{', '.join(c)};\n" for c in chunks) + "COMMIT;\n")
PY
time_sqlite() {
  local times=()
  for i in $(seq "$repeats"); do
    start=$(date +%s%N)
    sqlite3 "$work/peer.db" < "$1" >/dev/null
    end=$(date +%s%N)
    times+=("$(python3 -c "print(($end-$start)/1e9)")")
  done
  echo "${times[*]}"
}
peer_times=$(time_sqlite "$work/insert-rows.sql")
multi_times=$(time_sqlite "$work/insert-multi.sql")

python3 - "$rows" "${http_times[*]}" "$peer_times" "$multi_times" <<'PY'
import statistics, sys
rows = int(sys.argv[1])
runs = {
    "icantkube, HTTP POST": sys.argv[2],
    "sqlite3 CLI, row INSERTs, 1 tx": sys.argv[3],
    "sqlite3 CLI, 500-row INSERTs, 1 tx": sys.argv[4],
}
medians = {}
for name, text in runs.items():
    times = [float(t) for t in text.split()]
    medians[name] = m = statistics.median(times)
    print(f"  {name:36}: median {m*1000:7.1f} ms -> {rows/m:9,.0f} readings/s"
          f"  (runs: {', '.join(f'{t*1000:.0f}' for t in times)} ms)")
http = medians["icantkube, HTTP POST"]
for name in list(runs)[1:]:
    print(f"  icantkube time / {name}: {http/medians[name]:.2f}")
PY
