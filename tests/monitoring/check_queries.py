#!/usr/bin/env python3
"""Checks of the monitoring manifests, for tests/monitoring/check.sh (standard library only).

  check_queries.py rules-file PROMETHEUS_RULE_YAML OUT
      writes the PrometheusRule's spec (its `groups:`) as a plain Prometheus rules file.
  check_queries.py strip-annotations RULES OUT
      the rules file without its annotations, for `promtool test rules`.
  check_queries.py dashboards DIR
      every dashboard parses, every panel (also inside rows) has a target with an expr, and
      the machine dashboard has uid icantkube-machine and a `machine` variable.
  check_queries.py train APP_URL ADMIN_PASSWORD
      signs in, stores a demo milling machine's labelled history as a data set and trains a
      small model on it, so the training series (run durations) exist.
  check_queries.py live --prometheus URL --app URL --metrics URL DIR
      evaluates every alert rule Prometheus loaded and every dashboard query (panels and
      variables, with the variables substituted) through Prometheus' HTTP API, and checks
      every metric they name is in the app's own /metrics.

Every failure is one line starting with FAIL; the exit status is 1 when there was one.
"""

import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

FAILURES = []


def fail(message):
    FAILURES.append(message)
    print(f"FAIL {message}", flush=True)


def note(message):
    print(f"     {message}", flush=True)


def done():
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)", flush=True)
        sys.exit(1)


# ------------------------------------------------------------------ rules file


def rules_file(source, out):
    """The lines under the top-level `spec:` key, dedented: the PrometheusRule's spec is
    exactly a Prometheus rules file (`groups:`). No YAML parser needed; promtool parses it."""
    lines = Path(source).read_text().splitlines()
    try:
        start = lines.index("spec:") + 1
    except ValueError:
        fail(f"{source}: no top-level `spec:` line")
        return
    body = []
    for line in lines[start:]:
        if line and not line.startswith(" ") and not line.startswith("#"):
            break  # the next top-level key
        body.append(line[2:] if line.startswith("  ") else line)
    Path(out).write_text("\n".join(body) + "\n")


def strip_annotations(source, out):
    """Drops every `annotations:` block (the key and the lines indented deeper)."""
    kept, depth = [], None
    for line in Path(source).read_text().splitlines():
        indent = len(line) - len(line.lstrip())
        if depth is not None:
            if not line.strip() or indent > depth:
                continue
            depth = None
        if line.strip() == "annotations:":
            depth = indent
            continue
        kept.append(line)
    Path(out).write_text("\n".join(kept) + "\n")


# ------------------------------------------------------------------ dashboards


