"""bench/metrics-scrape.sh's figures: RESULTS has a line per cap and server (cap, who, series,
series with a machine label, bytes, bytes on the wire, then every scrape's time in seconds);
prints the table, icantkube over prometheus_client, and the larger cap over the smaller. Exits 1
when the two servers served a different number of series.

    python3 bench/metrics_scrape_report.py RESULTS
"""

import math, sys

def percentile(sorted_values, p):  # nearest rank
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]

rows = {}
for line in open(sys.argv[1]):
    cap, who, series, per_machine, size, wire, *times = line.split()
    times = sorted(float(t) * 1000 for t in times)
    rows[cap, who] = dict(series=int(series), per_machine=int(per_machine), size=int(size),
                          wire=int(wire), p50=percentile(times, 50), p90=percentile(times, 90))
names = {"icantkube": "icantkube", "peer": "prometheus_client"}
print(f"\n  {'cap':>5}  {'server':17}  {'series':>6}  {'per machine':>11}  {'bytes':>8}  "
      f"{'wire':>7}  {'p50 ms':>7}  {'p90 ms':>7}")
failed = False
for cap in dict.fromkeys(c for c, _ in rows):
    for who in ("icantkube", "peer"):
        r = rows[cap, who]
        print(f"  {cap:>5}  {names[who]:17}  {r['series']:6}  {r['per_machine']:11}  {r['size']:8,}  "
              f"{r['wire']:7,}  {r['p50']:7.2f}  {r['p90']:7.2f}")
    ours, peer = rows[cap, "icantkube"], rows[cap, "peer"]
    print(f"  {'':5}  icantkube / prometheus_client: time p50 {ours['p50'] / peer['p50']:.2f}, "
          f"p90 {ours['p90'] / peer['p90']:.2f}; bytes {ours['size'] / peer['size']:.2f}, "
          f"wire {ours['wire'] / peer['wire']:.2f}")
    if ours["series"] != peer["series"]:
        print(f"  FAILED: the peer served {peer['series']} series, icantkube {ours['series']}")
        failed = True
caps = list(dict.fromkeys(c for c, _ in rows))
# One cap only when the fleet is as large as the default cap: nothing to compare.
if len(caps) == 2:
    low, high = caps
    a, b = rows[low, "icantkube"], rows[high, "icantkube"]
    print(f"\n  icantkube, cap {high} / cap {low}: series {b['series'] / a['series']:.2f}, "
          f"bytes {b['size'] / a['size']:.2f}, wire {b['wire'] / a['wire']:.2f}, "
          f"time p50 {b['p50'] / a['p50']:.2f}")
sys.exit(1 if failed else 0)
