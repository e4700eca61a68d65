# shellcheck shell=bash
# Runs icantkube for a script, beside whatever already listens on this machine (a server on the
# defaults, 3000 and 9464, another bench). Sourced by bench/*.sh and tests/monitoring/check.sh:
#
#   icantkube_free_ports [N]         prints N (default 1) distinct free loopback ports
#   icantkube_binary                 prints the binary to run: $ICANTKUBE_BIN when set, else a
#                                    release build (cargo build --release; source scripts/env.sh first)
#   icantkube_start BINARY LOG [ARG...]
#                                    starts `BINARY serve ARG...` in the background with the caller's
#                                    environment (DATABASE_URL=... icantkube_start ...), the app's and
#                                    the metrics listener each on a free port, its output in LOG, and
#                                    waits for /readyz (at most $icantkube_ready_seconds, default 120).
#                                    Then sets icantkube_pid, icantkube_url (http://127.0.0.1:PORT),
#                                    icantkube_metrics_address (127.0.0.1:PORT, a scrape target) and
#                                    icantkube_metrics_url (http://127.0.0.1:PORT/metrics). When the
#                                    process exits or is not ready in time, prints why and the log's
#                                    last lines, and returns 1. Not in a $(...): the process must be
#                                    the caller's own child.
#   icantkube_stop                   stops it and waits for it; for the caller's cleanup trap too
#                                    (does nothing when none runs)
#   icantkube_wait_for_model MACHINE LOG
#                                    waits (at most 300 s) until MACHINE of the running icantkube
#                                    has an active model, as demo mode trains them at first
#                                    start, and prints its version id; fails with LOG's last lines
#                                    when the process exits first

icantkube_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
icantkube_pid=""

icantkube_free_ports() {
  python3 "$icantkube_lib/free_ports.py" "${1:-1}"
}

icantkube_binary() {
  if [ -n "${ICANTKUBE_BIN:-}" ]; then
    [ -x "$ICANTKUBE_BIN" ] || { echo "ICANTKUBE_BIN=$ICANTKUBE_BIN is not an executable" >&2; return 1; }
    echo "using ICANTKUBE_BIN=$ICANTKUBE_BIN (no build)" >&2
    echo "$ICANTKUBE_BIN"
    return
  fi
  cargo build --release -p server --bin icantkube >/dev/null || return 1
  echo "${CARGO_TARGET_DIR:?source scripts/env.sh first}/release/icantkube"
}

icantkube_start() {
  local binary=$1 log=$2 attempt port metrics_port deadline status
  shift 2
  # A port the kernel called free may be taken before icantkube binds it: then new ports.
  for attempt in 1 2 3; do
    read -r port metrics_port <<<"$(icantkube_free_ports 2)"
    ICANTKUBE_LISTEN="127.0.0.1:$port" ICANTKUBE_METRICS_LISTEN="127.0.0.1:$metrics_port" \
      "$binary" serve "$@" >"$log" 2>&1 &
    icantkube_pid=$!
    icantkube_url="http://127.0.0.1:$port"
    icantkube_metrics_address="127.0.0.1:$metrics_port"
    # shellcheck disable=SC2034 # for the caller
    icantkube_metrics_url="http://$icantkube_metrics_address/metrics"
    deadline=$((SECONDS + ${icantkube_ready_seconds:-120}))
    while ! curl -sf -o /dev/null --max-time 5 "$icantkube_url/readyz"; do
      if ! kill -0 "$icantkube_pid" 2>/dev/null; then
        status=0
        wait "$icantkube_pid" || status=$?
        icantkube_pid=""
        if [ "$attempt" -lt 3 ] && grep -q 'Failed to listen' "$log"; then
          continue 2
        fi
        echo "icantkube exited (status $status) during start-up; the last lines of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "icantkube not ready at $icantkube_url/readyz after ${icantkube_ready_seconds:-120} s; the last lines of $log:" >&2
        tail -n 20 "$log" >&2
        icantkube_stop
        return 1
      fi
      sleep 0.1
    done
    return 0
  done
}

