"""bench/scale.sh's table: reads what the run left in WORK (results.tsv and wrk's outputs, rss.json,
ingest.txt, page-weight.txt, demo.txt) and prints one table of issue 15's figures, each with its
baseline from the same run, the ratio and whether the goal is met. A sub-bench whose output is
missing or not in the expected format gets a row saying so, its output goes to stderr, and the
exit status is 1.

    python3 bench/scale_report.py WORK READINGS SECONDS FLEET_SIZES...
"""

import json, os, re, sys

work, readings, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sizes = [int(s) for s in sys.argv[4:]]
base_size, largest = sizes[0], sizes[-1]
MB = 1000 * 1000
MIB = 1024 * 1024
rows, problems = [], []


def row(figure, measured, baseline, ratio, goal, verdict):
    rows.append((figure, measured, baseline, ratio, goal, verdict))


def problem(figure, name, why):
    """A row for a figure that could not be read, and the sub-bench's output on stderr."""
    row(figure, f"not measured: {why}", "", "", "", "FAILED")
    path = os.path.join(work, name)
    text = open(path).read() if os.path.exists(path) else "(no output)"
    problems.append(f"--- {figure}: {why}; {name}:\n{text.rstrip()}")


def read(name):
    path = os.path.join(work, name)
    return open(path).read() if os.path.exists(path) else None