def panels(dashboard):
    """Every panel that shows data, including those inside rows (collapsed or not)."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def load_dashboards(folder):
    loaded = {}
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        fail(f"{folder}: no dashboard (*.json)")
    for path in files:
        try:
            loaded[path.name] = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            fail(f"{path.name}: not JSON: {error}")
    return loaded


def check_dashboards(folder):
    dashboards = load_dashboards(folder)
    uids = {}
    for name, dashboard in dashboards.items():
        uid = dashboard.get("uid")
        if not uid:
            fail(f"{name}: no uid")
        elif uid in uids:
            fail(f"{name}: uid {uid} also used by {uids[uid]}")
        uids[uid] = name
        variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
        datasource = variables.get("datasource")
        if not datasource or datasource.get("type") != "datasource" or datasource.get("query") != "prometheus":
            fail(f"{name}: no `datasource` variable of type datasource/prometheus")
        count = 0
        for panel in panels(dashboard):
            count += 1
            title = panel.get("title", f"panel {panel.get('id')}")
            exprs = [t.get("expr", "").strip() for t in panel.get("targets", [])]
            if not any(exprs):
                fail(f"{name}: panel {title!r} has no target with an expr")
            elif not all(exprs):
                fail(f"{name}: panel {title!r} has a target without an expr")
            uid = (panel.get("datasource") or {}).get("uid")
            if uid != "${datasource}":
                fail(f"{name}: panel {title!r} does not use the ${{datasource}} variable (uid {uid!r})")
        if count == 0:
            fail(f"{name}: no panel")
        note(f"{name}: {count} panels")
    machine = [d for d in dashboards.values() if d.get("uid") == "icantkube-machine"]
    if not machine:
        fail("no dashboard has uid icantkube-machine (the app links to /d/icantkube-machine?var-machine=...)")
    else:
        names = [v.get("name") for v in machine[0].get("templating", {}).get("list", [])]
        if "machine" not in names:
            fail("dashboard icantkube-machine has no `machine` variable")
    return dashboards


# ------------------------------------------------------------------ a training run


def train(app, password):
    import http.client
    import time

    url = urllib.parse.urlsplit(app)

    def request(method, path, form=None, cookie=None):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["content-type"] = "application/x-www-form-urlencoded"
        if cookie:
            headers["cookie"] = cookie
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return response.status, response.getheader("location") or "", response.getheader("set-cookie") or "", text

    status, _, set_cookie, _ = request("POST", "/login", {"password": password, "next": "/training"})
    if status != 303 or not set_cookie:
        fail(f"training run: sign-in answered {status}")
        return
    cookie = set_cookie.split(";")[0]
    _, _, _, page = request("GET", "/training/new", cookie=cookie)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    if not csrf:
        fail("training run: /training/new carries no CSRF token")
        return
    csrf = csrf.group(1)
    machines = json.loads(get(f"{app}/api/v1/machines"))
    mills = [m["name"] for m in machines if m["profile"] == "ai4i2020"]
    if not mills:
        fail("training run: the demo fleet has no ai4i2020 machine")
        return
    _, location, _, _ = request("POST", "/datasets/from-machine", {"csrf": csrf, "machine": mills[0]}, cookie)
    if "dataset=" not in location or "error" in location:
        fail(f"training run: storing {mills[0]}'s history answered {urllib.parse.unquote(location)!r}")
        return
    dataset = location.rsplit("=", 1)[1]
    form = {"csrf": csrf, "dataset_id": dataset, "target": "Machine failure",
            "algorithm": "random_forest", "trees": "5"}
    _, run, _, _ = request("POST", "/training", form, cookie)
    if not re.fullmatch(r"/training/\d+", run):
        fail(f"training run: starting it answered {urllib.parse.unquote(run)!r}")
        return
    state = None
    for _ in range(120):
        _, _, _, page = request("GET", run, cookie=cookie)
        found = re.search(r'data-state="(\w+)"', page)
        state = found and found.group(1)
        if state in ("completed", "failed", "cancelled"):
            break
        time.sleep(1)
    note(f"training run {run} on {mills[0]}'s history: {state}")
    if state not in ("completed", "failed", "cancelled"):
        fail(f"training run {run} did not finish in 2 minutes (state {state})")


# ------------------------------------------------------------------ live


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def query(prometheus, expr):
    """Prometheus' answer to an instant query: (result, None) or (None, error)."""
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        answer = json.loads(get(url))
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read().decode())
        except ValueError:
            return None, f"HTTP {error.code}"
    except OSError as error:
        return None, str(error)
    if answer.get("status") != "success":
        return None, f"{answer.get('errorType')}: {answer.get('error')}"
    return answer["data"]["result"], None


def exported_names(metrics_text):
    """Metric family names (from # TYPE) and sample names the app exports."""
    families, samples = set(), set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
        elif line and not line.startswith("#"):
            samples.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return families, samples


NAME = re.compile(r"\b(?:icantkube|process)_[a-z_]+\b")
SUFFIX = re.compile(r"_(?:bucket|sum|count|total|created)$")


def unknown_metrics(expr, families, samples):
    missing = []
    for name in sorted(set(NAME.findall(expr))):
        if name in samples or name in families or SUFFIX.sub("", name) in families:
            continue
        missing.append(name)
    return missing


def substitute(expr, machine):
    values = {
        "machine": machine,
        # Multi-value: dashboards match it with =~, so "every sensor" is a regex.
        "sensor": ".+",
        "__rate_interval": "1m",
        "__interval": "1m",
        "__range": "5m",
        "__range_s": "300",
        "datasource": "prometheus",
    }
    for key, value in values.items():
        expr = expr.replace("${" + key + "}", value)
        expr = re.sub(r"\$" + re.escape(key) + r"\b", value, expr)
    return expr


