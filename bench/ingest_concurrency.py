"""bench/ingest-concurrency.sh's client: ONE reading per HTTP request from CLIENTS concurrent
clients, each its own keep-alive connection on loopback, each posting its next reading as soon as
the previous one is answered (closed loop), for SECONDS per client count.

For each client count it runs, on fresh connections:
  1. GET /healthz from the same number of clients: the client's ceiling (see below);
  2. POST /api/v1/machines/MILL/readings, client i to MILLS[i mod len(MILLS)] (the demo's
     milling machines, each with its active model, so every reading is scored live), each body
     one reading `{"seq": ..., "values": {...}}` (the shape bench/ingest_latency.py posts, plus a
     `seq` unique in the run, so the server deduplicates nothing).
Each run has WARMUP s first, whose answers are checked and counted for durability but not timed.
Per request of the timed window it records the latency and the status (0: connection error or
no answer within TIMEOUT s). Before and after each ingest run it reads every mill's
`reading_count` (GET /api/v1/machines/MILL): the increase must equal the readings answered 2xx
with `"stored":1`, warm-up and stragglers included, or the bench fails.

The client: pure stdlib. Each worker PROCESS drives its share of the connections (at most
CLIENTS_PER_PROCESS) from one selectors loop over blocking sockets with hand-built requests and a
minimal HTTP/1.1 response parser: no threads, so no GIL hand-offs, and far less Python per
request than http.client. More clients than CLIENTS_PER_PROCESS: more processes, whose records
are merged.

The /healthz run says when the client, not icantkube, is the limit: it is the most the same
client (processes, connections, parser) gets through on this machine with the server doing
almost nothing, on the same two cores. When readings/s comes near it, or a client process uses
a whole core, the figure is the client's and not the server's; the table flags it.

    python3 bench/ingest_concurrency.py PORT SERVER_PID SECONDS MILLS CLIENTS...

MILLS is comma-separated. The ingest token is read from ICANTKUBE_INGEST_TOKEN.
"""

import array, http.client, json, math, multiprocessing, os, random, selectors, socket, sys, time

WARMUP = 1.0  # seconds per run before the timed window
TIMEOUT = 30.0  # seconds without an answer before a request counts as a connection error
CLIENTS_PER_PROCESS = int(os.environ.get("CLIENTS_PER_PROCESS", "8"))
GOAL_RATE, GOAL_P99_MS, GOAL_CLIENTS, GOAL_SPEEDUP = 10_000, 20.0, 8, 4.0

port, server_pid, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
mills = sys.argv[4].split(",")
levels = [int(a) for a in sys.argv[5:]]
token = os.environ["ICANTKUBE_INGEST_TOKEN"]
ticks = os.sysconf("SC_CLK_TCK")


