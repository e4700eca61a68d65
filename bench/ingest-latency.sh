#!/usr/bin/env bash
# Ingest latency: ONE reading per HTTP request, posted over one keep-alive connection on loopback
# to a release build in demo mode, next to the peers measured in the same run and on the same
# connection: the same request to a machine without a model (so the difference is the cost of
# live inference: finding the active model, scoring, and storing the prediction in the same
# transaction), and GET /healthz (the HTTP round-trip floor, the Python client's own
# overhead included). The three are timed in alternating blocks, so drift hits each alike.
#   bench/ingest-latency.sh [REQUESTS] [BLOCK]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
requests=${1:-2000}
block=${2:-200}
warmup=100
cargo build --release -p server --bin icantkube >/dev/null
binary="$CARGO_TARGET_DIR/release/icantkube"

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# An hour between demo readings: the demo's own stream stays idle during the run. The API does
# not need the site bundle, only a site root that exists.
DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_LISTEN="127.0.0.1:$port" \
  ICANTKUBE_DEMO_INTERVAL_MS=3600000 ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=bench \
  RUST_LOG=warn LEPTOS_SITE_ROOT="$work" \
  "$binary" serve --demo &
server=$!

alive() { kill -0 "$server" 2>/dev/null || { echo "icantkube exited during start-up" >&2; exit 1; }; }
# Demo seeding happens before the listener is bound.
for _ in $(seq 600); do
  curl -sf "$base/readyz" >/dev/null && break
  alive
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "icantkube not ready after 60 s" >&2; exit 1; }

# Demo mode trains its models in the background at first start: AI4I (the mills) first, then
# turbofan (the engines). Waits for both, so no training competes with the measurement.
active_model() {
  curl -sf "$base/api/v1/machines/$1" |
    python3 -c 'import json, sys; v = json.load(sys.stdin).get("active_model_version_id"); print("" if v is None else v)'
}
started=$(date +%s%N)
for machine in mill-01 engine-01; do
  version=""
  while [ -z "$version" ]; do
    alive
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    if [ "$elapsed" -gt 300000 ]; then
      echo "$machine has no active model after 300 s" >&2
      exit 1
    fi
    version=$(active_model "$machine" || true)
    [ -n "$version" ] || sleep 0.5
  done
  elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
  echo "demo model for $machine active (version id $version) after $(python3 -c "print(f'{$elapsed/1000:.1f}')") s"
done

curl -sf -o /dev/null -u admin:bench -H 'content-type: application/json' \
  -d '{"name":"plain","profile":"ai4i2020","attributes":{"type":"M"}}' "$base/api/v1/machines"

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$port" "$requests" "$block" "$warmup" <<'PY'
import http.client, json, math, random, socket, sys, time

port, requests, block, warmup = (int(a) for a in sys.argv[1:5])
random.seed(2020)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
conn.connect()
conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
ingest_headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
seq = {"mill-01": 0, "plain": 0}
probabilities = []  # mill-01's answers, to show the model's output varies with the readings

def body(machine):
    wear = seq[machine] % 241  # 0..240, then wraps
    seq[machine] += 1
    values = {
        "air_temperature": round(300.1 + random.uniform(-0.5, 0.5), 1),
        "process_temperature": round(310.2 + random.uniform(-0.5, 0.5), 1),
        "rotational_speed": 1500 + random.randint(-30, 30),
        "torque": round(40.5 + random.uniform(-2, 2), 1),
        "tool_wear": wear,
    }
    return json.dumps({"values": values}).encode()

def fail(what, status, data):
    sys.exit(f"FAILED: {what}: HTTP {status}: {data[:500]!r}")

def post(machine):
    payload = body(machine)
    start = time.perf_counter_ns()
    conn.request("POST", f"/api/v1/machines/{machine}/readings", body=payload, headers=ingest_headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter_ns() - start
    if response.status != 201:
        fail(f"POST to {machine}", response.status, data)
    answer = json.loads(data)
    if answer.get("stored") != 1:
        fail(f"POST to {machine} stored {answer.get('stored')!r}, not 1", response.status, data)
    prediction = answer.get("prediction")
    if machine == "mill-01":
        if not isinstance(prediction, dict) or not isinstance(prediction.get("failure_probability"), (int, float)):
            fail("mill-01's answer carries no prediction with a failure_probability", response.status, data)
        probabilities.append(prediction["failure_probability"])
    elif prediction is not None:
        fail("plain (no model) answered a prediction", response.status, data)
    return elapsed

def health(_):
    start = time.perf_counter_ns()
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter_ns() - start
    if response.status != 200:
        fail("GET /healthz", response.status, data)
    return elapsed

runs = [
    ("with inference (mill-01)", lambda: post("mill-01")),
    ("without a model (plain)", lambda: post("plain")),
    ("GET /healthz (round-trip floor)", lambda: health(None)),
]
for _, run in runs:
    for _ in range(warmup):
        run()
times = {name: [] for name, _ in runs}
done = 0
while done < requests:
    count = min(block, requests - done)
    for name, run in runs:
        times[name].extend(run() for _ in range(count))
    done += count
conn.close()

# Every reading must have been stored: the warm-up and the measured ones.
check = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for machine in ("mill-01", "plain"):
    check.request("GET", f"/api/v1/machines/{machine}")
    response = check.getresponse()
    shown = json.loads(response.read())
    if machine == "plain" and shown.get("reading_count") != warmup + requests:
        sys.exit(f"FAILED: plain has {shown.get('reading_count')} readings, not {warmup + requests}")
    print(f"{machine}: {shown.get('reading_count')} readings stored")
probabilities.sort()
print(f"mill-01's answered failure_probability: min {probabilities[0]:.3g}, "
      f"median {probabilities[len(probabilities) // 2]:.3g}, max {probabilities[-1]:.3g}")

def percentile(sorted_values, p):  # nearest rank
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]

print(f"\nicantkube: {requests} POSTs of one JSON reading per machine, in blocks of {block}, "
      f"after {warmup} warm-up requests each; one keep-alive connection on loopback; microseconds")
stats = {}
width = max(len(name) for name in times)
print(f"  {'':{width}}  {'p50':>7}  {'p90':>7}  {'p99':>7}  {'mean':>7}  {'max':>7}")
for name, values in times.items():
    values = sorted(v / 1000 for v in values)
    stats[name] = s = {"p50": percentile(values, 50), "p90": percentile(values, 90),
                       "p99": percentile(values, 99), "mean": sum(values) / len(values),
                       "max": values[-1]}
    print(f"  {name:{width}}  " + "  ".join(f"{s[k]:7.0f}" for k in ("p50", "p90", "p99", "mean", "max")))
with_model, without, floor = (stats[name] for name, _ in runs)
print(f"  inference cost, p50 with - p50 without: {with_model['p50'] - without['p50']:.0f} us "
      f"(mean: {with_model['mean'] - without['mean']:.0f} us; p50 ratio {with_model['p50'] / without['p50']:.2f}x)")
print(f"  storing one reading without a model, p50 above the /healthz floor: "
      f"{without['p50'] - floor['p50']:.0f} us")
PY
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
