#!/usr/bin/env bash
# Checks the monitoring manifests in kubernetes/monitoring:
#   static: `promtool check rules` on the PrometheusRule's groups and `promtool test rules` on
#           tests/monitoring/rules-test.yaml (each alert fires when it should); every dashboard parses and
#           every panel has a query; `kubectl kustomize` renders it and kubernetes/app, whose
#           Service names the port the ServiceMonitor scrapes (when kubectl is installed);
#   live:   (when ICANTKUBE_BIN is set) a real Prometheus (Debian's package) on loopback scrapes
#           icantkube in demo mode every second, then every alert rule and every dashboard query
#           is evaluated through Prometheus' HTTP API, and every metric they name must be in
#           the app's own /metrics.
# Usage: tests/monitoring/check.sh              (static part only)
#        ICANTKUBE_BIN=path/to/icantkube LEPTOS_SITE_ROOT=target/site tests/monitoring/check.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
monitoring="${MONITORING_DIR:-$root/kubernetes/monitoring}"  # another copy, to test the check
app_manifests="$root/kubernetes/app"
helper="$here/check_queries.py"
# shellcheck source=scripts/lib/icantkube.sh
source "$root/scripts/lib/icantkube.sh"

say() { printf '== %s\n' "$*"; }

# shellcheck source=scripts/lib/prometheus.sh
source "$root/scripts/lib/prometheus.sh"
prometheus_install

work=$(mktemp -d)
prom_pid=""
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  status=$?
  if [ -n "$prom_pid" ]; then
    kill "$prom_pid" 2>/dev/null || true
    wait "$prom_pid" 2>/dev/null || true
  fi
  icantkube_stop
  if [ "$status" != 0 ] && [ -s "$work/app.log" ]; then
    echo "-- last lines of the app's log"; tail -n 20 "$work/app.log"
  fi
  if [ "$status" != 0 ] && [ -s "$work/prometheus.log" ]; then
    echo "-- last lines of Prometheus' log"; tail -n 20 "$work/prometheus.log"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

failed=0

say "promtool check rules (groups of $monitoring/prometheus-rule.yaml)"
python3 "$helper" rules-file "$monitoring/prometheus-rule.yaml" "$work/rules.yaml"
rule_files="$work/rules.yaml"
if ! promtool check rules "$work/rules.yaml"; then
  echo "FAIL promtool check rules"
  failed=1
  rule_files="" # Prometheus would refuse to start with them
fi

say "promtool test rules (tests/monitoring/rules-test.yaml: each alert fires when it should)"
mkdir "$work/unit"
python3 "$helper" strip-annotations "$work/rules.yaml" "$work/unit/rules.yaml"
cp "$here/rules-test.yaml" "$work/unit/"
promtool test rules "$work/unit/rules-test.yaml" || { echo "FAIL promtool test rules"; failed=1; }

say "dashboards parse and every panel has a query"
python3 "$helper" dashboards "$monitoring/dashboards" || failed=1

if command -v kubectl >/dev/null; then
  say "kubectl kustomize $monitoring"
  if kubectl kustomize "$monitoring" >"$work/rendered.yaml"; then
    dashboards=$(find "$monitoring/dashboards" -maxdepth 1 -name '*.json' | wc -l)
    labelled=$(grep -c '^    grafana_dashboard: "1"$' "$work/rendered.yaml" || true)
    if [ "$labelled" != "$dashboards" ]; then
      echo "FAIL kustomize renders $labelled ConfigMaps labelled grafana_dashboard: \"1\" for $dashboards dashboards"
      failed=1
    fi
    for kind in PrometheusRule ServiceMonitor; do
      grep -q "^kind: $kind$" "$work/rendered.yaml" || { echo "FAIL kustomize renders no $kind"; failed=1; }
    done
  else
    echo "FAIL kubectl kustomize kubernetes/monitoring"; failed=1
  fi
  # The ServiceMonitor scrapes the port named `metrics` of the Service labelled as it selects.
  say "kubectl kustomize $app_manifests"
  if kubectl kustomize "$app_manifests" >"$work/app.yaml"; then
    for line in '^kind: Service$' '^  - name: metrics$' '^    app.kubernetes.io/component: server$' \
      '^    app.kubernetes.io/name: icantkube$'; do
      grep -q "$line" "$work/app.yaml" || { echo "FAIL the app's Service has no line matching $line"; failed=1; }
    done
  else
    echo "FAIL kubectl kustomize kubernetes/app"; failed=1
  fi
fi

if [ -z "${ICANTKUBE_BIN:-}" ]; then
  say "live part skipped: set ICANTKUBE_BIN (and LEPTOS_SITE_ROOT) to run it"
  exit "$failed"
fi

say "starting icantkube in demo mode (app and metrics each on a free port)"
admin_password="monitoring-check-$RANDOM$RANDOM"
ICANTKUBE_DEMO=1 ICANTKUBE_DEMO_INTERVAL_MS=200 \
  ICANTKUBE_ADMIN_PASSWORD="$admin_password" \
  DATABASE_URL="sqlite://$work/icantkube.db" \
  LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$root/target/site}" \
  icantkube_start "$ICANTKUBE_BIN" "$work/app.log" || { echo "FAIL icantkube did not start"; exit 1; }
app=$icantkube_url
metrics=${icantkube_metrics_url%/metrics}
say "icantkube is ready on $app (metrics on $metrics)"
prom_port=$(icantkube_free_ports 1)
prom="http://127.0.0.1:$prom_port"

wait_for() { # what, seconds, command...
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "FAIL timed out waiting for $what"
  return 1
}

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [${rule_files:+"$rule_files"}]
scrape_configs:
  - job_name: icantkube
    static_configs:
      - targets: ["$icantkube_metrics_address"]
YAML
say "starting Prometheus on $prom"
prometheus --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" \
  >"$work/prometheus.log" 2>&1 &
prom_pid=$!

# shellcheck disable=SC2317 # run by wait_for
has_samples() {
  kill -0 "$prom_pid" 2>/dev/null || { echo "FAIL Prometheus exited"; exit 1; }
  curl -fsS "$prom/api/v1/query" --data-urlencode 'query=count(icantkube_machines) > 0' |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'
}
wait_for "Prometheus to hold icantkube samples" 60 has_samples

say "traffic: pages, and a reading post without a token"
for _ in 1 2 3; do curl -fsS -o /dev/null "$app/" || true; done
first=$(curl -fsS "$app/api/v1/machines" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
for _ in 1 2 3; do
  curl -sS -o /dev/null -X POST -H 'content-type: application/json' \
    --data '{"readings":[]}' "$app/api/v1/machines/$first/readings" || true
done
say "traffic: a training run (so the run-duration series exist)"
python3 "$helper" train "$app" "$admin_password" || failed=1
sleep 20

say "every alert rule and every dashboard query through Prometheus' API"
python3 "$helper" live --prometheus "$prom" --app "$app" --metrics "$metrics" "$monitoring/dashboards" || failed=1

if [ "$failed" != 0 ]; then
  say "monitoring checks FAILED"
else
  say "monitoring checks passed"
fi
exit "$failed"
