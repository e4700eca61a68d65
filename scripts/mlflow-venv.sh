#!/usr/bin/env bash
# Installs the MLflow tracking server the MLflow tests start, into its own virtualenv under
# ~/.cache/icantkube, and prints the path of its `mlflow` executable. Does nothing but print
# when the pinned version is already there.
set -euo pipefail

version=3.17.2
venv="${ICANTKUBE_MLFLOW_VENV:-$HOME/.cache/icantkube/mlflow-venv}"
mlflow="$venv/bin/mlflow"

log() { printf '\033[1m[mlflow-venv]\033[0m %s\n' "$*" >&2; }

installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' \
  2>/dev/null || true)
if [ "$installed" != "$version" ]; then
  log "installing mlflow $version into $venv (a few minutes once)"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$version" >&2
fi
echo "$mlflow"
