"""bench/demo-memory.sh's sampler: the resident memory of a demo-mode icantkube started on a
fresh database, and of any process it starts (the demo's training child), from /readyz until
every demo machine has an active model, then while its pages are rendered, then while it
streams for SETTLE seconds; prints each peak against the goal.

Every 100 ms it reads VmRSS and VmHWM of the server and of each of its child processes
(/proc/PID/task/*/children). The server's VmHWM is its exact peak since it started, seeding
included; a child's peak is its last VmHWM read before it exited (at most 100 ms short).

    python3 bench/demo_memory.py PORT METRICS_ADDRESS PID SETTLE_SECONDS
"""

import glob, http.client, json, sys, threading, time

port, metrics_address, pid, settle = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                      float(sys.argv[4]))
MIB = 2**20
GOAL = 100 * 1000 * 1000  # bytes: 100 MB, 95.4 MiB
MODELS_TIMEOUT = 600


def status_kib(process, *fields):
    """The fields of /proc/PROCESS/status in KiB; None once the process is gone."""
    try:
        with open(f"/proc/{process}/status") as status:
            found = {}
            for line in status:
                name = line.split(":")[0]
                if name in fields:
                    found[name] = int(line.split()[1])
            return tuple(found.get(field, 0) for field in fields)
    except (FileNotFoundError, ProcessLookupError):
        return None


def children(process):
    found = set()
    for path in glob.glob(f"/proc/{process}/task/*/children"):
        try:
            found.update(int(child) for child in open(path).read().split())
        except FileNotFoundError:
            pass
    return found


def command_line(process):
    try:
        return open(f"/proc/{process}/cmdline", "rb").read().replace(b"\0", b" ").decode().strip()
    except FileNotFoundError:
        return "?"


class Sampler(threading.Thread):
    """VmRSS and VmHWM of the server and its children every 100 ms, until stopped."""

    def __init__(self):
        super().__init__()
        self.started = time.perf_counter()
        self.samples = []  # (seconds, server VmRSS KiB, summed children VmRSS KiB)
        self.children = {}  # pid -> {"command", "first", "last", "hwm"}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            now = time.perf_counter() - self.started
            server = status_kib(pid, "VmRSS")
            if server is None:
                return
            child_rss = 0
            for child in children(pid):
                seen = status_kib(child, "VmRSS", "VmHWM")
                if seen is None:
                    continue
                entry = self.children.setdefault(
                    child, {"command": command_line(child), "first": now, "hwm": 0})
                entry["last"], entry["hwm"] = now, max(entry["hwm"], seen[1])
                child_rss += seen[0]
            self.samples.append((now, server[0], child_rss))
            self.halt.wait(0.1)

    def peak_since(self, since):
        return max((s[1] for s in self.samples if s[0] >= since), default=0)


def get(path, address=f"127.0.0.1:{port}"):
    host, _, number = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(number), timeout=120)
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        sys.exit(f"FAILED: GET {path} answered {response.status}")
    return body


def hwm_kib():
    return status_kib(pid, "VmHWM")[0]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def verdict(kib):
    return "met" if kib * 1024 <= GOAL else "NOT met"


sampler = Sampler()
sampler.start()
try:
    # Until every demo machine is scored by an active model, as demo mode trains at first start.
    deadline = time.perf_counter() + MODELS_TIMEOUT
    while True:
        machines = json.loads(get("/api/v1/machines"))
        active = [m for m in machines if m.get("active_model_version_id") is not None]
        if machines and len(active) == len(machines):
            break
        if time.perf_counter() > deadline:
            sys.exit(f"FAILED: {len(active)} of {len(machines)} demo machines have a model "
                     f"after {MODELS_TIMEOUT} s")
        time.sleep(0.25)
    trained_at = time.perf_counter() - sampler.started
    hwm_trained = hwm_kib()
    trained_peak = sampler.peak_since(0)

    # What a visitor then looks at: the fleet, each machine's page (charts), the models'
    # page (evaluation charts), and a Prometheus scrape.
    pages_from = time.perf_counter() - sampler.started
    sizes = {"/": len(get("/")), "/models": len(get("/models"))}
    for machine in machines:
        sizes[f"/machines/{machine['name']}"] = len(get(f"/machines/{machine['name']}"))
    sizes["/metrics"] = len(get("/metrics", metrics_address))
    pages_peak = max(sampler.peak_since(pages_from), status_kib(pid, "VmRSS")[0])
    hwm_pages = hwm_kib()

    steady_from = time.perf_counter() - sampler.started
    time.sleep(settle)
    hwm_end = hwm_kib()
finally:
    sampler.halt.set()
    sampler.join()

samples = sampler.samples
rss_end = samples[-1][1]
print(f"demo models active on all {len(machines)} machines {trained_at:.1f} s after /readyz")
print(f"pages rendered: {len(sizes)} ({sum(sizes.values()) / 1024:.0f} KiB of HTML and metrics)")
print()
print(f"server (process {pid}, {command_line(pid)}):")
print(f"  from start through seeding and training: VmHWM when the models were active "
      f"{mib(hwm_trained)}, sampled max after /readyz {mib(trained_peak)}")
print(f"  while the pages rendered: sampled max {mib(pages_peak)}, VmHWM after {mib(hwm_pages)}")
print(f"  streaming for {settle:.0f} s: sampled max {mib(sampler.peak_since(steady_from))}, "
      f"RSS at the end {mib(rss_end)}, VmHWM at the end {mib(hwm_end)}")
stride = max(1, len(samples) // 16)
timeline = samples[::stride]
if timeline[-1] is not samples[-1]:
    timeline.append(samples[-1])
print("  RSS MiB over time (server + children): "
      + ", ".join(f"{t:.1f}s {s / 1024:.0f}+{c / 1024:.0f}" for t, s, c in timeline))
if sampler.children:
    for child, seen in sorted(sampler.children.items()):
        print(f"child process {child} ({seen['command']}): seen {seen['first']:.1f}-"
              f"{seen['last']:.1f} s, peak (last VmHWM read) {mib(seen['hwm'])}")
else:
    print("child processes: none seen (the demo trained inside the server)")
print()
print(f"goal: resident memory at most 100 MB ({GOAL / MIB:.1f} MiB) at every point")
print(f"  server, whole run (VmHWM): {mib(hwm_end):>10}  {verdict(hwm_end)}")
for child, seen in sorted(sampler.children.items()):
    print(f"  child {child}:              {mib(seen['hwm']):>10}  {verdict(seen['hwm'])} "
          f"(a process of its own)")
