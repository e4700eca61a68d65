#!/usr/bin/env bash
# Sets up, builds (release) and starts icantkube on its embedded default with a demo fleet:
# SQLite under ./data, http://127.0.0.1:3000. Extra arguments go to `icantkube serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
scripts/build-site.sh --release
export ICANTKUBE_DEMO="${ICANTKUBE_DEMO:-1}"
exec "$CARGO_TARGET_DIR/release/icantkube" serve "$@"
