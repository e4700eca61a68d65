"""bench/upload-memory.sh's client, in two steps, each on a fresh server (the same database):

  upload: signs in through the /login form, takes the CSRF token from /training/new, uploads
          CSV through the data-set form (multipart, csrf first, then name, then file, streamed
          from disk) and checks the answer redirects to /training/new?dataset=ID; writes what
          the next step needs to STATE.
  page:   the server restarted; GETs that page (it reads the stored file back and shows its
          columns), checks it lists the data set with its rows, then prints the figures next
          to the peers' (pandas.read_csv in fresh processes, JSON lines in PEERS_JSONL).

Each measures the server's peak resident memory growth: VmRSS just before, VmHWM after (the
server is fresh, so a new high-water mark is the peak) and VmRSS sampled every 50 ms by a
thread, as a multiple of the file's size.

    python3 bench/upload_memory.py upload PORT PID PASSWORD CSV ROWS STATE
    python3 bench/upload_memory.py page PORT PID STATE PEERS_JSONL
"""

import http.client, json, os, re, sys, threading, time, urllib.parse, uuid

step, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
MIB = 2**20


def status_kib(field):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


class Sampler:
    """The server's VmRSS every 50 ms while a `with` block runs: the peak and the timeline."""

    def __enter__(self):
        self.samples, self.stop = [], threading.Event()
        self.started = time.perf_counter()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()
        return self

    def run(self):
        while True:
            self.samples.append((time.perf_counter() - self.started, status_kib("VmRSS")))
            if self.stop.wait(0.05):
                return

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()
        self.samples.append((time.perf_counter() - self.started, status_kib("VmRSS")))
        self.elapsed = time.perf_counter() - self.started


def measured(what, action, size):
    """Runs `action` with the server's memory watched; prints and answers the growth figures."""
    rss_before, hwm_before = status_kib("VmRSS"), status_kib("VmHWM")
    with Sampler() as sampler:
        result = action()
    hwm_after = status_kib("VmHWM")
    sampled = max(kib for _, kib in sampler.samples)
    # VmHWM is exact but only says something when the action set a new high-water mark.
    peak = hwm_after if hwm_after > hwm_before else sampled
    growth = (peak - rss_before) * 1024
    print(f"  {what}: {sampler.elapsed:.2f} s; RSS before {rss_before / 1024:.1f} MiB (VmHWM "
          f"{hwm_before / 1024:.1f}), VmHWM after {hwm_after / 1024:.1f}, sampled max "
          f"{sampled / 1024:.1f}, RSS after {sampler.samples[-1][1] / 1024:.1f}; peak growth "
          f"{growth / MIB:.1f} MiB = {growth / size:.2f}x the file")
    stride = max(1, len(sampler.samples) // 16)
    timeline = sampler.samples[::stride]
    if timeline[-1] is not sampler.samples[-1]:
        timeline.append(sampler.samples[-1])
    print("    RSS MiB over time: " + ", ".join(f"{t:.2f}s {kib / 1024:.0f}" for t, kib in timeline))
    return result, growth


def upload_step(password, csv_path, rows, state_path):
    size = os.path.getsize(csv_path)
    # Sign in through the form, then the CSRF token from the upload page.
    response, _ = request("POST", "/login", urllib.parse.urlencode(
        {"password": password, "next": "/training/new"}),
        {"Content-Type": "application/x-www-form-urlencoded"})
    if response.status != 303 or not response.getheader("Set-Cookie"):
        sys.exit(f"FAILED: sign-in answered {response.status}")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    response, page = request("GET", "/training/new", headers={"Cookie": cookie})
    token = re.search(rb'name="csrf" value="([^"]*)"', page)
    if response.status != 200 or not token:
        sys.exit(f"FAILED: no CSRF token on /training/new after sign-in (HTTP {response.status})")

    name = f"upload-memory-{uuid.uuid4().hex[:8]}"
    boundary = uuid.uuid4().hex

    def field(key, value):
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n"
                f"{value}\r\n").encode()

    head = (field("csrf", token.group(1).decode()) + field("name", name)
            + (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"{os.path.basename(csv_path)}\"\r\nContent-Type: text/csv\r\n\r\n"
               ).encode())
    tail = f"\r\n--{boundary}--\r\n".encode()

    def upload():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.putrequest("POST", "/datasets")
        conn.putheader("Cookie", cookie)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.endheaders()
        conn.send(head)
        with open(csv_path, "rb") as file:
            while chunk := file.read(MIB):
                conn.send(chunk)
        conn.send(tail)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    print(f"icantkube (fresh, process {pid}): the data-set form, a {size / MIB:.1f} MiB CSV "
          f"({rows} rows)")
    response, growth = measured("POST /datasets", upload, size)
    location = response.getheader("Location") or ""
    if response.status != 303 or not re.fullmatch(r"/training/new\?dataset=\d+", location):
        sys.exit(f"FAILED: the upload answered {response.status}, Location {location!r}")
    with open(state_path, "w") as state:
        json.dump({"size": size, "rows": rows, "name": name, "cookie": cookie,
                   "location": location, "upload_growth": growth}, state)


def page_step(state_path, peers_path):
    state = json.load(open(state_path))
    size, rows, name, location = state["size"], state["rows"], state["name"], state["location"]
    print(f"icantkube restarted (fresh, process {pid}, the same database and session)")
    (response, page), page_growth = measured(
        f"GET {location} (where the upload redirects: the stored file's columns)",
        lambda: request("GET", location, headers={"Cookie": state["cookie"]}), size)
    listed = re.search(
        rf"{re.escape(name)}</a>(?:<!--[^>]*-->)*\s*— {rows} rows, ai4i2020".encode(), page)
    if response.status != 200 or not listed:
        sys.exit(f"FAILED: {location} answered {response.status} and does not list {name} with "
                 f"{rows} rows")
    print(f"  stored: {location} lists {name} with {rows} rows, ai4i2020")

    print("\npandas.read_csv of the same file, each in a fresh Python process (pandas imported first)")
    peers = [json.loads(line) for line in open(peers_path)]
    for peer in peers:
        peer["growth"] = growth = (peer["hwm_after_kib"] - peer["rss_before_kib"]) * 1024
        source = "from the path" if peer["mode"] == "file" else "from the whole file read into memory"
        print(f"  {source}: {peer['rows']} rows x {peer['columns']} columns; RSS before "
              f"{peer['rss_before_kib'] / 1024:.1f} MiB, VmHWM after {peer['hwm_after_kib'] / 1024:.1f}; "
              f"peak growth {growth / MIB:.1f} MiB = {growth / size:.2f}x the file "
              f"(the DataFrame itself: {peer['frame_bytes'] / MIB:.1f} MiB)")
        if peer["rows"] != rows:
            sys.exit(f"FAILED: pandas read {peer['rows']} rows, not {rows}")

    upload_growth = state["upload_growth"]
    print(f"\npeak memory growth as a multiple of the file ({size / MIB:.1f} MiB):")
    print(f"  icantkube, upload POST             : {upload_growth / size:6.2f}x")
    print(f"  icantkube, the page it redirects to: {page_growth / size:6.2f}x")
    for peer in peers:
        label = "pandas.read_csv(path)" if peer["mode"] == "file" else "pandas, bytes + read_csv"
        print(f"  {label:35}: {peer['growth'] / size:6.2f}x   icantkube upload / this: "
              f"{upload_growth / peer['growth']:.2f}")


if step == "upload":
    upload_step(sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7])
else:
    page_step(sys.argv[4], sys.argv[5])
