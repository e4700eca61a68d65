"""bench/models.sh's table: each icantkube algorithm's metrics and times (DIR/ALGORITHM/
icantkube.json, from the model_benchmark example) beside each scikit-learn model's
(DIR/sklearn.json, from bench/models.py) and, on AI4I, the published generating rules', on the
same rows and folds. Per-fold figures as mean ± standard deviation (lowest–highest), so the
spread shows; times as ratios to icantkube's default algorithm.

    python bench/models_report.py DIR ALGORITHM...
"""

import glob
import json
import statistics
import sys

out, algorithms = sys.argv[1], sys.argv[2:]
ours = {a: json.load(open(f"{out}/{a}/icantkube.json")) for a in algorithms}
peer = json.load(open(f"{out}/sklearn.json"))
first = ours[algorithms[0]]
classification = first["task"] == "classification"
default = first["default_algorithm"]
print(f"{first['task']}, {first['rows']} rows x {first['features']} features; {first['scheme']}")
for name, report in ours.items():
    print(f"icantkube {name} hyperparameters: {json.dumps(report['hyperparameters'])}")

names = {"random_forest": "sklearn RF", "random_forest_depth12": "sklearn RF depth 12",
         "hist_gradient_boosting": "sklearn HistGB"}
columns = [(f"icantkube {a}" + (" (default)" if a == default else ""), r) for a, r in ours.items()]
columns += [(names.get(n, n), m) for n, m in peer["models"].items()]
if "rules" in peer:
    columns.append(("published rules", peer["rules"]))


def get(report, path):
    for key in path.split("."):
        report = report.get(key) if isinstance(report, dict) else None
    return report


def show(value):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}" if abs(value) < 1000 else f"{value:.0f}"


def spread(values):
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    digits = 3 if classification else 2
    return (f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f} "
            f"({min(values):.{digits}f}–{max(values):.{digits}f})")


if classification:
    metrics = [("F1 (per-fold thresholds)", "metrics.f1"), ("precision", "metrics.precision"),
               ("recall", "metrics.recall"), ("ROC AUC", "metrics.roc_auc"),
               ("PR AUC", "metrics.pr_auc"),
               ("Brier score (icantkube: calibrated, each fold on the others)", "metrics.brier"),
               ("Brier score before calibration", "calibration.brier_uncalibrated"),
               ("expected calibration error", "calibration.expected_calibration_error")]
else:
    metrics = [("RMSE", "metrics.rmse"), ("MAE", "metrics.mae"),
               ("PHM08 score per 100", "metrics.phm08_per_100"),
               ("90% interval coverage", "metrics.interval_coverage"),
               ("90% interval half-width", "metrics.interval_half_width")]
rows = [[label] + [show(get(report, path)) for _, report in columns] for label, path in metrics]
rows.append(["per fold: mean ± sd (range)"] + [spread(get(r, "per_fold") or []) for _, r in columns])
base = ours[default] if default in ours else first
for label, path in [("time: 5-fold CV + final fit, s", "cv_and_fit_seconds"),
                    ("time: final fit, s", "fit_seconds"),
                    ("one-row predict p50, us", "predict_p50_us"),
                    ("one-row predict p99, us", "predict_p99_us")]:
    cells = [label]
    for _, report in columns:
        value, reference = get(report, path), get(base, path)
        if value is None:
            cells.append("-")
        elif reference:
            cells.append(f"{show(value)} ({value / reference:.2f}x)")
        else:
            cells.append(show(value))
    rows.append(cells)
table = [["metric"] + [c[0] for c in columns]] + rows
widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
for k, r in enumerate(table):
    print(" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if k == 0:
        print("-|-".join("-" * w for w in widths))
repeats = sorted(glob.glob(f"{out}/repeat-*/icantkube.json"))
if repeats:
    key = "f1" if classification else "rmse"
    values = [json.load(open(path))["metrics"][key] for path in repeats]
    seed_42 = ours[default]["metrics"][key] if default in ours else None
    print(f"repeated CV, icantkube {default}, {key} over {len(values)} more fold seeds: "
          f"{spread(values)}; the app's seed (42): {show(seed_42)}")
print(f"times as a multiple of icantkube {default}'s; scikit-learn predicts one row with its "
      "thread pool (n_jobs=-1)")
if classification:
    print("icantkube's CV, final fit and one-row predict include its failure-mode forests (5 x 60 trees)")
    for name, report in ours.items():
        modes = ", ".join(f"{m['mode']} {m['recall']:.3f} of {m['rows']}" for m in report["per_mode"])
        print(f"icantkube {name}, recall per failure mode: {modes}")
    if "rules" in peer:
        print("published rules: HDF, PWF and OSF as the data set's description gives them; "
              "TWF and RNF are random and have none")