def dashboard_queries(dashboards):
    for name, dashboard in dashboards.items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield f"{name}: panel {panel.get('title')!r} {target.get('refId')}", target["expr"]
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") != "query":
                continue
            text = variable.get("query")
            if isinstance(text, dict):
                text = text.get("query", "")
            match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", text or "", re.S)
            if match:
                yield f"{name}: variable {variable['name']} (label_values selector)", match.group(1)
            elif re.fullmatch(r"\s*query_result\((.*)\)\s*", text or "", re.S):
                yield f"{name}: variable {variable['name']}", re.fullmatch(r"\s*query_result\((.*)\)\s*", text, re.S).group(1)
            else:
                fail(f"{name}: variable {variable.get('name')}: query {text!r} is not label_values/query_result")


def live(prometheus, app, metrics, folder):
    dashboards = load_dashboards(folder)
    families, samples = exported_names(get(f"{metrics}/metrics"))
    note(f"the app exports {len(families)} metric families, {len(samples)} sample names")

    machines = json.loads(get(f"{app}/api/v1/machines"))
    names = [m["name"] for m in machines]
    if not names:
        fail("the app lists no machine (is demo mode on?)")
        return
    text = get(f"{metrics}/metrics")
    # Prefer a machine with a failure probability, then one with any series of its own.
    risky = [n for n in names if f'icantkube_machine_failure_probability{{machine="{n}"}}' in text]
    exported = list(dict.fromkeys(risky + [n for n in names if f'machine="{n}"' in text]))
    machine = (exported or names)[0]
    note(f"$machine = {machine} ({len(names)} machines, {len(exported)} with their own series)")

    rules = json.loads(get(f"{prometheus}/api/v1/rules"))["data"]["groups"]
    checked = 0
    rule_count = 0
    for group in rules:
        for rule in group["rules"]:
            rule_count += 1
            where = f"rule {rule.get('name')} (group {group['name']})"
            if rule.get("health") == "err":
                fail(f"{where}: Prometheus cannot evaluate it: {rule.get('lastError')}")
            checked += check_one(prometheus, where, rule["query"], families, samples)
    if rule_count == 0:
        fail("Prometheus loaded no alert rule")
    note(f"{rule_count} rules loaded by Prometheus")

    for where, expr in dashboard_queries(dashboards):
        substituted = substitute(expr, machine)
        left = re.findall(r"\$\{?\w+", substituted)
        if left:
            fail(f"{where}: unknown variable(s) {left} in {expr!r}")
            continue
        checked += check_one(prometheus, where, substituted, families, samples)
    note(f"{checked} queries evaluated")


def check_one(prometheus, where, expr, families, samples):
    result, error = query(prometheus, expr)
    if error:
        fail(f"{where}: Prometheus refuses {expr!r}: {error}")
    missing = unknown_metrics(expr, families, samples)
    if missing:
        fail(f"{where}: names metric(s) the app does not export: {', '.join(missing)}")
    if not error and not missing:
        note(f"ok   {where}: {len(result)} series" + ("" if result else " (no data yet)"))
    return 1


def main(argv):
    if argv[:1] == ["rules-file"] and len(argv) == 3:
        rules_file(argv[1], argv[2])
    elif argv[:1] == ["strip-annotations"] and len(argv) == 3:
        strip_annotations(argv[1], argv[2])
    elif argv[:1] == ["dashboards"] and len(argv) == 2:
        check_dashboards(argv[1])
    elif argv[:1] == ["train"] and len(argv) == 3:
        train(argv[1], argv[2])
    elif argv[:1] == ["live"] and len(argv) == 8:
        options = dict(zip(argv[1:7:2], argv[2:7:2]))
        live(options["--prometheus"], options["--app"], options["--metrics"], argv[7])
    else:
        sys.exit(__doc__)
    done()


if __name__ == "__main__":
    main(sys.argv[1:])
