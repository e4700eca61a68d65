"""bench/upload-memory.sh's peer: pandas.read_csv of the same file in this fresh process, its
peak resident memory growth (VmHWM after the read minus VmRSS before it, pandas already
imported). MODE `file` reads from the path; `bytes` first reads the whole file into memory and
parses it from there (io.BytesIO), holding the upload as a server does. Prints one line of JSON.

    python bench/upload_memory_pandas.py CSV MODE
"""

import io, json, sys

import pandas


def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


path, mode = sys.argv[1], sys.argv[2]
before = status_kib("VmRSS")
if mode == "bytes":
    with open(path, "rb") as file:
        source = io.BytesIO(file.read())
else:
    source = path
frame = pandas.read_csv(source)
peak = status_kib("VmHWM")
print(json.dumps({"mode": mode, "rows": len(frame), "columns": len(frame.columns),
                  "rss_before_kib": before, "hwm_after_kib": peak,
                  "rss_after_kib": status_kib("VmRSS"),
                  "frame_bytes": int(frame.memory_usage(deep=True).sum()),
                  "pandas": pandas.__version__}))