def server_cpu():
    """The server's user + system CPU seconds so far."""
    try:
        with open(f"/proc/{server_pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        sys.exit(f"FAILED: the server (process {server_pid}) exited during the run")
    return (int(fields[11]) + int(fields[12])) / ticks


def value_pool(seed, size=512):
    """JSON `values` objects like bench/ingest_latency.py's, made up front so the timed loop
    only glues bytes together."""
    rng = random.Random(seed)
    return [json.dumps({
        "air_temperature": round(300.1 + rng.uniform(-0.5, 0.5), 1),
        "process_temperature": round(310.2 + rng.uniform(-0.5, 0.5), 1),
        "rotational_speed": 1500 + rng.randint(-30, 30),
        "torque": round(40.5 + rng.uniform(-2, 2), 1),
        "tool_wear": wear % 241,
    }, separators=(",", ":")).encode() for wear in range(size)]


class Connection:
    __slots__ = ("sock", "path", "buffer", "started", "seq_prefix")

    def __init__(self, path, seq_prefix):
        self.path, self.seq_prefix = path, seq_prefix
        self.sock, self.buffer, self.started = None, b"", 0


def parse(buffer):
    """(status, body, rest, close) once `buffer` holds a whole response, else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].lower()
    status = int(head[9:12])
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17:line_end if line_end >= 0 else len(head)])
        if len(buffer) < end + 4 + length:
            return None
        body, rest = buffer[end + 4:end + 4 + length], buffer[end + 4 + length:]
    elif b"\r\ntransfer-encoding: chunked" in head:
        body, at = b"", end + 4
        while True:
            size_end = buffer.find(b"\r\n", at)
            if size_end < 0:
                return None
            size = int(buffer[at:size_end].split(b";")[0], 16)
            if len(buffer) < size_end + 2 + size + 2:
                return None
            body += buffer[size_end + 2:size_end + 2 + size]
            at = size_end + 2 + size + 2
            if size == 0:
                break
        rest = buffer[at:]
    else:
        raise ValueError("an answer with neither content-length nor chunked encoding")
    return status, body, rest, b"\r\nconnection: close" in head


def worker(kind, paths, run_index, process, start, window_end, results):
    """Runs one process's connections; puts its records and counters on `results`."""
    values = value_pool(1000 * run_index + process)
    host = f"127.0.0.1:{port}".encode()
    if kind == "ingest":
        head = (b"POST %s HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer " + token.encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n")
    else:
        healthz = b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    timed_from, stop_at = start + WARMUP, window_end
    latencies, statuses = array.array("q"), array.array("H")  # the timed window's requests
    counts = {"answered_2xx": 0, "stored": 0, "not_stored": 0, "unscored": 0, "errors": 0}
    samples = []  # a few answers that were not what they should be
    selector = selectors.DefaultSelector()
    connections = [Connection(path.encode(), f"r{run_index}-p{process}-{i}".encode())
                   for i, path in enumerate(paths)]
    counter = [0]

    def connect(conn):
        conn.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.buffer = b""
        selector.register(conn.sock, selectors.EVENT_READ, conn)

    def drop(conn):
        if conn.sock is not None:
            selector.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def send(conn):
        if kind == "ingest":
            counter[0] += 1
            body = b'{"seq":"%s-%d","values":%s}' % (conn.seq_prefix, counter[0],
                                                    values[counter[0] % len(values)])
            request = head % (conn.path, len(body)) + body
        else:
            request = healthz
        conn.started = time.perf_counter_ns()
        try:
            if conn.sock is None:
                connect(conn)
            conn.sock.sendall(request)
            return True
        except OSError as error:
            finish(conn, 0, repr(error).encode())
            return False

    def finish(conn, status, body):
        """Records the answer (status 0: none) to the request `conn` sent."""
        now = time.perf_counter_ns()
        ok = 200 <= status < 300
        if kind == "ingest" and ok:
            counts["answered_2xx"] += 1
            if b'"stored":1' in body:
                counts["stored"] += 1
                if b'"failure_probability"' not in body:
                    counts["unscored"] += 1
                    if len(samples) < 3:
                        samples.append(f"answered without a prediction: {body[:300]!r}")
            else:
                counts["not_stored"] += 1
                if len(samples) < 3:
                    samples.append(f"answered {status} but not stored: {body[:300]!r}")
        elif not ok:
            counts["errors"] += 1
            if len(samples) < 3:
                samples.append(f"HTTP {status or 'connection error'}: {body[:300]!r}")
            if status == 0:
                drop(conn)
        if conn.started >= timed_from_ns:
            latencies.append(now - conn.started)
            statuses.append(status)
        conn.started = 0

    # Connect everyone before the clock starts, then wait for the common start.
    for conn in connections:
        connect(conn)
    pause = start - time.perf_counter()
    if pause > 0:
        time.sleep(pause)
    timed_from_ns = int(timed_from * 1e9)
    stop_ns = int(stop_at * 1e9)
    cpu_at_window = None
    for conn in connections:
        send(conn)
    errors_in_a_row = 0
    while any(conn.started for conn in connections):
        events = selector.select(timeout=1.0)
        now = time.perf_counter_ns()
        if cpu_at_window is None and now >= timed_from_ns:
            cpu_at_window = time.process_time()
        if not events:
            for conn in connections:
                if conn.started and now - conn.started > TIMEOUT * 1e9:
                    finish(conn, 0, b"no answer within %d s" % TIMEOUT)
        for key, _ in events:
            conn = key.data
            try:
                data = conn.sock.recv(65536)
            except OSError as error:
                data, failure = b"", repr(error).encode()
            else:
                failure = b"connection closed by the server"
            if not data:
                finish(conn, 0, failure)
            else:
                conn.buffer += data
                try:
                    answer = parse(conn.buffer)
                except ValueError as error:
                    finish(conn, 0, str(error).encode())
                    answer = None
                if answer is None:
                    continue
                status, body, conn.buffer, close = answer
                finish(conn, status, body)
                if close:
                    drop(conn)
                errors_in_a_row = 0
        for conn in connections:
            if conn.started == 0 and time.perf_counter_ns() < stop_ns:
                if conn.sock is None:
                    errors_in_a_row += 1
                    if errors_in_a_row > 1000:
                        sys.exit("FAILED: 1000 connection errors in a row")
                    time.sleep(0.01)
                send(conn)
    cpu = time.process_time() - (cpu_at_window if cpu_at_window is not None else time.process_time())
    for conn in connections:
        drop(conn)
    results.put((process, latencies, statuses, counts, samples, cpu))


def run(kind, level, run_index):
    """One timed run of `level` clients; the merged records."""
    processes = math.ceil(level / CLIENTS_PER_PROCESS)
    if kind == "ingest":
        paths = [f"/api/v1/machines/{mills[i % len(mills)]}/readings" for i in range(level)]
    else:
        paths = ["/healthz"] * level
    shares = [paths[p::processes] for p in range(processes)]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    # A common start a moment ahead, after every process has forked and connected (perf_counter
    # is CLOCK_MONOTONIC on Linux, the same clock in every process).
    start = time.perf_counter() + 0.5 + 0.05 * processes
    window_end = start + WARMUP + seconds
    workers = [context.Process(target=worker, args=(kind, share, run_index, p, start, window_end, results))
               for p, share in enumerate(shares)]
    for process in workers:
        process.start()
    time.sleep(max(0.0, start + WARMUP - time.perf_counter()))
    server_from = server_cpu()
    time.sleep(max(0.0, window_end - time.perf_counter()))
    server_used = server_cpu() - server_from
    merged = [results.get(timeout=TIMEOUT + 60) for _ in workers]
    for process in workers:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"FAILED: a client process exited with status {process.exitcode}")
    latencies = sorted(v for _, records, _, _, _, _ in merged for v in records)
    statuses = [s for _, _, records, _, _, _ in merged for s in records]
    counts = {key: sum(c[key] for _, _, _, c, _, _ in merged) for key in merged[0][3]}
    samples = [s for _, _, _, _, found, _ in merged for s in found]
    ok = sum(1 for s in statuses if 200 <= s < 300)
    return {
        "processes": processes,
        "rate": ok / seconds,
        "p50": percentile(latencies, 50) / 1e6, "p99": percentile(latencies, 99) / 1e6,
        "requests": len(statuses), "ok": ok, "errors": len(statuses) - ok,
        "counts": counts, "samples": samples,
        "client_cpu": sum(cpu for *_, cpu in merged) / seconds,
        "client_cpu_max": max(cpu for *_, cpu in merged) / seconds,
        "server_cpu": server_used / seconds,
    }


def percentile(sorted_values, p):  # nearest rank
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)] if sorted_values else math.nan