icantkube_stop() {
  if [ -n "$icantkube_pid" ]; then
    kill "$icantkube_pid" 2>/dev/null || true
    wait "$icantkube_pid" 2>/dev/null || true
    icantkube_pid=""
  fi
}

icantkube_wait_for_model() {
  local machine=$1 log=$2 version="" deadline=$((SECONDS + 300))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$icantkube_pid" 2>/dev/null; then
      echo "icantkube exited; the last lines of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    version=$(curl -sf "$icantkube_url/api/v1/machines/$machine" |
      python3 -c 'import json, sys; v = json.load(sys.stdin).get("active_model_version_id"); print("" if v is None else v)' ||
      true)
    if [ -n "$version" ]; then
      echo "$version"
      return 0
    fi
    sleep 0.5
  done
  echo "$machine has no active model after 300 s" >&2
  return 1
}

# Trains one model the way an admin does, against the running server: signs in as admin
# (password `bench`, cookies in JAR), uploads the CSV, starts a random forest of 50 trees on
# `Machine failure` (the local runner's child process) and waits for it to complete.
#   icantkube_train_model JAR CSV LOG
icantkube_train_model() {
  local jar=$1 csv=$2 log=$3 base=$icantkube_url csrf uploaded dataset started run state=""
  curl -sf -o /dev/null -c "$jar" --data-urlencode password=bench "$base/login"
  csrf=$(curl -sf -b "$jar" "$base/training/new" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
  [ -n "$csrf" ] || { echo "no CSRF token on /training/new after sign-in" >&2; return 1; }
  uploaded=$(curl -sf -o /dev/null -w '%{redirect_url}' -b "$jar" -F "csrf=$csrf" -F name=bench \
    -F "file=@$csv;type=text/csv" "$base/datasets")
  dataset=$(sed -n 's/.*[?&]dataset=\([0-9]*\)$/\1/p' <<<"$uploaded")
  [ -n "$dataset" ] || { echo "data set not stored: $uploaded" >&2; return 1; }
  started=$(curl -sf -o /dev/null -w '%{redirect_url}' -b "$jar" --data-urlencode "csrf=$csrf" \
    --data-urlencode "dataset_id=$dataset" --data-urlencode 'target=Machine failure' \
    --data-urlencode algorithm=random_forest --data-urlencode trees=50 "$base/training")
  run=$(sed -n 's|.*/training/\([0-9]*\)$|\1|p' <<<"$started")
  [ -n "$run" ] || { echo "training run not started: $started" >&2; return 1; }
  for _ in $(seq 600); do
    state=$(curl -sf -b "$jar" "$base/training/$run" | grep -o 'data-state="\(completed\|failed\|cancelled\)"' | head -1 || true)
    [ -n "$state" ] && break
    if ! kill -0 "$icantkube_pid" 2>/dev/null; then
      echo "icantkube exited during training; the last lines of its log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  [ "$state" = 'data-state="completed"' ] || { echo "training run $run did not complete: ${state:-still running after 300 s}" >&2; return 1; }
}

# A machine with READINGS readings of history (long-history) and one with one (new), both
# AI4I mills without a model, the history posted as CSV batches through the ingest API; says
# how long that took and how large DATABASE_FILE then is.
#   icantkube_fill_history TOKEN READINGS DATABASE_FILE
icantkube_fill_history() {
  local token=$1 readings=$2 database=$3 machine filled
  for machine in long-history new; do
    curl -sf -o /dev/null -u admin:bench -H 'Content-Type: application/json' \
      -d "{\"name\": \"$machine\", \"profile\": \"ai4i2020\"}" "$icantkube_url/api/v1/machines"
  done
  filled=$(date +%s%N)
  python3 bench/machine_history_fill.py "${icantkube_url##*:}" "$token" long-history "$readings"
  python3 bench/machine_history_fill.py "${icantkube_url##*:}" "$token" new 1
  echo "history: $readings readings ingested in $(( ($(date +%s%N) - filled) / 1000000 )) ms; database $(du -m "$database" | cut -f1) MB"
}
