"""bench/ingest.sh's data: ROWS AI4I-like readings as the CSV batch icantkube is sent, and the
same readings as the JSON arrays icantkube stores (one per line), for the sqlite3 peer.

    python3 bench/ingest_data.py ROWS BATCH_CSV VALUES_TXT
"""

import random
import sys

rows, csv_path, values_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
random.seed(2020)
with open(csv_path, "w") as csv, open(values_path, "w") as values:
    csv.write("air_temperature,process_temperature,rotational_speed,torque,tool_wear\n")
    for i in range(rows):
        row = [round(random.gauss(300, 2), 1), round(random.gauss(310, 1.5), 1),
               round(random.gauss(1539, 178)), round(random.gauss(40, 10), 1), i % 240]
        csv.write(",".join(map(str, row)) + "\n")
        values.write("[" + ",".join(str(float(v)) for v in row) + "]\n")
