#!/usr/bin/env bash
# Memory of a data-set upload: an AI4I 2020-shaped CSV of about MIB mebibytes (32) uploaded
# through the admin form (sign-in, CSRF token, multipart) to a fresh release build; the server's
# peak resident memory growth while it takes the upload (receives, checks, detects the columns'
# roles, stores it), and, restarted, while it renders the page the upload redirects to (which
# reads the stored file back), as a multiple of the file's size. The peer, measured in the same run on the same file: pandas.read_csv in a fresh
# Python process, reading from the path and from the whole file held in memory.
#   bench/upload-memory.sh [MIB]
# The Python side lives in a virtualenv, ICANTKUBE_BENCH_VENV (default
# ~/.cache/icantkube/bench-venv, shared with bench/models.sh), made on first use.
# ICANTKUBE_BIN=path/to/icantkube runs that binary instead of building a release one. The
# server listens on free ports (app and metrics), so a running icantkube does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/icantkube.sh
source scripts/lib/bench.sh
mib=${1:-32}

python=$(bench_python pandas==2.3.3 numpy==2.3.5)

binary=$(icantkube_binary)

work=$(mktemp -d)
cleanup() { icantkube_stop; rm -rf "$work"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(free -m | awk '/^Mem:/ {print $7}') MiB available"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1), $("$python" -c 'import sys, pandas, numpy; print(f"Python {sys.version.split()[0]}, pandas {pandas.__version__}, numpy {numpy.__version__}")')"

generated=$(python3 bench/upload_memory_data.py "$mib" "$work/upload.csv")
echo "data set: $generated"
rows=${generated%% rows*}

# The peer first, each in a fresh process, while no server runs.
for mode in file bytes; do
  "$python" bench/upload_memory_pandas.py "$work/upload.csv" "$mode" >>"$work/peers.jsonl"
done

# No demo fleet: a fresh server whose high-water mark is its start-up's, restarted on the same
# database before the page the upload redirects to (the session is a database row), so each
# step is measured on a fresh process. The pages need no site bundle, only a site root.
start_server() {
  DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_ADMIN_PASSWORD=bench RUST_LOG=warn \
    ICANTKUBE_MAX_UPLOAD_BYTES=$(( (${mib%.*} + 64) * 1024 * 1024 )) LEPTOS_SITE_ROOT="$work" \
    icantkube_start "$binary" "$work/icantkube-$1.log"
}

echo
start_server upload
python3 bench/upload_memory.py upload "${icantkube_url##*:}" "$icantkube_pid" bench \
  "$work/upload.csv" "$rows" "$work/state.json"
icantkube_stop
start_server page
python3 bench/upload_memory.py page "${icantkube_url##*:}" "$icantkube_pid" "$work/state.json" \
  "$work/peers.jsonl"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