def reading_counts():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    counts = {}
    for mill in mills:
        conn.request("GET", f"/api/v1/machines/{mill}")
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            sys.exit(f"FAILED: GET /api/v1/machines/{mill}: HTTP {response.status}: {data[:300]!r}")
        counts[mill] = json.loads(data)["reading_count"]
    conn.close()
    return counts


figures, failures = {}, []
for run_index, level in enumerate(levels):
    health = run("healthz", level, run_index)
    before = reading_counts()
    ingest = run("ingest", level, run_index)
    after = reading_counts()
    added = sum(after[m] - before[m] for m in mills)
    counts = ingest["counts"]
    print(f"{level} client(s), {ingest['processes']} client process(es): /healthz {health['requests']} "
          f"timed requests, {health['errors']} errors, client CPU {health['client_cpu']:.2f} cores, "
          f"server {health['server_cpu']:.2f}; ingest {ingest['requests']} timed requests, "
          f"{counts['answered_2xx']} answered 2xx in all (warm-up included), {counts['stored']} "
          f"of them \"stored\":1; the mills' reading_count rose by {added}", flush=True)
    for sample in health["samples"] + ingest["samples"]:
        print(f"  e.g. {sample}")
    if added != counts["answered_2xx"] or counts["not_stored"]:
        failures.append(f"{level} clients: {counts['answered_2xx']} readings answered 2xx "
                        f"({counts['not_stored']} without \"stored\":1), reading_count rose by {added}")
    if counts["unscored"]:
        failures.append(f"{level} clients: {counts['unscored']} readings stored without a prediction")
    figures[level] = (health, ingest)

