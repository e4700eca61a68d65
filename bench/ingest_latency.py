"""bench/ingest-latency.sh's client: times ONE reading per HTTP request over one keep-alive
connection on loopback, in alternating blocks: POSTs to mill-01 (live inference), POSTs to
`plain` (a machine without a model) and GET /healthz (the round-trip floor); checks every
reading was stored and that mill-01's answers carry a failure probability; prints the figures.

    python3 bench/ingest_latency.py PORT REQUESTS BLOCK WARMUP
"""

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
