#!/usr/bin/env bash
# The whole test suite, as CI runs it: gates (format, lints for the server and the browser
# builds), unit and black-box tests, a brief fuzzing of the parsers of untrusted input, then
# browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/free-build-space.sh
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

step "site build (server + WebAssembly + CSS, hashed names, precompressed copies)"
scripts/build-site.sh

# Runs the tests with every log line kept in a file: on failure it shows the failures and
# where the whole log is; then no line may show a configured secret (the database password,
# the tests' admin password and ingest token).
#   logged_tests NAME SECRET... -- CARGO_TEST_ARGS...
logged_tests() {
  local name=$1 secrets=() log
  shift
  while [ "$1" != "--" ]; do secrets+=("$1"); shift; done
  shift
  log=$(mktemp "/tmp/icantkube-tests-$name.XXXXXX")
  if ! TEST_LOG=1 cargo test "$@" -- --nocapture >"$log" 2>&1; then
    grep -E "^test .*FAILED|panicked|^failures:|test result|SKIPPED" "$log" | head -60
    echo "the $name pass failed; its whole log: $log"
    exit 1
  fi
  grep -E "test result|SKIPPED" "$log"
  for secret in "${secrets[@]}" admin-secret global-ingest-token; do
    if grep -qF -- "$secret" "$log"; then
      grep -nF -- "$secret" "$log" | head -5
      echo "a configured secret appears in the $name logs: $log"
      exit 1
    fi
  done
  echo "no configured secret in $(wc -l <"$log") log lines"
  rm -f "$log"
}

step "unit and API tests (SQLite)"
if [ ! -d ../shared/data ]; then
  echo "NOTE: ../shared/data is missing: the tests that compare with real data sets say SKIPPED"
fi
logged_tests sqlite -- --workspace --locked

# The same storage and API tests on a real MariaDB server (each test on a database of its own).
step "storage and API tests on MariaDB"
source scripts/lib/mariadb.sh
mariadb_start
trap mariadb_stop EXIT
export ICANTKUBE_TEST_MARIADB="$MARIADB_URL"
logged_tests mariadb "$MARIADB_PASSWORD" -- \
  -p server --test it --locked
unset ICANTKUBE_TEST_MARIADB
mariadb_stop

# 20 s a target from the committed seeds; scripts/fuzz.sh SECONDS fuzzes longer.
step "fuzzing (brief): reading decoders, data sets, expressions, model files"
scripts/fuzz.sh 20

step "browser tests (headless Chromium)"
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" \
  ARTIFACTS_DIR="$PWD/artifacts" \
  node --test --test-concurrency=1 tests/browser/

# The release WebAssembly is optimised by wasm-opt, which the debug site skips: its islands
# are checked in the browser too, served by the debug binary.
step "release islands: the optimised WebAssembly in headless Chromium"
release_site="$PWD/target/site-release"
LEPTOS_SITE_ROOT="$release_site" LEPTOS_HASH_FILE_NAME="$release_site/hash.txt" \
  cargo leptos build --release --frontend-only
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$release_site" \
  ARTIFACTS_DIR="$PWD/artifacts" \
  node --test tests/browser/release-islands.mjs

step "monitoring: alert rules, dashboards and ServiceMonitor against a real Prometheus"
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" \
  tests/monitoring/check.sh

step "image: buildah builds icantkube.Dockerfile, its entrypoint serves"
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" \
  tests/image/check.sh

step "kubernetes: manifests render, validate strictly and agree with each other and the binary"
ICANTKUBE_BIN="$CARGO_TARGET_DIR/debug/icantkube" \
  LEPTOS_SITE_ROOT="$LEPTOS_SITE_ROOT" \
  tests/kubernetes/check.sh
