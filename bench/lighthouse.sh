#!/usr/bin/env bash
# Lighthouse 12.2.3 (mobile) scores of every page a user reaches, signed out and, given the
# admin password, signed in as the admin: performance, accessibility, best practices and SEO,
# with the audits that cost points. Needs a running icantkube (a release build shows what
# users get; the browser tests score the debug build) and the browser tests' Node packages
# (scripts/setup.sh installs them).
#   bench/lighthouse.sh [BASE_URL] [ADMIN_PASSWORD]
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-http://127.0.0.1:3000}
node tests/browser/lighthouse.mjs "$base" "${2:-}"
