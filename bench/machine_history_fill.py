"""bench/machine-history.sh's history: posts READINGS AI4I-like readings for MACHINE to a running
icantkube through its ingest API, as CSV batches of BATCH readings over one keep-alive
connection, one reading a second back from now, so the stored history is real ingest's.

    python3 bench/machine_history_fill.py PORT TOKEN MACHINE READINGS [BATCH]
"""

import http.client
import random
import sys
import time

port, token, machine, readings = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 10_000
random.seed(2020)
start = int(time.time()) - readings
connection = http.client.HTTPConnection("127.0.0.1", port)
header = "timestamp,air_temperature,process_temperature,rotational_speed,torque,tool_wear\n"
for first in range(0, readings, batch):
    rows = [header]
    for i in range(first, min(first + batch, readings)):
        rows.append(f"{start + i},{random.gauss(300, 2):.1f},{random.gauss(310, 1.5):.1f},"
                    f"{round(random.gauss(1539, 178))},{max(random.gauss(40, 10), 3.8):.1f},{i % 240}\n")
    connection.request("POST", f"/api/v1/machines/{machine}/readings", body="".join(rows).encode(),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    response = connection.getresponse()
    body = response.read()
    if response.status != 201:
        sys.exit(f"batch at reading {first}: {response.status} {body[:300]!r}")
