#!/usr/bin/env bash
# Checks the GitOps tree kubernetes/ (what Argo CD deploys) without a cluster:
#   render:   every kustomization renders with `kubectl kustomize`;
#   schemas:  every object of Kubernetes' own API validates strictly (unknown fields too)
#             against Kubernetes 1.37 with kubernetes-validate (PyPI, in a virtualenv under
#             ~/.cache/icantkube), and every custom resource (Rollout, AnalysisTemplate,
#             Application, ServiceMonitor, PrometheusRule, SealedSecret) against the
#             @kubernetes-models packages (npm, package.json here; validate_custom.mjs);
#   cross:    check_manifests.py: what the schemas cannot see (selectors and the pods they
#             select, port names, objects, Secret keys and Services named elsewhere, files
#             left out of a kustomization, images in imageConfig.yaml with a Dockerfile, the
#             Role against REQUIRED_ACCESS in server/src/training/kubernetes.rs, Pod
#             Security, the grace period against the binary's shutdown settings);
#   binary:   (when ICANTKUBE_BIN is set) `serve` accepts every value of the app's ConfigMap
#             (durations, addresses, CIDR ranges, the backend's name), every variable and flag
#             given to the binary is one its `--help` lists, and the canary analysis' queries
#             parse with promtool and name only metrics and labels a running icantkube exports
#             on /metrics.
# Prints one line per check (PASS, FAIL or SKIPPED) and exits 1 when one failed.
# Usage: ICANTKUBE_BIN=path/to/icantkube tests/kubernetes/check.sh
#        ICANTKUBE_IMAGES_ROOT=DIR ...   imageConfig.yaml and *.Dockerfile from DIR instead of
#                                        the repository's root (to test the check)
#        KUBERNETES_DIR=DIR ...          another copy of kubernetes/ (to test the check)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kubernetes=$(cd "${KUBERNETES_DIR:-$root/kubernetes}" && pwd)
images_root="${ICANTKUBE_IMAGES_ROOT:-$root}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/icantkube"
venv="$cache/kubernetes-venv"
# shellcheck source=scripts/lib/icantkube.sh
source "$root/scripts/lib/icantkube.sh"

say() { printf '== %s\n' "$*"; }

# kubernetes-validate (and PyYAML, its dependency, for check_manifests.py) in a virtualenv of
# their own, made once.
validate_version=1.37.0
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null)" != "$validate_version" ]; then
  say "installing kubernetes-validate $validate_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "kubernetes-validate==$validate_version"
fi
python="$venv/bin/python"

