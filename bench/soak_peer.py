"""bench/soak.sh's peer: the smallest ingest server that does icantkube's storage work, in
Python, so the same driver measures both. It serves, over HTTP/1.1 keep-alive
(http.server's ThreadingHTTPServer, a thread per connection):

  POST /api/v1/machines/NAME/readings  a JSON array of readings with `seq`, `timestamp` and
                                       `values` (Bearer bench); in one transaction: the seqs the
                                       machine already has are looked up and skipped, the new
                                       readings inserted (500 rows per INSERT, as icantkube
                                       does), the machine's latest reading updated; answers 201
                                       {"stored", "duplicates"}
  GET  /api/v1/machines/NAME           {"name", "reading_count"}
  GET  /healthz

into icantkube's own schema (MIGRATION_SQL) in DB, with icantkube's pragmas (WAL,
synchronous=NORMAL, busy timeout), one SQLite connection per thread. No checks against a sensor
schema, no scoring, no metrics: the floor of HTTP + JSON + storage in this language.

    python3 bench/soak_peer.py DB PORT MIGRATION_SQL FLEET

FLEET as for bench/soak_driver.py (NAME:KIND,...); the machines are inserted at start.
"""

import datetime, http.server, json, sqlite3, sys, threading

db_path, port, migration, fleet_arg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
AI4I = ["air_temperature", "process_temperature", "rotational_speed", "torque", "tool_wear"]
TURBOFAN = ["t24", "t30", "t50", "p30", "nf", "nc", "ps30", "phi", "nrf", "nrc", "bpr", "htbleed",
            "w31", "w32"]
ROWS_PER_STATEMENT = 500


def connect():
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


setup = connect()
setup.executescript(open(migration).read())
machines = {}  # name -> (id, sensor keys)
for entry in fleet_arg.split(","):
    name, kind = entry.split(":")
    keys = TURBOFAN if kind == "turbofan" else AI4I
    cursor = setup.execute(
        "INSERT INTO machines (name, display_name, profile, attributes, sensors, created_at, "
        "updated_at) VALUES (?, ?, ?, '{}', ?, 0, 0)",
        (name, name, "turbofan" if kind == "turbofan" else "ai4i2020",
         json.dumps([{"key": k} for k in keys])))
    machines[name] = (cursor.lastrowid, keys)
setup.close()
local = threading.local()


def millis(text):
    return int(datetime.datetime.fromisoformat(text).timestamp() * 1000)


def store(machine_id, keys, readings, now):
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = connect()
    conn.execute("BEGIN IMMEDIATE")
    try:
        seqs = [r["seq"] for r in readings]
        seen = set()
        for i in range(0, len(seqs), ROWS_PER_STATEMENT):
            chunk = seqs[i:i + ROWS_PER_STATEMENT]
            seen.update(row[0] for row in conn.execute(
                "SELECT client_seq FROM readings WHERE machine_id = ? AND client_seq IN "
                f"({', '.join('?' * len(chunk))})", [machine_id, *chunk]))
        fresh = [r for r in readings if r["seq"] not in seen]
        rows = [(machine_id, millis(r["timestamp"]), r["seq"],
                 json.dumps([float(r["values"][k]) for k in keys]), r.get("failure"),
                 r.get("failure_mode"), r.get("time_to_failure"), now) for r in fresh]
        for i in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[i:i + ROWS_PER_STATEMENT]
            conn.execute(
                "INSERT INTO readings (machine_id, recorded_at, client_seq, sensor_values, "
                "failure, failure_mode, time_to_failure, received_at) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk)),
                [value for row in chunk for value in row])
        if rows:
            newest = max(rows, key=lambda row: row[1])
            conn.execute("UPDATE machines SET last_reading_at = ?, last_values = ?, "
                         "updated_at = ? WHERE id = ?", (newest[1], newest[3], now, machine_id))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(fresh), len(readings) - len(fresh)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, document):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def machine(self, suffix=""):
        parts = self.path.split("/")
        if len(parts) == 5 + bool(suffix) and parts[:4] == ["", "api", "v1", "machines"] \
                and (not suffix or parts[5] == suffix):
            return parts[4], machines.get(parts[4])
        return None, None

    def do_GET(self):
        if self.path == "/healthz":
            return self.answer(200, {"status": "ok"})
        name, machine = self.machine()
        if machine is None:
            return self.answer(404, {"error": "not found"})
        conn = getattr(local, "conn", None) or connect()
        local.conn = conn
        count = conn.execute("SELECT COUNT(*) FROM readings WHERE machine_id = ?",
                             (machine[0],)).fetchone()[0]
        self.answer(200, {"name": name, "reading_count": count})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        name, machine = self.machine("readings")
        if machine is None:
            return self.answer(404, {"error": "not found"})
        if self.headers.get("Authorization") != "Bearer bench":
            return self.answer(401, {"error": "unauthorised"})
        try:
            readings = json.loads(body)
            now = int(datetime.datetime.now().timestamp() * 1000)
            stored, duplicates = store(machine[0], machine[1], readings, now)
        except (ValueError, KeyError, TypeError) as error:
            return self.answer(400, {"error": str(error)})
        except sqlite3.OperationalError as error:
            return self.answer(503, {"error": str(error)})
        self.answer(201 if stored else 200, {"machine": name, "stored": stored,
                                             "duplicates": duplicates})

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
server.serve_forever()
