"""bench/ingest.sh's figures: the median of each run's times (seconds, space-separated), as
readings per second, and icantkube's median over each command-line peer's on its backend.

    python3 bench/ingest_report.py ROWS HTTP_TIMES ROW_INSERT_TIMES MULTI_INSERT_TIMES \
        MARIADB_HTTP_TIMES MARIADB_MULTI_TIMES
"""

import statistics
import sys

rows = int(sys.argv[1])
backends = {
    "SQLite": {
        "icantkube, HTTP POST": sys.argv[2],
        "sqlite3 CLI, row INSERTs, 1 tx": sys.argv[3],
        "sqlite3 CLI, 500-row INSERTs, 1 tx": sys.argv[4],
    },
    "MariaDB": {
        "icantkube, HTTP POST": sys.argv[5],
        "mariadb CLI, 500-row INSERTs, 1 tx": sys.argv[6],
    },
}
for backend, runs in backends.items():
    print(backend)
    medians = {}
    for name, text in runs.items():
        times = [float(t) for t in text.split()]
        medians[name] = m = statistics.median(times)
        print(f"  {name:36}: median {m*1000:7.1f} ms -> {rows/m:9,.0f} readings/s"
              f"  (runs: {', '.join(f'{t*1000:.0f}' for t in times)} ms)")
    http = medians["icantkube, HTTP POST"]
    for name in list(runs)[1:]:
        print(f"  icantkube time / {name}: {http/medians[name]:.2f}")
