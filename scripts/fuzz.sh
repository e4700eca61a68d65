#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with cargo-fuzz (libFuzzer) on the nightly toolchain:
# the JSON and CSV reading decoders, the data-set loader, the recipe expression parser and the
# model-file reader (fuzz/fuzz_targets). Each target runs SECONDS_PER_TARGET (default 60) from
# its seed corpus, fuzz/corpus/<target>; the inputs libFuzzer adds go to a scratch folder, so
# the committed corpus never grows. A panic, an abort, an input taking over 10 s or memory
# past 2 GB fails the script, naming the input that did it (kept in fuzz/artifacts/<target>/).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
case "$seconds" in
  '' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
esac

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "SKIPPED fuzzing: no nightly toolchain"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo +nightly install cargo-fuzz --locked
fi

# Every dependency is rebuilt instrumented by nightly: a folder of their own, outside the clone.
export CARGO_TARGET_DIR="${ICANTKUBE_FUZZ_TARGET_DIR:-$HOME/.cache/icantkube/fuzz-target}"
# The fuzz crate builds with the versions the workspace pins; only libfuzzer-sys is added.
if [ ! -f fuzz/Cargo.lock ] || [ Cargo.lock -nt fuzz/Cargo.lock ]; then
  cp Cargo.lock fuzz/Cargo.lock
fi

# Debug assertions and overflow checks on (an overflow is a crash, as in the debug builds the
# tests run), optimised as fuzz/Cargo.toml says. No sanitizer: the project's crates hold no
# `unsafe` (AddressSanitizer finds memory errors safe Rust cannot make), and it slows each input.
flags=(--dev --sanitizer none)

# Longest input libFuzzer makes: room for every seed and for each parser's own size limits.
max_len() {
  case "$1" in
    model) echo 65536 ;;
    expression) echo 8192 ;;
    *) echo 16384 ;;
  esac
}

cargo +nightly fuzz build "${flags[@]}"
# Each target runs as built above: `cargo fuzz run` would build again before each target.
bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/debug"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
inputs=()
for target in $(cargo +nightly fuzz list); do
  mkdir "$scratch/$target"
  mkdir -p "fuzz/artifacts/$target"
  log="$scratch/$target.log"
  started=$SECONDS
  corpora=("$scratch/$target")
  [ -d "fuzz/corpus/$target" ] && corpora+=("fuzz/corpus/$target")
  if "$bin/$target" -artifact_prefix="fuzz/artifacts/$target/" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$target")" -print_final_stats=1 \
    "${corpora[@]}" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    echo "$target: $((SECONDS - started)) s, ${runs:-?} inputs (${rate:-?}/s), coverage ${coverage:-?} edges, no crash"
  else
    tail -n 60 "$log"
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "FAILED $target: failing input ${input:-not saved (see the log above)}"
    failed+=("$target")
    inputs+=("${input:-}")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo
  echo "fuzzing found ${#failed[@]} failing target(s):"
  for i in "${!failed[@]}"; do
    echo "  ${failed[$i]}: ${inputs[$i]:-no input saved}"
    if [ -n "${inputs[$i]}" ]; then
      echo "    replay:   $bin/${failed[$i]} ${inputs[$i]}"
      echo "    minimise: CARGO_TARGET_DIR=$CARGO_TARGET_DIR cargo +nightly fuzz tmin ${flags[*]} ${failed[$i]} ${inputs[$i]}"
    fi
  done
  exit 1
fi
