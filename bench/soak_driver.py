"""bench/soak.sh's client: drives one ingest server (icantkube, or the peer bench/soak_peer.py)
at a constant rate for SECONDS and records what a soak must show.

A scheduler thread releases a batch every BATCH/RATE seconds on a fixed timetable (open loop: a
slow answer does not slow the timetable, it shows as lag); CLIENTS threads, each with its own
keep-alive connection, take the batches in turn. Batch i goes to machine i mod len(FLEET) and
carries BATCH readings from that machine's simulation (AI4I milling processes with their
failure labels, or C-MAPSS-like engines run to failure), each with a unique `seq`
(PREFIX-i-j) and the time it was taken. A refused attempt (connection lost, 429, 5xx) is
retried with the same body, as a gateway would: the seqs make it safe.

Every 10 s it reads the server's VmRSS from /proc/PID/status. At the end it asks the server
for each machine's `reading_count` (GET /api/v1/machines/NAME) and writes OUT (JSON): every
attempt (start, latency, status), the RSS samples, the batches acknowledged (a 2xx) per
machine, and the counts; bench/soak_report.py checks them against the database.

    python3 bench/soak_driver.py PORT PID SECONDS RATE BATCH CLIENTS PREFIX FLEET OUT

FLEET is comma-separated NAME:KIND, KIND one of ai4i2020-L, ai4i2020-M, ai4i2020-H, turbofan.
"""

import datetime, http.client, json, math, queue, random, socket, sys, threading, time

port, pid, seconds, rate, batch, clients = (int(a) for a in sys.argv[1:7])
prefix, fleet_arg, out_path = sys.argv[7:10]
WINDOW = 10  # seconds between RSS samples and per-window figures
ATTEMPTS = 6
headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}


class Milling:
    """The AI4I 2020 process as server/src/simulator/ai4i.rs runs it (walks, wear, modes)."""

    WEAR = {"L": 2.0, "M": 3.0, "H": 5.0}
    STRAIN = {"L": 11000.0, "M": 12000.0, "H": 13000.0}

    def __init__(self, variant, rng):
        self.variant, self.rng = variant, rng
        self.air = rng.gauss(0, 2.0)
        self.process = rng.gauss(0, 0.71)
        self.tool_end = rng.uniform(200, 240)
        self.wear = math.floor(rng.uniform(0, self.tool_end))

    def next(self):
        rng, keep = self.rng, 0.98
        self.air = keep * self.air + rng.gauss(0, 2.0 * math.sqrt(1 - keep * keep))
        self.process = keep * self.process + rng.gauss(0, 0.71 * math.sqrt(1 - keep * keep))
        air = round(300 + self.air, 1)
        process = round(310 + 0.649 * self.air + self.process, 1)
        torque = round(max(3.0, rng.gauss(40, 10)), 1)
        speed = round(412.5 + 6930 / math.sqrt(torque) + rng.gauss(0, 55.5))
        self.wear += self.WEAR[self.variant]
        wear = self.wear
        power = torque * speed * 2 * math.pi / 60
        end = wear >= self.tool_end
        modes = {"HDF": process - air < 8.6 and speed < 1380, "PWF": not 3500 <= power <= 9000,
                 "OSF": wear * torque > self.STRAIN[self.variant],
                 "TWF": end and rng.random() < 51 / 120, "RNF": rng.random() < 0.001}
        if end:
            self.wear, self.tool_end = 0.0, rng.uniform(200, 240)
        reading = {"values": {"air_temperature": air, "process_temperature": process,
                              "rotational_speed": speed, "torque": torque, "tool_wear": wear},
                   "failure": int(any(modes.values()))}
        mode = next((m for m, fired in modes.items() if fired), None)
        if mode:
            reading["failure_mode"] = mode
        return reading


class Engine:
    """A turbofan slot as server/src/simulator/turbofan.rs runs it: sensors drift along an
    exponential health curve, the engine fails and is replaced."""

    KEYS = ["t24", "t30", "t50", "p30", "nf", "nc", "ps30", "phi", "nrf", "nrc", "bpr", "htbleed",
            "w31", "w32"]
    LEVELS = [(642.3808, 643.67, 0.3831), (1586.8398, 1602.2891, 4.5828),
              (1402.7583, 1428.9268, 5.9349), (553.9506, 551.4948, 0.6234),
              (2388.0584, 2388.2321, 0.0554), (9056.0069, 9097.992, 8.3492),
              (47.3525, 48.1422, 0.1787), (521.9099, 519.8092, 0.5072),
              (2388.0557, 2388.2335, 0.0548), (8137.3729, 8166.8665, 7.8682),
              (8.4183, 8.5204, 0.0266), (392.2605, 396.24, 1.1466), (38.9328, 38.446, 0.1299),
              (23.3601, 23.07, 0.0798)]

    def __init__(self, rng):
        self.rng = rng
        self.life = self.draw_life()
        self.cycle = int(self.life * rng.uniform(0, 0.8))

    def draw_life(self):
        return round(min(362, max(128, self.rng.gauss(206, 46))))

    def next(self):
        if self.cycle >= self.life:
            self.life, self.cycle = self.draw_life(), 0
        self.cycle += 1
        loss = math.expm1(4 * self.cycle / self.life) / math.expm1(4)
        values = {key: round(new + (end - new) * loss + self.rng.gauss(0, noise), 4)
                  for key, (new, end, noise) in zip(self.KEYS, self.LEVELS)}
        remaining = self.life - self.cycle
        return {"values": values, "failure": int(remaining == 0), "time_to_failure": remaining}


