"""bench/models.sh's table: icantkube's metrics and times (DIR/icantkube.json, from the
model_benchmark example) beside each scikit-learn model's (DIR/sklearn.json, from bench/models.py),
as differences for metrics and ratios for times.

    python bench/models_report.py DIR
"""

import json, sys
out = sys.argv[1]
ours = json.load(open(f"{out}/icantkube.json"))
peer = json.load(open(f"{out}/sklearn.json"))
classification = ours["task"] == "classification"
print(f"{ours['task']}, {ours['rows']} rows x {ours['features']} features; {ours['scheme']}")
print(f"icantkube hyperparameters: {json.dumps(ours['hyperparameters'])}")

# (label, where the value is, how to compare: "diff" icantkube - sklearn, "ratio" icantkube / sklearn)
if classification:
    rows = [
        ("F1 (per-fold thresholds)", "metrics.f1", "diff"),
        ("precision", "metrics.precision", "diff"),
        ("recall", "metrics.recall", "diff"),
        ("ROC AUC", "metrics.roc_auc", "diff"),
        ("PR AUC (average precision)", "metrics.pr_auc", "diff"),
        ("best-F1 threshold (all rows)", "metrics.threshold", "diff"),
        ("F1 at 0.5 (sklearn predict)", "metrics.f1_at_0_5", "diff"),
    ]
else:
    rows = [
        ("RMSE", "metrics.rmse", "diff"),
        ("MAE", "metrics.mae", "diff"),
        ("PHM08 score per 100", "metrics.phm08_per_100", "diff"),
        ("90% interval coverage", "metrics.interval_coverage", "diff"),
        ("90% interval half-width", "metrics.interval_half_width", "diff"),
        ("scored cut points", "metrics.rows", "diff"),
    ]
rows += [
    ("time: 5-fold CV + final fit, s", "cv_and_fit_seconds", "ratio"),
    ("time: final fit on all rows, s", "fit_seconds", "ratio"),
    ("one-row predict p50, us", "predict_p50_us", "ratio"),
    ("one-row predict p99, us", "predict_p99_us", "ratio"),
    ("one-row predict p50, us; sklearn 1 thread", "predict_p50_us", "ratio", "predict_p50_us_one_thread"),
]

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

def compare(ours, theirs, how):
    if ours is None or theirs is None:
        return "-"
    if how == "ratio":
        return f"{ours / theirs:.3f}x" if theirs else "-"
    if isinstance(ours, int) and isinstance(theirs, int):
        return f"{ours - theirs:+d}"
    return f"{ours - theirs:+.4f}" if abs(ours - theirs) < 10 else f"{ours - theirs:+.2f}"

models = peer["models"]
names = {"random_forest": "sklearn RF", "random_forest_depth12": "sklearn RF max_depth=12",
         "hist_gradient_boosting": "sklearn HistGB"}
header = ["metric", "icantkube"]
for name in models:
    header += [names.get(name, name), "vs"]
table = [header]
for label, path, how, *their_path in rows:
    their_path = their_path[0] if their_path else path
    line = [label, show(get(ours, path))]
    for model in models.values():
        line += [show(get(model, their_path)), compare(get(ours, path), get(model, their_path), how)]
    table.append(line)
widths = [max(len(r[i]) for r in table) for i in range(len(header))]
for k, r in enumerate(table):
    print(" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if k == 0:
        print("-|-".join("-" * w for w in widths))
print("vs: metrics as icantkube - sklearn; times as icantkube / sklearn (below 1x: icantkube faster)")
if classification:
    print("icantkube's CV, final fit and one-row predict include its failure-mode forests (5 x 60 trees)")
