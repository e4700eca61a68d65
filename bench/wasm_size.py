"""bench/wasm-size.sh's tally: twiggy's items (CSV) summed per crate, largest first, without the
names section (which the bundle does not carry).

    python3 bench/wasm_size.py ITEMS.csv
"""

import csv
import re
import sys
from collections import Counter

crates = Counter()
for item in csv.DictReader(open(sys.argv[1])):
    name, size = item["Name"], int(item["ShallowSize"])
    if "function names" in name:
        continue
    if name.startswith("data segment"):
        crate = "(data: strings and tables)"
    else:
        # `<serde_json::Error as ...>::fmt`, `core[hash]::fmt::write`, `app::components::...`
        first = re.match(r"[<&*\s]*(?:mut |dyn )?([A-Za-z_][A-Za-z0-9_]*)", name)
        crate = first.group(1) if first else name
    crates[crate] += size

total = sum(crates.values())
print(f"\nbytes per crate (of {total}):")
for crate, size in crates.most_common(20):
    print(f"  {size:8} {100 * size / total:5.1f} %  {crate}")
