#!/usr/bin/env bash
# Bytes a browser downloads for a page: the first load (the HTML and every file of the site it
# links, with Accept-Encoding: br, gzip, headers included) and a repeat visit (conditional
# requests, cached immutable files not asked for), against issue 15's goals of 60 KB and 5 KB;
# each file's size raw, gzip and brotli too. Needs a running icantkube.
#   bench/page-weight.sh [BASE_URL] [PATH]
set -euo pipefail
base=${1:-http://127.0.0.1:3000}
page=${2:-/}
python3 "$(dirname "$0")/page_weight.py" "$base" "$page"
