"""bench/page-weight.sh's measure: fetches PAGE from BASE_URL and every /pkg/ asset its HTML
references (stylesheet, scripts, WebAssembly, preloads), each without and with
Accept-Encoding: gzip, and prints their sizes in KiB and the total.

    python3 bench/page_weight.py BASE_URL PAGE
"""

import re, sys, urllib.request
base, page = sys.argv[1].rstrip("/"), sys.argv[2]

def fetch(path, gzip):
    request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"} if gzip else {})
    with urllib.request.urlopen(request) as response:
        return response.read()

html = fetch(page, False).decode()
# Stylesheet, script and WebAssembly links, preloads and the hydration script's import.
assets = set(re.findall(r'["\'](/pkg/[^"\']+)["\']', html))
rows = [(page, len(html.encode()), len(fetch(page, True)))]
for asset in sorted(assets):
    try:
        rows.append((asset, len(fetch(asset, False)), len(fetch(asset, True))))
    except Exception as error:
        print(f"  {asset}: {error}")
for name, raw, gz in rows:
    print(f"  {name:40} {raw/1024:9.1f} KiB raw {gz/1024:9.1f} KiB gzip")
print(f"  {'total':40} {sum(r[1] for r in rows)/1024:9.1f} KiB raw {sum(r[2] for r in rows)/1024:9.1f} KiB gzip")
