#!/usr/bin/env bash
# Ingest throughput: one 10,000-reading CSV batch posted over HTTP on loopback to a release
# build, next to the storage limit measured in the same run: the sqlite3 command line inserting
# the same rows into the same schema, in one transaction, with the same pragmas. Then the same
# on MariaDB (a throwaway server from scripts/lib/mariadb.sh, over TLS as the tests use it):
# icantkube on `mysql://`, and the mariadb command line loading the same rows in one
# transaction over the same kind of connection.
#   bench/ingest.sh [ROWS] [REPEATS]
# ICANTKUBE_BIN=path/to/icantkube runs that binary instead of building a release one. The
# server listens on free ports (app and metrics), so a running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
source scripts/lib/mariadb.sh
rows=${1:-10000}
repeats=${2:-5}
command -v sqlite3 >/dev/null || { echo "bench/ingest.sh needs the sqlite3 command line" >&2; exit 1; }
binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { icantkube_stop; mariadb_stop; rm -rf "$work"; }
trap cleanup EXIT

python3 bench/ingest_data.py "$rows" "$work/batch.csv" "$work/values.txt"

DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=bench \
  RUST_LOG=warn icantkube_start "$binary" "$work/icantkube.log"
echo "icantkube: POST of one $rows-reading CSV batch ($(du -k "$work/batch.csv" | cut -f1) KiB), $repeats times, on each backend"
# Answers the POST times of REPEATS batches to the running server.
time_http() {
  curl -sf -u admin:bench -H 'content-type: application/json' \
    -d '{"name":"bench","profile":"ai4i2020"}' "$icantkube_url/api/v1/machines" >/dev/null
  local times=()
  for _ in $(seq "$repeats"); do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H 'authorization: Bearer bench' \
      -H 'content-type: text/csv' --data-binary @"$work/batch.csv" \
      "$icantkube_url/api/v1/machines/bench/readings")")
  done
  echo "${times[*]}"
}
http_times=$(time_http)
icantkube_stop

# The same schema, the same rows as the service stores them, one transaction.
sqlite3 "$work/peer.db" < server/migrations/sqlite/*_initial.sql
sqlite3 "$work/peer.db" "INSERT INTO machines (name, display_name, profile, attributes, sensors, created_at, updated_at) VALUES ('bench','bench','ai4i2020','{}','[]',0,0);"
# Two scripts: one INSERT per row, and 500-row INSERTs as icantkube itself sends them (and the
# latter for MariaDB).
python3 bench/ingest_sql.py "$work/values.txt" "$work/insert-rows.sql" "$work/insert-multi.sql" \
  "$work/insert-mariadb.sql"
time_sqlite() {
  local times=()
  for _ in $(seq "$repeats"); do
    start=$(date +%s%N)
    sqlite3 "$work/peer.db" < "$1" >/dev/null
    end=$(date +%s%N)
    times+=("$(python3 -c "print(($end-$start)/1e9)")")
  done
  echo "${times[*]}"
}
peer_times=$(time_sqlite "$work/insert-rows.sql")
multi_times=$(time_sqlite "$work/insert-multi.sql")

# MariaDB: icantkube on one database, the mariadb client on another with the same schema.
mariadb_start >/dev/null
maria() { mariadb --ssl -h127.0.0.1 -P"$MARIADB_PORT" -uicantkube -p"$MARIADB_PASSWORD" "$@"; }
maria -e "CREATE DATABASE service; CREATE DATABASE peer;"
DATABASE_URL="${MARIADB_URL%%\?*}/service?${MARIADB_URL#*\?}" ICANTKUBE_ADMIN_PASSWORD=bench \
  ICANTKUBE_INGEST_TOKEN=bench RUST_LOG=warn icantkube_start "$binary" "$work/icantkube-mariadb.log"
mariadb_http_times=$(time_http)
cat server/migrations/mysql/*.sql | maria peer
maria peer -e "INSERT INTO machines (name, display_name, profile, attributes, sensors, created_at, updated_at) VALUES ('bench','bench','ai4i2020','{}','[]',0,0);"
mariadb_times=()
for _ in $(seq "$repeats"); do
  start=$(date +%s%N)
  maria peer < "$work/insert-mariadb.sql"
  end=$(date +%s%N)
  mariadb_times+=("$(python3 -c "print(($end-$start)/1e9)")")
done

python3 bench/ingest_report.py "$rows" "$http_times" "$peer_times" "$multi_times" \
  "$mariadb_http_times" "${mariadb_times[*]}"
