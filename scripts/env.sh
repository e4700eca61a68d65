# Shared by the scripts: build outside the clone so a fresh clone on this machine reuses
# earlier builds (CI clones afresh every run), and say where the site bundle goes.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icantkube/target}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
# Binaryen 132's wasm-opt ahead of any other (scripts/setup.sh says why).
export PATH="$HOME/.cache/icantkube/binaryen/node_modules/.bin:$PATH"
