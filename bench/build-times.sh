#!/usr/bin/env bash
# Edit-build-test loop of a checkout on this machine, warm: after everything is built once, a
# one-line code change in a route (the /healthz handler's JSON gets a trailing comma: new
# tokens, same behaviour), then how long `cargo build` of the binary takes, how long
# `cargo test` takes to rebuild and link, and how long it takes to run. Run it on two checkouts
# one after the other (for example an older commit in a `git worktree`) for a before/after.
#   bench/build-times.sh [CHECKOUT]        default: this checkout
set -euo pipefail
tree=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cd "$tree"
source scripts/env.sh
export ICANTKUBE_MLFLOW="${ICANTKUBE_MLFLOW:-$HOME/.cache/icantkube/mlflow-venv/bin/mlflow}"
route=server/src/http/api/health.rs
[ -f "$route" ] || route=server/src/routes/health.rs # the tree before the regroup
grep -q 'json!({ "status": "alive" })' "$route" || { echo "no /healthz line to change in $route" >&2; exit 1; }

seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  python3 -c "print(f'{($end - $start) / 1e9:.1f}')"
}

echo "checkout $tree ($(git rev-parse --short HEAD)), target $CARGO_TARGET_DIR"
cargo build -p server --bin icantkube >/dev/null 2>&1
links=$(cargo test --workspace --no-run 2>&1 | grep -c 'Executable') || true
echo "test executables cargo test builds: $links"
echo "cargo test, nothing changed:                $(seconds cargo test --workspace) s"

cp "$route" "$route.orig"
trap 'mv "$route.orig" "$route"' EXIT
sed -i 's/json!({ "status": "alive" })/json!({ "status": "alive", })/' "$route"
echo "one-line route change, cargo build (bin):   $(seconds cargo build -p server --bin icantkube) s"
sed -i 's/json!({ "status": "alive", })/json!({ "status": "alive" })/' "$route"
echo "one-line route change, cargo test --no-run: $(seconds cargo test --workspace --no-run) s"
echo "cargo test after it (run only):             $(seconds cargo test --workspace) s"
