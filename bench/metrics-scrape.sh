#!/usr/bin/env bash
# One Prometheus scrape of /metrics on a fleet of MACHINES (1,000) milling machines, each with an
# active model and a prediction: time, bytes and series, at the default per-machine cap of 200
# and at a cap of MACHINES (the same database, the server restarted), next to the peer measured
# in the same run: Python's prometheus_client serving the same families, series and values
# (parsed from icantkube's own scrape) through its start_http_server. The peer serves them from
# memory; icantkube reads the fleet from SQLite and /proc at every scrape, as in production.
#   bench/metrics-scrape.sh [MACHINES] [REPEATS]
# The Python side lives in a virtualenv, ICANTKUBE_BENCH_VENV (default
# ~/.cache/icantkube/bench-venv, shared with bench/models.sh), made on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
machines=${1:-1000}
repeats=${2:-50}
warmup=5
caps=(200 "$machines")

venv=${ICANTKUBE_BENCH_VENV:-$HOME/.cache/icantkube/bench-venv}
pin=prometheus_client==0.26.0
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
python="$venv/bin/python"
if ! "$python" -c 'from importlib.metadata import version; assert version("prometheus_client") == "0.26.0"' 2>/dev/null; then
  echo "installing $pin into $venv"
  "$python" -m pip install -q "$pin"
fi

cargo build --release -p server --bin icantkube >/dev/null
binary="$CARGO_TARGET_DIR/release/icantkube"

