"""bench/scale.sh's memory sampler: the server's resident memory (VmRSS from /proc/PID/status)
every 100 ms until SIGTERM or the process exits, the highest sample per phase (the phase is
whatever bench/scale.sh last wrote into PHASE_FILE) and how the highest splits into anonymous
memory (the heap) and file pages (SQLite's file mapped into memory counts there), and VmHWM (the
kernel's exact peak since the process started) at the end. Writes them to OUT as JSON.

    python3 bench/scale_rss.py PID PHASE_FILE OUT
"""

import json, signal, sys, time

pid, phase_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stop = False


def halt(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, halt)


FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def status_kib():
    """FIELDS in KiB, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if line.startswith(FIELDS))
    except (FileNotFoundError, ProcessLookupError):
        return None
    return tuple(int(fields[name].split()[0]) for name in FIELDS)


def phase():
    try:
        with open(phase_file) as f:
            return f.read().strip() or "start"
    except FileNotFoundError:
        return "start"


samples, peak, peaks, hwm, alive = 0, (0, "", 0, 0), {}, 0, True
started = time.monotonic()
while not stop:
    seen = status_kib()
    if seen is None:
        alive = False
        break
    rss, hwm, anon, file = seen
    now = phase()
    samples += 1
    peaks[now] = max(peaks.get(now, 0), rss)
    if rss > peak[0]:
        peak = (rss, now, anon, file)
    time.sleep(0.1)
with open(out, "w") as f:
    json.dump({"samples": samples, "seconds": round(time.monotonic() - started, 1),
               "max_rss_kib": peak[0], "max_rss_phase": peak[1], "max_rss_anon_kib": peak[2],
               "max_rss_file_kib": peak[3], "hwm_kib": hwm,
               "alive_at_end": alive, "phases": peaks}, f)
