"""bench/machine-history.sh's database report: waits until the rollup job has folded every
reading (its position in job_positions reaches the newest reading id, or TIMEOUT s pass), then
prints the SQLite file's bytes by what they hold (each table with its indexes, from SQLite's
dbstat), and bytes per reading and per million readings.

    python3 bench/database_size.py DATABASE_FILE READINGS
"""

import sqlite3, sys, time

TIMEOUT = 300.0
path, readings = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

start = time.monotonic()
while True:
    newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM readings").fetchone()[0]
    row = db.execute("SELECT position FROM job_positions WHERE name = 'rollups'").fetchone()
    folded = row[0] if row else 0
    if folded >= newest:
        break
    if time.monotonic() - start > TIMEOUT:
        print(f"the rollups reached reading {folded} of {newest} in {TIMEOUT:.0f} s: sizes as they are")
        break
    time.sleep(2)
print(f"rollups caught up with every reading after {time.monotonic() - start:.0f} s of waiting")

owner = {}
for name, table in db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"):
    owner[name] = table
sizes = {}
for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
    table = owner.get(name, name)
    sizes[table] = sizes.get(table, 0) + size
total = sum(sizes.values())
counts = {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in ("readings", "predictions", "reading_rollups")}
print(f"{'table (with its indexes)':<28} {'rows':>10} {'MB':>8} {'bytes/reading':>14}")
for table, size in sorted(sizes.items(), key=lambda item: -item[1])[:6]:
    rows = counts.get(table, "")
    print(f"{table:<28} {rows:>10} {size / 1e6:>8.1f} {size / readings:>14.1f}")
print(f"{'whole file (pages in use)':<28} {'':>10} {total / 1e6:>8.1f} {total / readings:>14.1f}")
print(f"per million readings: {total / readings:.0f} MB in all ({counts['predictions']} predictions stored)")
