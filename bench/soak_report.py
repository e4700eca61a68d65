"""bench/soak.sh's figures: for each run (icantkube, then the peer), the readings lost (those a
2xx acknowledged that are not in the database, read after the server stopped), a table per
10 s window (requests, latency p50/p99, the timetable's worst lag, the server's RSS), the
overall figures and the RSS trend as a least-squares slope; then icantkube next to the peer.

    python3 bench/soak_report.py LABEL RESULTS_JSON DB [LABEL RESULTS_JSON DB ...]
"""

import json, math, os, sqlite3, sys


def percentile(sorted_values, p):  # nearest rank
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def slope(points):
    """Least-squares slope of (minutes, MiB) points, MiB per minute."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else float("nan")


def is_ok(status):
    return isinstance(status, int) and 200 <= status < 300


def report(label, results_path, db_path):
    run = json.load(open(results_path))
    batch, prefix = run["batch"], run["prefix"]
    acked = {name: {f"{prefix}-{i:07d}-{j:03d}" for i in indices for j in range(batch)}
             for name, indices in run["acked"].items()}
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    lost = extra = in_db = 0
    for name, seqs in acked.items():
        (machine_id,) = db.execute("SELECT id FROM machines WHERE name = ?", (name,)).fetchone()
        stored = {row[0] for row in db.execute(
            "SELECT client_seq FROM readings WHERE machine_id = ? AND client_seq LIKE ?",
            (machine_id, prefix + "-%"))}
        in_db += len(stored)
        lost += len(seqs - stored)
        extra += len(stored - seqs)
    db.close()
    readings_acked = sum(len(s) for s in acked.values())
    api_count = sum(v or 0 for v in run["reading_count"].values())

    attempts = run["attempts"]
    statuses = {}
    for _, _, status, _ in attempts:
        statuses[status] = statuses.get(status, 0) + 1
    window = run["window"]
    samples = run["rss_samples"]
    windows = math.ceil(run["elapsed"] / window)
    print(f"\n== {label}: {run['rate']} readings/s in batches of {batch} "
          f"({run['rate'] / batch:g} requests/s) over {len(run['fleet'])} machines, "
          f"{run['clients']} keep-alive clients, {run['seconds']} s")
    print(f"  {'time s':>6}  {'requests':>8}  {'non-2xx':>7}  {'p50 ms':>7}  {'p99 ms':>7}  "
          f"{'max ms':>7}  {'lag max ms':>10}  {'RSS MiB':>7}")
    print(f"  {0:6d}  {'':>8}  {'':>7}  {'':>7}  {'':>7}  {'':>7}  {'':>10}  "
          f"{run['baseline_rss_kib'] / 1024:7.1f}")
    for k in range(windows):
        low, high = k * window, (k + 1) * window
        inside = [a for a in attempts if low <= a[0] < high]
        times = sorted(a[1] * 1000 for a in inside)
        errors = sum(1 for a in inside if not is_ok(a[2]))
        lag = max((l * 1000 for s, l in run["lags"] if low <= s < high), default=float("nan"))
        rss = next((r for t, r in samples if t >= high - 0.5), None) if k < windows - 1 \
            else samples[-1][1]
        rss_text = f"{rss / 1024:7.1f}" if rss is not None else f"{'gone':>7}"
        print(f"  {min(high, run['elapsed']):6.0f}  {len(inside):8d}  {errors:7d}  "
              f"{percentile(times, 50):7.2f}  {percentile(times, 99):7.2f}  "
              f"{(times[-1] if times else float('nan')):7.2f}  {lag:10.1f}  {rss_text}")

    times = sorted(a[1] * 1000 for a in attempts)
    rss = [(t / 60, r / 1024) for t, r in samples if r is not None]
    half = [p for p in rss if p[0] >= rss[-1][0] / 2]
    figures = {
        "requests": len(attempts), "p50": percentile(times, 50), "p99": percentile(times, 99),
        "max": times[-1], "rss_first": rss[0][1], "rss_last": rss[-1][1],
        "rss_max": max(r for _, r in rss), "slope": slope(rss), "slope_half": slope(half),
        "hwm": run["hwm_kib"] / 1024, "lost": lost,
    }
    non_ok = {str(s): n for s, n in statuses.items() if not is_ok(s)}
    lag_max = max(l for _, l in run["lags"]) * 1000
    db_size = sum(os.path.getsize(p) for p in (db_path, db_path + "-wal") if os.path.exists(p))
    print(f"  requests {len(attempts)} for {run['batches']} batches ({len(run['failed'])} never "
          f"acknowledged); answers: "
          + ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items(), key=lambda x: str(x[0]))))
    print(f"  readings acknowledged {readings_acked} (answers: stored {run['answered']['stored']}, "
          f"duplicates {run['answered']['duplicates']}); in the database {in_db}; the API's "
          f"reading_count {api_count}")
    print(f"  READINGS LOST (acknowledged, not in the database): {lost}"
          + (f"; stored but never acknowledged: {extra}" if extra else ""))
    print(f"  latency over the run: p50 {figures['p50']:.2f} ms, p99 {figures['p99']:.2f} ms, "
          f"max {figures['max']:.1f} ms; worst lag behind the timetable {lag_max:.1f} ms"
          + (f"; non-2xx: {non_ok}" if non_ok else ""))
    fleet, minute = run["fleet"], min(60, run["elapsed"] / 2)
    trend = []
    for kind in sorted(set(run["kinds"].values())):
        def part(low, high):
            return sorted(a[1] * 1000 for a in attempts if low <= a[0] < high
                          and run["kinds"][fleet[a[3] % len(fleet)]] == kind)
        first, last = part(0, minute), part(run["elapsed"] - minute, run["elapsed"])
        trend.append(f"{kind} p50 {percentile(first, 50):.2f} -> {percentile(last, 50):.2f}, "
                     f"p99 {percentile(first, 99):.2f} -> {percentile(last, 99):.2f}")
    print(f"  latency by profile, first {minute:.0f} s -> last {minute:.0f} s (ms): " + "; ".join(trend))
    print(f"  RSS MiB: before {run['baseline_rss_kib'] / 1024:.1f}, first sample "
          f"{figures['rss_first']:.1f}, last {figures['rss_last']:.1f}, max {figures['rss_max']:.1f} "
          f"(VmHWM {figures['hwm']:.1f}); slope {figures['slope']:+.3f} MiB/min over the run, "
          f"{figures['slope_half']:+.3f} MiB/min over its second half")
    print(f"  database file with WAL: {db_size / 2**20:.1f} MiB")
    return figures


args = sys.argv[1:]
runs = [(args[i], report(*args[i:i + 3])) for i in range(0, len(args), 3)]
if len(runs) == 2:
    (a, fa), (b, fb) = runs
    print(f"\n{a} / {b}:")
    for key, name in [("p50", "latency p50"), ("p99", "latency p99"), ("rss_last", "RSS at the end"),
                      ("rss_max", "RSS max")]:
        print(f"  {name:15}: {fa[key]:8.2f} / {fb[key]:8.2f} = {fa[key] / fb[key]:.2f}x")
    print(f"  {'RSS slope':15}: {fa['slope']:+.3f} / {fb['slope']:+.3f} MiB/min")
if any(f["lost"] for _, f in runs):
    sys.exit("FAILED: acknowledged readings are missing from the database")
