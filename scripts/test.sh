#!/usr/bin/env bash
# The whole test suite, as CI runs it: gates (format, lints for the server and the browser
# builds), unit and black-box tests, a brief fuzzing of the parsers of untrusted input, then
# browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh --test
# The MLflow tests start a real tracking server, installed from PyPI into its own virtualenv.
ICANTKUBE_MLFLOW=$(scripts/mlflow-venv.sh); export ICANTKUBE_MLFLOW

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "format"
cargo fmt --all --check

step "lints: server build (ssr)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependencies: licences, duplicate crates, sources, advisories (deny.toml)"
cargo deny --locked check licenses bans sources
# Advisories need the RustSec database from GitHub: checked wherever it can be fetched.
if timeout 120 cargo deny --locked fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories
else
  echo "SKIPPED: advisories (the RustSec database on github.com cannot be fetched from here)"
fi

step "lints: browser build (hydrate, wasm32)"
cargo clippy -p app --lib --no-default-features --features hydrate \
  --target wasm32-unknown-unknown --locked -- -D warnings

step "site build (server + WebAssembly + CSS)"
cargo leptos build

step "unit and API tests"
if [ ! -d ../shared/data ]; then
  echo "NOTE: ../shared/data is missing: the tests that compare with real data sets say SKIPPED"
fi
cargo test --workspace --locked

# The same storage and API tests on a real MariaDB server (each test on a database of its own),
# with every log line kept: none may show the database password or another configured secret.
step "storage and API tests on MariaDB"
source scripts/lib/mariadb.sh
mariadb_start
trap mariadb_stop EXIT
mariadb_log=$(mktemp)
if ! ICANTKUBE_TEST_MARIADB="$MARIADB_URL" TEST_LOG=1 \
  cargo test -p server --test it --locked -- --nocapture >"$mariadb_log" 2>&1; then
  grep -E "^test .*FAILED|panicked|^failures:|test result" "$mariadb_log" | head -60
  echo "the MariaDB pass failed; its whole log: $mariadb_log"
  exit 1
fi
grep "test result" "$mariadb_log"
for secret in "$MARIADB_PASSWORD" admin-secret global-ingest-token; do
  if grep -qF -- "$secret" "$mariadb_log"; then
    grep -nF -- "$secret" "$mariadb_log" | head -5
    echo "a configured secret appears in the logs: $mariadb_log"
    exit 1
  fi
done
echo "no configured secret in $(wc -l <"$mariadb_log") log lines"
mariadb_stop
rm -f "$mariadb_log"

# 20 s a target from the committed seeds; scripts/fuzz.sh SECONDS fuzzes longer.
step "fuzzing (brief): reading decoders, data sets, expressions, model files"
scripts/fuzz.sh 20

step "browser tests (headless Chromium)"
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" \
  ARTIFACTS_DIR="$PWD/artifacts" \
  node --test --test-concurrency=1 tests/browser/

step "monitoring: alert rules, dashboards and ServiceMonitor against a real Prometheus"
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" \
  tests/monitoring/check.sh
