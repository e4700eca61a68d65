#!/usr/bin/env bash
# Bytes a browser downloads for a first load of a page: the HTML and every script, WebAssembly
# module and stylesheet it references, raw and gzip-compressed (as served with
# Accept-Encoding: gzip). Needs a running icantkube.
#   bench/page-weight.sh [BASE_URL] [PATH]
set -euo pipefail
base=${1:-http://127.0.0.1:3000}
page=${2:-/}
python3 "$(dirname "$0")/page_weight.py" "$base" "$page"