work=$(mktemp -d)
server=""
peer=""
stop() { # the process whose id is $1, if any
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() { stop "$peer"; stop "$server"; rm -rf "$work"; }
trap cleanup EXIT

free_ports() { # $1 distinct free loopback ports, held open together so none repeats
  python3 -c 'import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}

# icantkube on the bench database with the metrics cap $1; sets server, base and metrics_url.
# No demo fleet; the API and forms need no site bundle, only a site root that exists.
start_server() {
  local port metrics_port
  read -r port metrics_port <<<"$(free_ports 2)"
  base="http://127.0.0.1:$port"
  metrics_url="http://127.0.0.1:$metrics_port/metrics"
  DATABASE_URL="sqlite://$work/bench.db" ICANTKUBE_LISTEN="127.0.0.1:$port" \
    ICANTKUBE_METRICS_LISTEN="127.0.0.1:$metrics_port" ICANTKUBE_METRICS_MACHINE_CAP="$1" \
    ICANTKUBE_ADMIN_PASSWORD=bench ICANTKUBE_INGEST_TOKEN=bench RUST_LOG=warn \
    LEPTOS_SITE_ROOT="$work" "$binary" serve &
  server=$!
  for _ in $(seq 300); do
    curl -sf "$base/readyz" >/dev/null && return
    kill -0 "$server" 2>/dev/null || { echo "icantkube exited during start-up" >&2; exit 1; }
    sleep 0.1
  done
  echo "icantkube not ready after 30 s" >&2
  exit 1
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: icantkube $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1), $("$python" -c 'import sys; from importlib.metadata import version; print("Python", sys.version.split()[0] + ", prometheus_client", version("prometheus_client"))')"

# A training set in the AI4I 2020 layout and one reading per machine, both drawn from the data
# set's published generating process, so some machines land in a failure region (HDF, PWF,
# OSF) and the fleet gets every status.
python3 - "$machines" "$work/train.csv" "$work/fleet.jsonl" <<'PY'
import json, math, random, sys
machines, train_path, fleet_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
random.seed(2020)
strain_limit = {"L": 11000, "M": 12000, "H": 13000}

def process(variant):
    air = random.gauss(300, 2)
    process_temperature = air + 10 + random.gauss(0, 1)
    load = random.gauss(0, 1)  # torque up, speed down: the data set's power stays near constant
    torque = max(4.0, 40 + 10 * load)
    speed = 1539 - 179 * (0.88 * load + 0.47 * random.gauss(0, 1))
    wear = random.randint(0, 240)
    power = torque * speed * 2 * math.pi / 60
    modes = {
        "TWF": wear >= 200 and random.random() < 0.1,
        "HDF": process_temperature - air < 8.6 and speed < 1380,
        "PWF": power < 3500 or power > 9000,
        "OSF": wear * torque > strain_limit[variant],
        "RNF": random.random() < 0.001,
    }
    values = {"air_temperature": round(air, 1), "process_temperature": round(process_temperature, 1),
              "rotational_speed": round(speed), "torque": round(torque, 1), "tool_wear": wear}
    return values, modes

def variant():
    return random.choices("LMH", weights=(50, 30, 20))[0]

with open(train_path, "w") as out:
    out.write("UDI,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],"
              "Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF\n")
    for udi in range(1, 5001):
        v = variant()
        values, modes = process(v)
        flags = [int(f) for f in modes.values()]
        out.write(",".join(map(str, [udi, v, *values.values(), int(any(flags)), *flags])) + "\n")
with open(fleet_path, "w") as out:
    for i in range(1, machines + 1):
        v = variant()
        out.write(json.dumps({"name": f"mill-{i:04}", "type": v, "values": process(v)[0]}) + "\n")
PY

start_server "${caps[0]}"
setup_started=$(date +%s%N)

# One model for the profile, trained the way an admin does: sign in, upload the data set, start
# a training run (the local runner, a child `icantkube train --run-id N`), wait for it.
jar="$work/cookies"
curl -sf -o /dev/null -c "$jar" --data-urlencode password=bench "$base/login"
csrf=$(curl -sf -b "$jar" "$base/training/new" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
[ -n "$csrf" ] || { echo "no CSRF token on /training/new after sign-in" >&2; exit 1; }
uploaded=$(curl -sf -o /dev/null -w '%{redirect_url}' -b "$jar" -F "csrf=$csrf" -F name=bench \
  -F "file=@$work/train.csv;type=text/csv" "$base/datasets")
dataset=$(sed -n 's/.*[?&]dataset=\([0-9]*\)$/\1/p' <<<"$uploaded")
[ -n "$dataset" ] || { echo "data set not stored: $uploaded" >&2; exit 1; }
started=$(curl -sf -o /dev/null -w '%{redirect_url}' -b "$jar" --data-urlencode "csrf=$csrf" \
  --data-urlencode "dataset_id=$dataset" --data-urlencode 'target=Machine failure' \
  --data-urlencode algorithm=random_forest --data-urlencode trees=50 "$base/training")
run=$(sed -n 's|.*/training/\([0-9]*\)$|\1|p' <<<"$started")
[ -n "$run" ] || { echo "training run not started: $started" >&2; exit 1; }
state=""
for _ in $(seq 600); do
  state=$(curl -sf -b "$jar" "$base/training/$run" | grep -o 'data-state="\(completed\|failed\|cancelled\)"' | head -1 || true)
  [ -n "$state" ] && break
  kill -0 "$server" 2>/dev/null || { echo "icantkube exited during training" >&2; exit 1; }
  sleep 0.5
done
[ "$state" = 'data-state="completed"' ] || { echo "training run $run did not complete: ${state:-still running after 300 s}" >&2; exit 1; }
version=$(curl -sf -b "$jar" "$base/models" | grep -o 'data-version="[0-9]*"' | head -1 | cut -d'"' -f2)
[ -n "$version" ] || { echo "no model version on /models after run $run" >&2; exit 1; }

# The fleet through the JSON API over one keep-alive connection: register each machine, make
# the version its active model, post its reading (scored as it is stored). Then checks that
# every machine has the model, a probability, a status and a latest reading.
python3 - "${base#http://127.0.0.1:}" "$work/fleet.jsonl" "$version" <<'PY'
import base64, collections, http.client, json, sys
port, fleet_path, version = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
admin = {"Authorization": "Basic " + base64.b64encode(b"admin:bench").decode(),
         "Content-Type": "application/json"}
ingest = {"Authorization": "Bearer bench", "Content-Type": "application/json"}

def call(method, path, headers, body, expected):
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != expected:
        sys.exit(f"FAILED: {method} {path}: HTTP {response.status}: {data[:500]!r}")
    return json.loads(data)

fleet = [json.loads(line) for line in open(fleet_path)]
for m in fleet:
    call("POST", "/api/v1/machines", admin,
         {"name": m["name"], "profile": "ai4i2020", "attributes": {"type": m["type"]}}, 201)
    call("PUT", f"/api/v1/machines/{m['name']}/model", admin,
         {"model_version_id": version, "reason": "bench"}, 200)
    answer = call("POST", f"/api/v1/machines/{m['name']}/readings", ingest, {"values": m["values"]}, 201)
    if answer.get("scored") != 1:
        sys.exit(f"FAILED: {m['name']}'s reading was not scored: {answer}")

shown = call("GET", "/api/v1/machines", {}, None, 200)
ready = [m for m in shown if m["active_model_version_id"] == version
         and m["failure_probability"] is not None and m["last_reading_at"] is not None
         and m["status"] != "unknown"]
statuses = collections.Counter(m["status"] for m in shown)
print(f"fleet: {len(shown)} ai4i2020 machines; model version id {version} active, a failure "
      f"probability, a status and a latest reading on {len(ready)}; "
      + ", ".join(f"{status} {n}" for status, n in statuses.most_common()))
if len(shown) != len(fleet) or len(ready) != len(fleet):
    sys.exit("FAILED: not every machine was set up")
PY
echo "setup (training run $run included): $(( ($(date +%s%N) - setup_started) / 1000000 )) ms"

# The peer: prometheus_client's exposition of the families of icantkube's scrape in $1, with the
# same label sets and values, rebuilt at every scrape by a custom collector (as icantkube builds
# its registry at every scrape), served by start_http_server on port $2.
start_peer() {
  "$python" - "$1" "$2" <<'PY' &
import sys, threading
from collections import defaultdict
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.parser import text_string_to_metric_families

text_path, port = sys.argv[1], int(sys.argv[2])
families = []  # (kind, name, help, label names, [(label values, value or (buckets, sum))])
for family in text_string_to_metric_families(open(text_path).read()):
    names = [n for n in (family.samples[0].labels if family.samples else {}) if n != "le"]
    if family.type == "histogram":
        buckets, sums = defaultdict(list), {}
        for s in family.samples:
            key = tuple(s.labels[n] for n in names)
            if s.name.endswith("_bucket"):
                buckets[key].append((s.labels["le"], s.value))
            elif s.name.endswith("_sum"):
                sums[key] = s.value
        series = [(key, (buckets[key], sums[key])) for key in buckets]
    else:
        series = [(tuple(s.labels[n] for n in names), s.value) for s in family.samples]
    families.append((family.type, family.name, family.documentation, names, series))

make = {"gauge": GaugeMetricFamily, "counter": CounterMetricFamily, "histogram": HistogramMetricFamily}

class Scraped:
    def collect(self):
        for kind, name, help, names, series in families:
            metric = make[kind](name, help, labels=names)
            for labels, value in series:
                if kind == "histogram":
                    metric.add_metric(list(labels), value[0], value[1])
                else:
                    metric.add_metric(list(labels), value)
            yield metric

registry = CollectorRegistry()
registry.register(Scraped())
start_http_server(port, addr="127.0.0.1", registry=registry)
threading.Event().wait()
PY
  peer=$!
  peer_url="http://127.0.0.1:$2/metrics"
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$peer_url" && return
    kill -0 "$peer" 2>/dev/null || { echo "the prometheus_client peer exited during start-up" >&2; exit 1; }
    sleep 0.1
  done
  echo "the prometheus_client peer not answering after 10 s" >&2
  exit 1
}

# One GET per curl process, so each scrape opens its own connection, as prometheus_client's
# HTTP/1.0 server needs anyway; asking for gzip as Prometheus does (both servers compress).
# Prints the time and the bytes on the wire; the body is saved decompressed.
scrape() { curl -sf --compressed -o "$2" -w '%{time_total} %{size_download}\n' "$1"; }

echo
echo "One GET /metrics per curl process (a new loopback connection each, Accept-Encoding: gzip"
echo "as Prometheus sends it), $repeats scrapes after $warmup warm-up ones, icantkube and the peer"
echo "alternating; time is curl's time_total; bytes is the text, wire what was sent for it."
results="$work/results.txt"
for cap in "${caps[@]}"; do
  if [ "$cap" != "${caps[0]}" ]; then
    stop "$server"
    start_server "$cap"
  fi
  scrape "$metrics_url" "$work/icantkube-$cap.txt" >/dev/null
  start_peer "$work/icantkube-$cap.txt" "$(free_ports 1)"
  for _ in $(seq "$warmup"); do
    scrape "$metrics_url" /dev/null >/dev/null
    scrape "$peer_url" /dev/null >/dev/null
  done
  : >"$work/times-icantkube" && : >"$work/times-peer"
  for _ in $(seq "$repeats"); do
    scrape "$metrics_url" "$work/icantkube-$cap.txt" >>"$work/times-icantkube"
    scrape "$peer_url" "$work/peer-$cap.txt" >>"$work/times-peer"
  done
  stop "$peer"
  peer=""
  for who in icantkube peer; do
    body="$work/$who-$cap.txt"
    echo "$cap $who $(grep -vc '^#' "$body") $(grep -c 'machine="' "$body") $(wc -c <"$body")" \
      "$(tail -1 "$work/times-$who" | cut -d' ' -f2) $(cut -d' ' -f1 "$work/times-$who" | tr '\n' ' ')" >>"$results"
  done
done

python3 - "$results" <<'PY'
import math, sys

def percentile(sorted_values, p):  # nearest rank
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]

rows = {}
for line in open(sys.argv[1]):
    cap, who, series, per_machine, size, wire, *times = line.split()
    times = sorted(float(t) * 1000 for t in times)
    rows[cap, who] = dict(series=int(series), per_machine=int(per_machine), size=int(size),
                          wire=int(wire), p50=percentile(times, 50), p90=percentile(times, 90))
names = {"icantkube": "icantkube", "peer": "prometheus_client"}
print(f"\n  {'cap':>5}  {'server':17}  {'series':>6}  {'per machine':>11}  {'bytes':>8}  "
      f"{'wire':>7}  {'p50 ms':>7}  {'p90 ms':>7}")
failed = False
for cap in dict.fromkeys(c for c, _ in rows):
    for who in ("icantkube", "peer"):
        r = rows[cap, who]
        print(f"  {cap:>5}  {names[who]:17}  {r['series']:6}  {r['per_machine']:11}  {r['size']:8,}  "
              f"{r['wire']:7,}  {r['p50']:7.2f}  {r['p90']:7.2f}")
    ours, peer = rows[cap, "icantkube"], rows[cap, "peer"]
    print(f"  {'':5}  icantkube / prometheus_client: time p50 {ours['p50'] / peer['p50']:.2f}, "
          f"p90 {ours['p90'] / peer['p90']:.2f}; bytes {ours['size'] / peer['size']:.2f}, "
          f"wire {ours['wire'] / peer['wire']:.2f}")
    if ours["series"] != peer["series"]:
        print(f"  FAILED: the peer served {peer['series']} series, icantkube {ours['series']}")
        failed = True
low, high = list(dict.fromkeys(c for c, _ in rows))
a, b = rows[low, "icantkube"], rows[high, "icantkube"]
print(f"\n  icantkube, cap {high} / cap {low}: series {b['series'] / a['series']:.2f}, "
      f"bytes {b['size'] / a['size']:.2f}, wire {b['wire'] / a['wire']:.2f}, "
      f"time p50 {b['p50'] / a['p50']:.2f}")
sys.exit(1 if failed else 0)
PY
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)"