rng = random.Random(2020)
fleet = []  # (name, simulation, lock)
kinds = {}  # name -> profile
for entry in fleet_arg.split(","):
    name, kind = entry.split(":")
    kinds[name] = kind.split("-")[0]
    simulation = Engine(rng) if kind == "turbofan" else Milling(kind.split("-")[1], rng)
    fleet.append((name, simulation, threading.Lock()))

period = batch / rate  # seconds between two batches
machine_period = period * len(fleet)  # between two batches of one machine


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def body(index, wall):
    """Batch `index`: its machine's next BATCH readings, spread over the machine's period."""
    name, simulation, lock = fleet[index % len(fleet)]
    with lock:
        readings = []
        for j in range(batch):
            reading = simulation.next()
            reading["seq"] = f"{prefix}-{index:07d}-{j:03d}"
            reading["timestamp"] = rfc3339(wall - (batch - 1 - j) * machine_period / batch)
            readings.append(reading)
    return name, json.dumps(readings).encode()


def status_kib(field):
    """A VmRSS or VmHWM figure of the server, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


def connect():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


attempts = []  # (start since t0, latency, status or "error: ...", batch index)
acked = {name: [] for name, _, _ in fleet}  # batch indices answered 2xx, per machine
failed = []  # batch indices refused ATTEMPTS times
refused = []  # answers that are the client's fault (4xx but 429): the bench is broken
answered = {"stored": 0, "duplicates": 0}
lags = []  # (scheduled time since t0, start - scheduled)
record = threading.Lock()
tickets = queue.Queue()


def worker():
    conn = None  # connected on first use, and again after a failure
    while True:
        ticket = tickets.get()
        if ticket is None:
            if conn is not None:
                conn.close()
            return
        index, scheduled = ticket
        started = time.perf_counter()
        name, payload = body(index, time.time())
        path = f"/api/v1/machines/{name}/readings"
        delay = 0.2
        for attempt in range(1, ATTEMPTS + 1):
            start = time.perf_counter()
            try:
                if conn is None:
                    conn = connect()
                conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status, data = f"error: {type(error).__name__}", b""
                if conn is not None:
                    conn.close()
                conn = None
            latency = time.perf_counter() - start
            with record:
                attempts.append((start - t0, latency, status, index))
                if attempt == 1:
                    lags.append((scheduled - t0, started - scheduled))
            if isinstance(status, int) and 200 <= status < 300:
                answer = json.loads(data)
                with record:
                    acked[name].append(index)
                    answered["stored"] += answer.get("stored", 0)
                    answered["duplicates"] += answer.get("duplicates", 0)
                break
            refusal = isinstance(status, int) and status != 429 and status < 500
            if refusal or attempt == ATTEMPTS:
                with record:
                    failed.append(index)
                    if refusal:
                        refused.append(f"POST {path}: HTTP {status}: {data[:300]!r}")
                break
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


samples = []  # (time since t0, VmRSS KiB)
stop = threading.Event()


def sampler():
    k = 1
    while not stop.wait(max(0.0, t0 + k * WINDOW - time.perf_counter())):
        samples.append((time.perf_counter() - t0, status_kib("VmRSS")))
        k += 1


threads = [threading.Thread(target=worker) for _ in range(clients)]
for thread in threads:
    thread.start()
baseline = status_kib("VmRSS")
t0 = time.perf_counter()
sampling = threading.Thread(target=sampler)
sampling.start()
batches = int(seconds * rate / batch)
for index in range(batches):
    scheduled = t0 + index * period
    pause = scheduled - time.perf_counter()
    if pause > 0:
        time.sleep(pause)
    tickets.put((index, scheduled))
for _ in threads:
    tickets.put(None)
for thread in threads:
    thread.join()
elapsed = time.perf_counter() - t0
stop.set()
sampling.join()
samples.append((elapsed, status_kib("VmRSS")))
hwm = status_kib("VmHWM")
if hwm is None:
    sys.exit(f"FAILED: the server (process {pid}) exited during the run")

# What the server says it has, per machine, through its own API.
conn = connect()
reading_count = {}
for name, _, _ in fleet:
    conn.request("GET", f"/api/v1/machines/{name}")
    response = conn.getresponse()
    shown = json.loads(response.read())
    if response.status != 200:
        sys.exit(f"FAILED: GET /api/v1/machines/{name}: HTTP {response.status}: {shown}")
    reading_count[name] = shown.get("reading_count")
conn.close()

with open(out_path, "w") as out:
    json.dump({"seconds": seconds, "rate": rate, "batch": batch, "clients": clients,
               "prefix": prefix, "fleet": [name for name, _, _ in fleet], "kinds": kinds,
               "elapsed": elapsed,
               "window": WINDOW, "batches": batches, "attempts": attempts, "lags": lags,
               "acked": acked, "failed": failed, "refused": refused, "answered": answered,
               "reading_count": reading_count, "baseline_rss_kib": baseline,
               "rss_samples": samples, "hwm_kib": hwm}, out)
print(f"  {len(attempts)} requests for {batches} batches in {elapsed:.1f} s; "
      f"{sum(len(v) for v in acked.values())} batches acknowledged, {len(failed)} refused "
      f"{ATTEMPTS} times; the server's reading_count: {sum(v or 0 for v in reading_count.values())}")
if refused:
    sys.exit(f"FAILED: {len(refused)} batches refused as the client's mistake; the first: {refused[0]}")