# The custom resources' schemas, at the versions package-lock.json pins.
if [ ! -f "$here/node_modules/.package-lock.json" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  say "npm ci in $here"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# promtool parses the analysis queries.
# shellcheck source=scripts/lib/prometheus.sh
source "$root/scripts/lib/prometheus.sh"
prometheus_install

work=$(mktemp -d)
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  status=$?
  icantkube_stop
  if [ "$status" != 0 ] && [ -s "$work/app.log" ]; then
    echo "-- last lines of the app's log"; tail -n 20 "$work/app.log"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

failed=0

say "kubectl kustomize: every kustomization under $kubernetes renders"
mkdir "$work/rendered"
while IFS= read -r folder; do
  name=${folder#"$kubernetes"/}
  if kubectl kustomize "$folder" >"$work/rendered/${name//\//__}.yaml" 2>"$work/kustomize.err"; then
    echo "PASS kubectl kustomize kubernetes/$name"
  else
    echo "FAIL kubectl kustomize kubernetes/$name: $(tr '\n' ' ' <"$work/kustomize.err")"
    rm -f "$work/rendered/${name//\//__}.yaml"
    failed=1
  fi
done < <(find "$kubernetes" -name kustomization.yaml -printf '%h\n' | sort)

say "schemas: Kubernetes' own objects (kubernetes-validate --strict, Kubernetes 1.37)"
"$python" "$here/check_manifests.py" native "$venv/bin/kubernetes-validate" "$work/rendered" || failed=1

say "schemas: custom resources (@kubernetes-models)"
"$python" "$here/check_manifests.py" to-json "$work/rendered" "$work/objects.json"
node "$here/validate_custom.mjs" "$work/objects.json" || failed=1

binary_options=()
if [ -n "${ICANTKUBE_BIN:-}" ]; then
  say "the binary: its variables and flags (--help), and its /metrics after a few requests"
  mkdir "$work/help"
  for command in serve train simulate migrate; do
    "$ICANTKUBE_BIN" "$command" --help >"$work/help/$command.txt"
  done
  # The app's configuration as the manifests give it, but on loopback and SQLite: clap refuses a
  # value it cannot parse with status 2 and "error: invalid value" before anything starts.
  # Accepted, it migrates and then stops at the Kubernetes training backend, which finds no
  # API server here (or serves on, with another backend, until the timeout).
  mapfile -t serve_env < <("$python" "$here/check_manifests.py" serve-env "$work/rendered")
  read -r port metrics_port <<<"$(icantkube_free_ports 2)"
  status=0
  env -i PATH="$PATH" HOME="$HOME" RUST_BACKTRACE=0 "${serve_env[@]}" \
    ICANTKUBE_LISTEN="127.0.0.1:$port" ICANTKUBE_METRICS_LISTEN="127.0.0.1:$metrics_port" \
    DATABASE_URL="sqlite://$work/config.db" LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$root/target/site}" \
    timeout 30 "$ICANTKUBE_BIN" serve >"$work/config.log" 2>&1 || status=$?
  if [ "${#serve_env[@]}" = 0 ]; then
    echo "FAIL no serve container with a ConfigMap in the manifests"
    failed=1
  elif [ "$status" = 2 ] || grep -q '^error: ' "$work/config.log" ||
    { [ "$status" != 124 ] && ! grep -q 'training backend found no Kubernetes API' "$work/config.log"; }; then
    echo "FAIL icantkube serve refuses the ConfigMap's values: $(grep -m1 '^error: ' "$work/config.log" || tail -n 3 "$work/config.log")"
    failed=1
  else
    echo "PASS icantkube serve accepts the ${#serve_env[@]} values of its ConfigMap (status $status)"
  fi
  if DATABASE_URL="sqlite://$work/icantkube.db" LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$root/target/site}" \
    icantkube_start "$ICANTKUBE_BIN" "$work/app.log"; then
    # Pages, the API, the probes' routes (the analysis leaves them out by name) and a 404.
    # shellcheck disable=SC2154 # icantkube_url and icantkube_metrics_url: set by icantkube_start
    for path in / /api/v1/machines /healthz /readyz /healthz /no-such-page; do
      curl -s -o /dev/null "$icantkube_url$path" || true
    done
    # shellcheck disable=SC2154
    curl -fsS "$icantkube_metrics_url" >"$work/metrics.txt"
    icantkube_stop
    rm -f "$work/app.log" # it ran as it should: no need to show it on a failure further on
    binary_options=(--help-dir "$work/help" --metrics "$work/metrics.txt")
  else
    echo "FAIL icantkube did not start, so its metrics cannot be read"
    failed=1
    binary_options=(--help-dir "$work/help")
  fi
else
  say "ICANTKUBE_BIN is not set: the checks against the binary say SKIPPED"
fi

say "cross-references"
"$python" "$here/check_manifests.py" cross --kubernetes "$kubernetes" --source-root "$root" --rendered "$work/rendered" \
  --images-root "$images_root" --promtool "$(command -v promtool)" --work "$work" \
  ${binary_options[@]+"${binary_options[@]}"} || failed=1

if [ "$failed" != 0 ]; then
  say "kubernetes checks FAILED"
else
  say "kubernetes checks passed"
fi
exit "$failed"
