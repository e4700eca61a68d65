#!/usr/bin/env bash
# Builds the binary and the site as the server serves them: `cargo leptos build ARGS...`, with
# cargo-leptos' list of hashed file names written into the site root (where the server reads
# it, server/src/http/assets.rs), then a brotli (quality 11) and a gzip (level 9) copy beside
# each site file, kept only when smaller, for the server to send as they are.
#   scripts/build-site.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

site=$(realpath -m "$LEPTOS_SITE_ROOT")
# An absolute name: cargo-leptos puts a relative one beside the binary.
LEPTOS_HASH_FILE_NAME="$site/hash.txt" cargo leptos build "$@"

# cargo-leptos empties the site root before each build, so no copy is stale.
find "$site" -type f ! -name '*.br' ! -name '*.gz' -print0 |
  while IFS= read -r -d '' file; do
    brotli --quality=11 --force --keep "$file"
    gzip -9 --force --keep --no-name "$file"
    for copy in "$file.br" "$file.gz"; do
      if [ "$(stat -c %s "$copy")" -ge "$(stat -c %s "$file")" ]; then rm "$copy"; fi
    done
  done
echo "precompressed $(find "$site" -type f -name '*.br' | wc -l) site files (brotli 11, gzip 9)"
