#!/usr/bin/env bash
# Installs what building and testing icantkube needs, skipping whatever is already present.
#   scripts/setup.sh          toolchain for building and running
#   scripts/setup.sh --test   also the browser test's Chromium and Node packages
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.11 needs a newer rustc than this machine's; 0.3.10 builds (about 11 minutes).
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos 0.3.10" ]; then
  log "installing cargo-leptos 0.3.10 (takes about 11 minutes once)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

# cargo-leptos cannot download wasm-bindgen here; it uses the one on PATH, which must match
# the version in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version"
  # Its own lock file can pin a dependency release that was yanked since; then resolve afresh.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked ||
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# wasm-opt from Binaryen 132, installed from npm (it runs on Node): Debian's Binaryen 108 moves
# the WebAssembly's export of wasm-bindgen's externref table onto the function table, and the
# islands of a release build then fail to start ("WebAssembly.Table.set(): Argument 1 is
# invalid for table"). scripts/env.sh puts it first on PATH, where cargo-leptos looks.
command -v node >/dev/null || apt_install nodejs npm
binaryen="$HOME/.cache/icantkube/binaryen"
if [ "$("$binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null || true)" != "wasm-opt version 132 (version_132)" ]; then
  log "installing Binaryen 132 (wasm-opt) from npm"
  npm install --prefix "$binaryen" --no-audit --no-fund --loglevel=error binaryen@132.0.0
fi
# The site's precompressed copies (scripts/build-site.sh); gzip is in every Debian.
command -v brotli >/dev/null || apt_install brotli

if [ "$want_test" = 1 ]; then
  # Licences, duplicate crates and crate sources are checked by the test command.
  if [ "$(cargo deny --version 2>/dev/null || true)" != "cargo-deny 0.20.2" ]; then
    log "installing cargo-deny 0.20.2 (takes about 5 minutes once)"
    cargo install cargo-deny --version 0.20.2 --locked
  fi
  command -v chromium >/dev/null || apt_install chromium
  # Again whenever a package that package.json names is missing (one added since the install).
  missing=$(cd tests/browser && node -e 'const p = require("./package.json");
    console.log(Object.keys(p.dependencies).filter((d) => !require("fs").existsSync("node_modules/" + d)).join(" "))')
  if [ -n "$missing" ]; then
    log "installing the browser test's Node packages"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
log "ready"