one = figures[1][1]["rate"]
print(f"\nicantkube: one JSON reading per POST with live inference, {len(mills)} demo mills; each "
      f"client its own keep-alive connection on loopback, closed loop; {seconds:g} s per run after "
      f"{WARMUP:g} s warm-up; latency in ms; CPU in cores (of {os.cpu_count()})")
print(f"  {'clients':>7}  {'readings/s':>10}  {'p50':>6}  {'p99':>6}  {'errors':>6}  {'vs 1':>6}"
      f"  {'/healthz req/s':>14}  {'of it':>6}  {'client CPU':>10}  {'server CPU':>10}")
for level, (health, ingest) in figures.items():
    # The client is the limit when it gets near its own /healthz ceiling, or a client process
    # keeps a core busy (Python runs one core per process).
    bound = ingest["rate"] >= 0.8 * health["rate"] or ingest["client_cpu_max"] >= 0.9
    print(f"  {level:>7}  {ingest['rate']:>10,.0f}  {ingest['p50']:>6.2f}  {ingest['p99']:>6.2f}"
          f"  {ingest['errors']:>6}  {ingest['rate'] / one:>5.2f}x  {health['rate']:>14,.0f}"
          f"  {ingest['rate'] / health['rate']:>6.0%}  {ingest['client_cpu']:>10.2f}"
          f"  {ingest['server_cpu']:>10.2f}" + ("  client-bound?" if bound else ""))
print("  /healthz req/s: the same client, clients and processes against GET /healthz in the same "
      "run: the ceiling of client and HTTP round trip together; 'of it': readings/s as a share of "
      "that ceiling")

goal = (f"goal: ≥ {GOAL_RATE:,} readings/s from {GOAL_CLIENTS} clients with p99 < {GOAL_P99_MS:g} ms, "
        f"and {GOAL_CLIENTS} clients ≥ {GOAL_SPEEDUP:g}× one")
if GOAL_CLIENTS in figures:
    eight = figures[GOAL_CLIENTS][1]
    met = (eight["rate"] >= GOAL_RATE and eight["p99"] < GOAL_P99_MS
           and eight["rate"] >= GOAL_SPEEDUP * one)
    print(f"{goal}: {'met' if met else 'not met'} ({eight['rate']:,.0f} readings/s, p99 "
          f"{eight['p99']:.2f} ms, {eight['rate'] / one:.2f}× one"
          + (f"; {eight['errors']} errors" if eight["errors"] else "") + ")")
else:
    print(f"{goal}: not measured ({GOAL_CLIENTS} clients not among the levels)")
if failures:
    sys.exit("FAILED: " + "; ".join(failures))
print("durability: every reading answered 2xx is stored (the mills' reading_count, before and after each run)")
