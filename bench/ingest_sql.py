"""bench/ingest.sh's command-line peers: SQL scripts storing the readings of VALUES_TXT (from
bench/ingest_data.py) as icantkube stores them, in one transaction. For sqlite3, with
icantkube's pragmas: ROWS_SQL with one INSERT per row, MULTI_SQL with 500-row INSERTs as
icantkube itself sends them. For the mariadb client, MARIADB_SQL: the 500-row INSERTs.

    python3 bench/ingest_sql.py VALUES_TXT ROWS_SQL MULTI_SQL MARIADB_SQL
"""

import sys

head = ("INSERT INTO readings (machine_id, recorded_at, client_seq, sensor_values, failure, "
        "failure_mode, time_to_failure, received_at) VALUES ")
rows = [f"(1, 1795000000000, NULL, '{line.strip()}', NULL, NULL, NULL, 1795000000000)"
        for line in open(sys.argv[1])]
prelude = "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nBEGIN;\n"
with open(sys.argv[2], "w") as sql:
    sql.write(prelude + "".join(f"{head}{row};\n" for row in rows) + "COMMIT;\n")
chunks = [rows[i:i + 500] for i in range(0, len(rows), 500)]
multi = "".join(f"{head}{', '.join(c)};\n" for c in chunks) + "COMMIT;\n"
with open(sys.argv[3], "w") as sql:
    sql.write(prelude + multi)
with open(sys.argv[4], "w") as sql:
    sql.write("BEGIN;\n" + multi)
