"""bench/metrics-scrape.sh's peer: prometheus_client's exposition of the families of icantkube's
scrape in TEXT (a saved /metrics body), with the same label sets and values, rebuilt at every
scrape by a custom collector (as icantkube builds its registry at every scrape), served by
start_http_server on 127.0.0.1:PORT until killed. Runs in the bench virtualenv.

    python bench/metrics_scrape_peer.py TEXT PORT
"""

import sys, threading
from collections import defaultdict
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.parser import text_string_to_metric_families

text_path, port = sys.argv[1], int(sys.argv[2])
families = []  # (kind, name, help, label names, [(label values, value or (buckets, sum))])
for family in text_string_to_metric_families(open(text_path).read()):
    names = [n for n in (family.samples[0].labels if family.samples else {}) if n != "le"]
    if family.type == "histogram":
        buckets, sums = defaultdict(list), {}
        for s in family.samples:
            key = tuple(s.labels[n] for n in names)
            if s.name.endswith("_bucket"):
                buckets[key].append((s.labels["le"], s.value))
            elif s.name.endswith("_sum"):
                sums[key] = s.value
        series = [(key, (buckets[key], sums[key])) for key in buckets]
    else:
        series = [(tuple(s.labels[n] for n in names), s.value) for s in family.samples]
    families.append((family.type, family.name, family.documentation, names, series))

make = {"gauge": GaugeMetricFamily, "counter": CounterMetricFamily, "histogram": HistogramMetricFamily}

class Scraped:
    def collect(self):
        for kind, name, help, names, series in families:
            metric = make[kind](name, help, labels=names)
            for labels, value in series:
                if kind == "histogram":
                    metric.add_metric(list(labels), value[0], value[1])
                else:
                    metric.add_metric(list(labels), value)
            yield metric

registry = CollectorRegistry()
registry.register(Scraped())
start_http_server(port, addr="127.0.0.1", registry=registry)
threading.Event().wait()
