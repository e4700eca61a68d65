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
