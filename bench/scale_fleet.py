"""bench/scale.sh's fleet: grows a running icantkube's fleet to TO machines through the JSON API,
registering machines FROM+1..TO of FLEET_JSONL (bench/metrics_scrape_data.py's, drawn from the
AI4I 2020 generating process, so some land in a failure region), as
bench/metrics_scrape_fleet.py does, and in the same way: each machine registered (with a place,
one of PLACES halls, so the fleet page's filters have something to show), model VERSION made its
active model, then three readings posted in one batch (scored as they are stored, the newest its
line's values). Every 20th machine gets no model, so its status stays unknown and the statuses
vary. Then checks the fleet has TO machines and prints its statuses and places.

Registration takes one connection (concurrent admin requests from one address trip the
server's password-attempt limit); the readings four, which the server commits together.

    python3 bench/scale_fleet.py PORT TOKEN FLEET_JSONL FROM TO VERSION [PLACES]

A server that refuses the `place` field (older than the fleet page's filters) gets none.
"""

import base64, collections, http.client, json, sys, threading, time

port, token, fleet_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
first, last, version = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
places = int(sys.argv[7]) if len(sys.argv) > 7 else 8
CONNECTIONS = 4
admin = {"Authorization": "Basic " + base64.b64encode(b"admin:bench").decode(),
         "Content-Type": "application/json"}
ingest = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
fleet = [json.loads(line) for line in open(fleet_path)][first:last]
if len(fleet) != last - first:
    sys.exit(f"FAILED: {fleet_path} has fewer than {last} machines")
with_place = [True]
failures = []


def call(conn, method, path, headers, body, expected, answer=None):
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    data = response.read()
    if answer is not None:
        answer["link"] = response.getheader("Link")
    if response.status != expected:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


def register(conn, index, m):
    body = {"name": m["name"], "profile": "ai4i2020", "attributes": {"type": m["type"]}}
    if with_place[0]:
        body["place"] = f"Hall {index % places + 1}"
    try:
        call(conn, "POST", "/api/v1/machines", admin, body, 201)
    except RuntimeError as error:
        if "place" not in body or "place" not in str(error):
            raise
        if with_place[0]:
            with_place[0] = False
            print("note: this server refuses the place field; machines are registered without one",
                  flush=True)
        body.pop("place")
        call(conn, "POST", "/api/v1/machines", admin, body, 201)


def register_all(share):
    """Registers each machine and sets its model, in turn: the server counts every admin
    password check per address, and concurrent ones from one address trip its limit."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for index, m in share:
        register(conn, index, m)
        if index % 20 != 19:
            call(conn, "PUT", f"/api/v1/machines/{m['name']}/model", admin,
                 {"model_version_id": version, "reason": "bench"}, 200)


def post_readings(share):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    now = int(time.time())
    try:
        for index, m in share:
            earlier = [{"timestamp": now - 60 * k,
                        "values": {**m["values"], "tool_wear": max(0, m["values"]["tool_wear"] - k)}}
                       for k in (2, 1)]
            answer = call(conn, "POST", f"/api/v1/machines/{m['name']}/readings", ingest,
                          earlier + [{"timestamp": now, "values": m["values"]}], 201)
            if index % 20 != 19 and answer.get("scored") != 3:
                raise RuntimeError(f"{m['name']}'s readings were not all scored: {answer}")
    except Exception as error:  # reported once the other connections are done
        failures.append(str(error))


started = time.perf_counter()
indexed = list(enumerate(fleet, start=first))
try:
    register_all(indexed)
except RuntimeError as error:
    sys.exit(f"FAILED: {error}")
registered = time.perf_counter() - started
threads = [threading.Thread(target=post_readings, args=(indexed[i::CONNECTIONS],))
           for i in range(CONNECTIONS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
if failures:
    sys.exit("FAILED: " + failures[0])
took = time.perf_counter() - started

# The whole fleet, page after page, following each answer's Link to the next.
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
shown, path = [], "/api/v1/machines?limit=1000"
while path:
    answer = {}
    shown += call(conn, "GET", path, {}, None, 200, answer)
    link = answer["link"]
    path = link[link.index("<") + 1:link.index(">")] if link else None
statuses = collections.Counter(m["status"] for m in shown)
halls = collections.Counter(m.get("place") for m in shown)
print(f"fleet: {len(shown)} machines ({last - first} registered in {registered:.1f} s, then 3 readings "
      f"each in {took - registered:.1f} s); "
      + ", ".join(f"{status} {n}" for status, n in statuses.most_common())
      + f"; {len([h for h in halls if h])} places")
if len(shown) != last:
    sys.exit(f"FAILED: the server lists {len(shown)} machines, not {last}")