def ms(text):
    """wrk's duration (1.23ms, 456.78us, 1.02s) in ms."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(path):
    """(median ms, p99 ms, requests/s, failed requests) of one wrk output, or a reason."""
    text = open(path).read()
    median = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not (median and p99 and rate):
        return f"wrk's output not understood: {text.strip()[-300:]!r}"
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return ms(median.group(1)), ms(p99.group(1)), float(rate.group(1)), failed


def kb(n):
    return f"{n / 1000:,.1f} KB"


def x(ratio):
    return f"{ratio:.2f}×"


# Pages: label -> size -> figures.
pages = {}
for line in open(os.path.join(work, "results.tsv")):
    label, size, path, br, raw = line.rstrip("\n").split("\t")
    br_status, br_bytes, *encoding = br.split()
    raw_status, raw_bytes = raw.split()
    figures = wrk(path)
    if isinstance(figures, str) or br_status != "200" or raw_status != "200":
        why = figures if isinstance(figures, str) else f"answered {br_status} / {raw_status}"
        pages.setdefault(label, {})[int(size)] = why
        continue
    pages.setdefault(label, {})[int(size)] = {
        "median": figures[0], "p99": figures[1], "rate": figures[2], "failed": figures[3],
        "br": int(br_bytes), "raw": int(raw_bytes), "encoding": encoding[0] if encoding else "identity"}


def shown(f):
    encoding = "" if f["encoding"] == "br" else f" (served {f['encoding']})"
    failed = f"; {f['failed']} failed requests" if f["failed"] else ""
    return (f"{f['median']:.2f} ms median ({f['rate']:,.0f} req/s); {kb(f['br'])} br{encoding}, "
            f"{kb(f['raw'])} raw{failed}")


def compare(figure, label, size, base, held, goal_text="≤ 2× (time, br, raw)"):
    at = pages.get(label, {})
    f, b = at.get(size), at.get(base)
    if not isinstance(f, dict) or not isinstance(b, dict):
        why = f if isinstance(f, str) else b if isinstance(b, str) else "not run"
        row(figure, f"not measured: {why}", "", "", "", "FAILED")
        problems.append(f"--- {figure}: {why}")
        return
    ratios = (f["median"] / b["median"], f["br"] / b["br"], f["raw"] / b["raw"])
    met = all(r <= 2 for r in ratios) and not f["failed"] and not b["failed"]
    verdict = "met" if met else "NOT met"
    row(figure, shown(f), shown(b), f"time {x(ratios[0])}, br {x(ratios[1])}, raw {x(ratios[2])}",
        goal_text if held else "(between)", verdict if held else f"({verdict})")


for label in ("fleet page /", "/models", "/api/v1/machines", "/metrics scrape"):
    for size in sizes[1:]:
        compare(f"{label}, {size:,} machines vs {base_size:,}", label, size, base_size, size == largest)
compare(f"machine page, {readings:,} readings vs a new machine (1 reading)", "machine page", readings, 1, True)

# Ingest: bench/ingest_concurrency.py's table rows and its durability line.
figure = "single-reading ingest, live inference, 8 clients vs 1"
text = read("ingest.txt")
levels = {}
for match in re.finditer(r"^\s+(\d+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+[\d.]+x", text or "", re.M):
    levels[int(match.group(1))] = (float(match.group(2).replace(",", "")), float(match.group(4)),
                                   int(match.group(5)))
durable = text is not None and "durability: every reading answered 2xx is stored" in text
if 1 in levels and 8 in levels:
    (one, one_p99, _), (eight, eight_p99, errors) = levels[1], levels[8]
    met = eight >= 10_000 and eight_p99 < 20 and eight >= 4 * one and not errors and durable
    row(figure, f"{eight:,.0f} readings/s, p99 {eight_p99:.2f} ms" + (f", {errors} errors" if errors else ""),
        f"1 client: {one:,.0f} readings/s, p99 {one_p99:.2f} ms", x(eight / one),
        "≥ 10,000/s, p99 < 20 ms, ≥ 4× one", "met" if met else "NOT met")
    if not durable:
        problem("ingest: every 2xx reading stored", "ingest.txt", "the durability check failed or did not run")
    else:
        row("ingest: every reading answered 2xx stored", "yes (reading counts before and after)", "", "",
            "none lost", "met")
else:
    problem(figure, "ingest.txt", "no 1- and 8-client rows in bench/ingest_concurrency.py's table")

# Memory of this run's server, sampled every 100 ms, and its VmHWM at the end.
rss = json.loads(read("rss.json") or "null")
if rss and rss["samples"]:
    hwm, peak = rss["hwm_kib"] * 1024, rss["max_rss_kib"] * 1024
    pages_at = {size: rss["phases"].get(f"fleet of {size}: pages") for size in sizes}
    row(f"server resident memory, the whole run ({rss['seconds']:.0f} s, {rss['samples']} samples)",
        f"VmHWM {hwm / MIB:.1f} MiB; highest sample {peak / MIB:.1f} MiB ({rss['max_rss_phase']}; "
        f"anonymous {rss['max_rss_anon_kib'] / 1024:.1f}, file pages {rss['max_rss_file_kib'] / 1024:.1f})",
        "", "", "≤ 100 MB (95.4 MiB)", "met" if hwm <= 100 * MB else "NOT met")
    if pages_at[largest] and pages_at[base_size]:
        big, small = pages_at[largest] * 1024, pages_at[base_size] * 1024
        row(f"  its highest sample during the {largest:,}-machine pages", f"{big / MIB:.1f} MiB",
            f"{base_size:,} machines: {small / MIB:.1f} MiB", x(big / small), "≤ 100 MB",
            "met" if big <= 100 * MB else "NOT met")
    if not rss["alive_at_end"]:
        problems.append("--- the server exited before the end of the run")
else:
    problem("server resident memory", "rss.json", "no samples")

demo = read("demo.txt")
if demo is not None:
    server = re.search(r"server, whole run \(VmHWM\):\s+([\d.]+) MiB", demo)
    children = re.findall(r"^\s+child (\d+):\s+([\d.]+) MiB", demo, re.M)
    if server:
        value = float(server.group(1))
        row("demo mode's first start, 10 s streaming: server VmHWM (bench/demo-memory.sh)",
            f"{value:.1f} MiB", "", "", "≤ 100 MB", "met" if value * MIB <= 100 * MB else "NOT met")
        for child, peak in children:
            value = float(peak)
            row("  its training child (a process of its own), peak", f"{value:.1f} MiB", "", "",
                "≤ 100 MB", "met" if value * MIB <= 100 * MB else "NOT met")
    else:
        problem("demo mode's start-up memory", "demo.txt", "no 'server, whole run (VmHWM)' line")

# Page weight: bench/page-weight.sh's two summary lines.
weight = read("page-weight.txt")
if weight is None:
    row(f"first load of / at {largest:,} machines (brotli)", "not measured: no site (ICANTKUBE_SITE)",
        "", "", "≤ 60 KB", "—")
else:
    first = re.search(r"^first load[^\n]*?\s(\d+) bytes", weight, re.M)
    repeat = re.search(r"^repeat visit\s+(\d+) bytes", weight, re.M)
    if first and repeat:
        first, repeat = int(first.group(1)), int(repeat.group(1))
        row(f"first load of / at {largest:,} machines, as a browser gets it (br)", kb(first), "", "",
            "≤ 60 KB", "met" if first <= 60_000 else "NOT met")
        row("  a repeat visit (conditional requests, immutable files cached)", kb(repeat), "", "",
            "< 5 KB", "met" if repeat < 5_000 else "NOT met")
    else:
        problem("page weight of /", "page-weight.txt",
                "bench/page-weight.sh printed no 'first load ... N bytes' and 'repeat visit N bytes' lines")

print()
print(f"Issue 15 at scale (bench/scale.sh): one server, one fresh SQLite file, the fleet grown "
      f"{' → '.join(f'{s:,}' for s in sizes)} machines; wrk -t1 -c4 -d{seconds}s with "
      f"Accept-Encoding: br per URL; bytes are the body as served with br and without")
header = ("figure", "measured", "baseline, same run", "ratio", "goal", "")
widths = [max(len(r[i]) for r in rows + [header]) for i in range(6)]
for r in [header, tuple("-" * w for w in widths)] + rows:
    print("| " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths)) + " |")
print("Baselines by design (since issue 15's paging): the fleet page lists 24 machines a page (all of them at 10), "
      "/api/v1/machines 100 by default, /metrics the series of at most 200 machines (its cap); "
      "'failed requests' are wrk's non-2xx answers and dropped connections.")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
