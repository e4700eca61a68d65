"""bench/page-weight.sh's measure: what a browser downloads for PAGE of BASE_URL.

First load: the HTML and every file of this site it links (stylesheet, icon, manifest, script,
WebAssembly, service worker, and the pages the service worker keeps at install), each asked for with Accept-Encoding: br, gzip as a browser does; the bytes are
what came over the wire, headers included. Repeat visit, as a browser with those answers in
its cache: the HTML asked again with If-None-Match / If-Modified-Since when the first answer
gave an ETag / Last-Modified; files marked `immutable` (or still fresh by max-age) not asked at
all; the pages the service worker keeps not asked (they are in its cache); the others asked
conditionally. Both are compared with issue 15's goals. A table of each
file's size raw, gzip and brotli comes first.

    python3 bench/page_weight.py BASE_URL PAGE
"""

import re
import sys
import urllib.error
import urllib.request
from html.parser import HTMLParser

FIRST_LOAD_GOAL = 60_000
REPEAT_VISIT_GOAL = 5_000
BROWSER_ENCODINGS = "br, gzip"

base, page = sys.argv[1].rstrip("/"), sys.argv[2]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


opener = urllib.request.build_opener(NoRedirect)


def fetch(path, headers):
    """(status, headers, body, bytes over the wire: status line, headers and body)."""
    request = urllib.request.Request(base + path, headers=headers)
    try:
        response = opener.open(request)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        body = response.read()
        status, reason = response.status, response.reason
        head = len(f"HTTP/1.1 {status} {reason}\r\n") + sum(
            len(f"{name}: {value}\r\n") for name, value in response.headers.items()
        ) + 2
        return status, response.headers, body, head + len(body)


class Links(HTMLParser):
    """Same-site files a browser loads with the page: link hrefs, script srcs, and the files
    the inline start script loads once the page is idle or loaded (quoted /pkg/ paths and the
    service worker)."""

    RELS = {"stylesheet", "icon", "manifest", "modulepreload", "preload"}

    def __init__(self):
        super().__init__()
        self.paths = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and self.RELS & set((attrs.get("rel") or "").split()):
            self.add(attrs.get("href"))
        elif tag == "script":
            self.add(attrs.get("src"))
        self.in_script = tag == "script" and attrs.get("type") == "module"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if getattr(self, "in_script", False):
            for path in re.findall(r'"(/pkg/[^"]+|/sw\.js)"', data):
                self.add(path)

    def add(self, path):
        if path and path.startswith("/") and not path.startswith("//") and path not in self.paths:
            self.paths.append(path)


def kb(n):
    return f"{n / 1000:8.1f} KB"


def fresh_without_asking(headers):
    """Whether a browser reuses the cached answer without a request."""
    cache = (headers.get("Cache-Control") or "").lower()
    if "no-cache" in cache or "no-store" in cache:
        return False
    max_age = re.search(r"max-age=(\d+)", cache)
    return "immutable" in cache or bool(max_age and int(max_age.group(1)) > 0)


status, html_headers, html, html_wire = fetch(page, {"Accept-Encoding": BROWSER_ENCODINGS})
if status != 200:
    sys.exit(f"{page} answered {status}")
_, _, plain_html, _ = fetch(page, {})
links = Links()
links.feed(plain_html.decode())
paths = [page] + links.paths
# What the service worker keeps at install: the same-site paths its script names.
kept_by_worker = []
if "/sw.js" in paths:
    kept_by_worker = re.findall(r'"(/[^"/][^"]*\.html)"', fetch("/sw.js", {})[2].decode())
    paths += kept_by_worker

print(f"{'file':52} {'raw':>11} {'gzip':>11} {'brotli':>11}  sent as")
first = {page: (html_headers, html_wire)}
for path in paths:
    sizes = [len(fetch(path, {"Accept-Encoding": e} if e else {})[2]) for e in ("", "gzip", "br")]
    if path != page:
        status, headers, _, wire = fetch(path, {"Accept-Encoding": BROWSER_ENCODINGS})
        if status != 200:
            print(f"  {path}: {status}")
            continue
        first[path] = (headers, wire)
    headers = first[path][0]
    print(
        f"{path:52} {kb(sizes[0])} {kb(sizes[1])} {kb(sizes[2])}  "
        f"{headers.get('Content-Encoding') or 'identity'}; {headers.get('Cache-Control') or 'no Cache-Control'}"
    )

first_load = sum(wire for _, wire in first.values())

print(f"\nrepeat visit (Accept-Encoding: {BROWSER_ENCODINGS}):")
repeat = 0
for path, (headers, _) in first.items():
    if path in kept_by_worker:
        print(f"  {path:50} not asked (kept by the service worker)")
        continue
    if path != page and fresh_without_asking(headers):
        print(f"  {path:50} not asked (cached: {headers.get('Cache-Control')})")
        continue
    conditions = {"Accept-Encoding": BROWSER_ENCODINGS}
    if headers.get("ETag"):
        conditions["If-None-Match"] = headers["ETag"]
    if headers.get("Last-Modified"):
        conditions["If-Modified-Since"] = headers["Last-Modified"]
    status, _, _, wire = fetch(path, conditions)
    asked = ", ".join(name for name in conditions if name.startswith("If-")) or "no validator"
    print(f"  {path:50} {status} {wire:7} bytes ({asked})")
    repeat += wire

print()
for name, value, met, goal in (
    ("first load, as a browser gets it (br, gzip)", first_load, first_load <= FIRST_LOAD_GOAL,
     f"at most {kb(FIRST_LOAD_GOAL)}"),
    ("repeat visit", repeat, repeat < REPEAT_VISIT_GOAL, f"under {kb(REPEAT_VISIT_GOAL)}"),
):
    print(f"{name:45} {value:8} bytes = {kb(value)}  goal {goal}: {'met' if met else 'NOT met'}")
