#!/usr/bin/env bash
# What the islands' WebAssembly is made of: the release bundle's size raw, gzip -9 and brotli 11,
# then twiggy's largest items and the bytes per crate. The bundle is made from cargo's output as
# cargo-leptos makes it (the same cargo build, wasm-bindgen, wasm-opt -Oz); twiggy reads a second
# copy optimised alike with its function names kept, which the bundle drops. Installs twiggy
# (cargo install) when missing.
#   bench/wasm-size.sh [ITEMS]      ITEMS: how many of the largest items to list (default 25)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

cargo build --locked -p app --lib --target wasm32-unknown-unknown --no-default-features \
  --features hydrate --profile wasm-release --target-dir "$CARGO_TARGET_DIR/front"
command -v twiggy >/dev/null || cargo install twiggy --version 0.8.0 --locked

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target web --out-dir "$work" --out-name icantkube \
  "$CARGO_TARGET_DIR/front/wasm32-unknown-unknown/wasm-release/app.wasm"
# cargo-leptos' wasm-opt arguments (the Cargo.toml sets no wasm-opt-features).
optimise=(wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$work/icantkube_bg.wasm")
"${optimise[@]}" -o "$work/bundle.wasm"
"${optimise[@]}" -g -o "$work/named.wasm"

printf 'bundle: %d bytes raw, %d gzip -9, %d brotli 11\n\n' "$(stat -c %s "$work/bundle.wasm")" \
  "$(gzip -9 -n -c "$work/bundle.wasm" | wc -c)" "$(brotli -q 11 -c "$work/bundle.wasm" | wc -c)"
twiggy top -n "${1:-25}" "$work/named.wasm"
twiggy top -n 1000000 --format csv "$work/named.wasm" >"$work/items.csv"
python3 bench/wasm_size.py "$work/items.csv"
