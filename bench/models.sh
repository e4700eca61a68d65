#!/usr/bin/env bash
# Model quality and speed next to scikit-learn, in one run, on the same features and folds:
# the model_benchmark example trains each of icantkube's tree algorithms (5-fold
# cross-validation + final fit) and writes the features and folds it used; bench/models.py
# scores scikit-learn (and, on AI4I, the data set's published generating rules) on them with
# icantkube's metric procedure. Reference data from ../shared/data (AI4I 2020, NASA C-MAPSS FD001).
#   bench/models.sh
# The Python side lives in a virtualenv, ICANTKUBE_BENCH_VENV (default
# ~/.cache/icantkube/bench-venv), made on first use. ICANTKUBE_MODEL_BENCHMARK_BIN=path/to/
# model_benchmark runs that build of the example instead of building a release one (it starts
# no server, so ICANTKUBE_BIN does not apply).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/lib/bench.sh

python=$(bench_python scikit-learn==1.7.2 numpy==2.3.5 pandas==2.3.3)

if [ -n "${ICANTKUBE_MODEL_BENCHMARK_BIN:-}" ]; then
  example=$ICANTKUBE_MODEL_BENCHMARK_BIN
  echo "using ICANTKUBE_MODEL_BENCHMARK_BIN=$example (no build)"
else
  cargo build --release -p ml --example model_benchmark
  example="$CARGO_TARGET_DIR/release/examples/model_benchmark"
fi

algorithms=(random_forest gradient_boosting)
repeat_seeds=(1 2 3 4 5)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1) ($(rustc --version)), $("$python" -c 'import sys, sklearn, numpy, pandas; print(f"Python {sys.version.split()[0]}, scikit-learn {sklearn.__version__}, numpy {numpy.__version__}, pandas {pandas.__version__}")')"

for data in ../shared/data/ai4i2020-dev.csv ../shared/data/cmapss/train_FD001.txt; do
  echo
  if [ ! -f "$data" ]; then
    echo "SKIPPED: $data not found (../shared is absent)"
    continue
  fi
  out="$work/$(basename "$data" | cut -d. -f1)"
  echo "== $data: training icantkube, then scikit-learn on the same features and folds"
  for algorithm in "${algorithms[@]}"; do
    "$example" --data "$data" --out "$out/$algorithm" --algorithm "$algorithm"
  done
  # Every algorithm reads the same features and folds; scikit-learn gets the first's.
  cp "$out/${algorithms[0]}/features.csv" "$out/features.csv"
  cp "$out/${algorithms[0]}/icantkube.json" "$out/icantkube.json"
  "$python" bench/models.py "$out"
  echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
  # Repeated cross-validation of the default algorithm: other seeds shuffle the folds (and the
  # cut points, and the trees' randomness), so the spread shows how much a figure is luck.
  for seed in "${repeat_seeds[@]}"; do
    "$example" --data "$data" --out "$out/repeat-$seed" --set seed="$seed" >/dev/null
  done
  "$python" bench/models_report.py "$out" "${algorithms[@]}"
done
