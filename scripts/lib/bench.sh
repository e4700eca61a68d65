# shellcheck shell=bash
# What the benchmarks share besides the server (scripts/lib/icantkube.sh). Sourced by bench/*.sh:
#
#   bench_python PIN...   prints the benchmarks' Python: a virtualenv, ICANTKUBE_BENCH_VENV
#                         (default ~/.cache/icantkube/bench-venv), made on first use, with each
#                         PIN (name==version) installed when missing or another version
#   bench_peer_stop       stops the peer server whose process id is in $peer, and waits for it;
#                         for the caller's cleanup trap too (does nothing when none runs)

bench_python() {
  local venv=${ICANTKUBE_BENCH_VENV:-$HOME/.cache/icantkube/bench-venv}
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  if ! "$venv/bin/python" - "$@" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version

for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    assert version(name) == wanted, pin
PY
  then
    echo "installing $* into $venv" >&2
    "$venv/bin/python" -m pip install -q "$@" >&2 || return 1
  fi
  echo "$venv/bin/python"
}

peer=""
bench_peer_stop() {
  if [ -n "$peer" ]; then
    kill "$peer" 2>/dev/null || true
    wait "$peer" 2>/dev/null || true
    peer=""
  fi
}
