"""bench/metrics-scrape.sh's fleet, through the JSON API over one keep-alive connection: registers
each machine of FLEET_JSONL (from bench/metrics_scrape_data.py), makes model VERSION its active
model and posts its reading (scored as it is stored); then checks that every machine has the
model, a failure probability, a status and a latest reading, and prints the fleet's statuses.

    python3 bench/metrics_scrape_fleet.py PORT FLEET_JSONL VERSION
"""

import base64, collections, http.client, json, sys
port, fleet_path, version = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
admin = {"Authorization": "Basic " + base64.b64encode(b"admin:bench").decode(),
         "Content-Type": "application/json"}
ingest = {"Authorization": "Bearer bench", "Content-Type": "application/json"}

def call(method, path, headers, body, expected, answer=None):
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != expected:
        sys.exit(f"FAILED: {method} {path}: HTTP {response.status}: {data[:500]!r}")
    if answer is not None:
        answer["link"] = response.getheader("Link")
    return json.loads(data)

def every_machine():
    """The machine list, page after page, following each answer's Link to the next."""
    machines, path = [], "/api/v1/machines?limit=1000"
    while path:
        answer = {}
        machines += call("GET", path, {}, None, 200, answer)
        link = answer["link"]
        path = link[link.index("<") + 1:link.index(">")] if link else None
    return machines

fleet = [json.loads(line) for line in open(fleet_path)]
for m in fleet:
    call("POST", "/api/v1/machines", admin,
         {"name": m["name"], "profile": "ai4i2020", "attributes": {"type": m["type"]}}, 201)
    call("PUT", f"/api/v1/machines/{m['name']}/model", admin,
         {"model_version_id": version, "reason": "bench"}, 200)
    answer = call("POST", f"/api/v1/machines/{m['name']}/readings", ingest, {"values": m["values"]}, 201)
    if answer.get("scored") != 1:
        sys.exit(f"FAILED: {m['name']}'s reading was not scored: {answer}")

shown = every_machine()
ready = [m for m in shown if m["active_model_version_id"] == version
         and m["failure_probability"] is not None and m["last_reading_at"] is not None
         and m["status"] != "unknown"]
statuses = collections.Counter(m["status"] for m in shown)
print(f"fleet: {len(shown)} ai4i2020 machines; model version id {version} active, a failure "
      f"probability, a status and a latest reading on {len(ready)}; "
      + ", ".join(f"{status} {n}" for status, n in statuses.most_common()))
if len(shown) != len(fleet) or len(ready) != len(fleet):
    sys.exit("FAILED: not every machine was set up")
