#!/usr/bin/env bash
# Makes room for a build on a disk shared with other work: a full disk once failed CI halfway
# through linking. Below ICANTKUBE_MIN_FREE_GB (default 20) free, it drops build caches, the
# cheapest to rebuild first: incremental caches, then the fuzz build, then the debug build.
set -euo pipefail
source "$(dirname "$0")/env.sh"
fuzz_dir="${ICANTKUBE_FUZZ_TARGET_DIR:-$HOME/.cache/icantkube/fuzz-target}"
need_gb="${ICANTKUBE_MIN_FREE_GB:-20}"
mkdir -p "$CARGO_TARGET_DIR"

free_gb() { df -P --block-size=1G "$CARGO_TARGET_DIR" | awk 'NR == 2 { print $4 }'; }

for cache in "$CARGO_TARGET_DIR/debug/incremental" "$fuzz_dir" "$CARGO_TARGET_DIR/debug"; do
  [ "$(free_gb)" -ge "$need_gb" ] && break
  if [ -e "$cache" ]; then
    echo "only $(free_gb) GB free: removing $cache"
    rm -rf "$cache"
  fi
done
echo "$(free_gb) GB free for the build"
