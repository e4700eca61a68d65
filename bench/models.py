"""Model benchmark, scikit-learn's half: scores scikit-learn on the features and folds that
icantkube used (DIR/features.csv from the model_benchmark example), with icantkube's metric
procedure, and writes DIR/sklearn.json with the same metric names as DIR/icantkube.json.

    python bench/models.py DIR

It also scores the AI4I 2020 data set's published generating rules (HDF, PWF, OSF) on the same
rows and folds when the features are AI4I's, and the Brier score of every model's probabilities.

Classification: out-of-fold probabilities; each fold's decisions use the best-F1 threshold
chosen on the other folds' out-of-fold probabilities (server/src/ml/evaluation.rs), F1,
precision and recall over all rows from those decisions; ROC AUC and average precision on the
probabilities. Regression: out-of-fold predictions scored at the cut rows (`__scored` counts how
often a row was drawn), with icantkube's cross-conformal 90 % interval. bench/models.sh runs it.
"""

import json
import math
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.metrics import average_precision_score, roc_auc_score

LATENCY_CALLS = 1000
INTERVAL_COVERAGE = 0.9


def best_f1_threshold(labels, probabilities):
    """metrics.rs best_f1_threshold: midpoints between distinct probabilities, ties to the higher."""
    order = np.argsort(-probabilities, kind="stable")
    p = probabilities[order]
    positive = labels[order] >= 0.5
    true_positives = np.cumsum(positive)
    predicted = np.arange(1, len(p) + 1)
    ends = np.flatnonzero(np.append(p[1:] != p[:-1], True))  # last row of each tie group
    f1 = 2.0 * true_positives[ends] / (predicted[ends] + positive.sum())
    thresholds = np.append((p[:-1] + p[1:]) / 2.0, p[-1] / 2.0)[ends]
    return float(thresholds[np.argmax(f1)])  # argmax: the first, i.e. highest, best threshold


def confusion_ratios(labels, decisions):
    positive = labels >= 0.5
    tp = int(np.sum(positive & decisions))
    fp = int(np.sum(~positive & decisions))
    fn = int(np.sum(positive & ~decisions))
    ratio = lambda a, b: a / b if b else 0.0  # noqa: E731
    return ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)


def roc_auc(labels, scores):
    """Mann-Whitney with average ranks over ties (metrics.rs roc_auc)."""
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    positive = labels >= 0.5
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(labels, scores):
    """Precision at the end of each tie group times the recall step (metrics.rs)."""
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    true_positives = np.cumsum(labels[order] >= 0.5)
    ends = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    recall = true_positives[ends] / true_positives[-1]
    precision = true_positives[ends] / (ends + 1)
    return float(np.sum(np.diff(np.append(0.0, recall)) * precision))


def classification_metrics(y, oof, fold):
    decisions = np.zeros(len(y), dtype=bool)
    per_fold = []
    for f in np.unique(fold):
        mine = fold == f
        threshold = best_f1_threshold(y[~mine], oof[~mine])
        decisions[mine] = oof[mine] >= threshold
        per_fold.append(confusion_ratios(y[mine], decisions[mine])[2])
    precision, recall, f1 = confusion_ratios(y, decisions)
    metrics = {
        "threshold": best_f1_threshold(y, oof),
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "roc_auc": roc_auc(y, oof),
        "pr_auc": average_precision(y, oof),
        # What scikit-learn's predict() decides: the larger class probability, ties to 0.
        "f1_at_0_5": confusion_ratios(y, oof > 0.5)[2],
        "rows": len(y),
        "positives": int(np.sum(y >= 0.5)),
        "brier": float(np.mean((np.clip(oof, 0.0, 1.0) - (y >= 0.5)) ** 2)),
    }
    # The same two numbers from scikit-learn itself, as a check of the replication.
    for name, ours, theirs in [
        ("roc_auc", metrics["roc_auc"], roc_auc_score(y >= 0.5, oof)),
        ("pr_auc", metrics["pr_auc"], average_precision_score(y >= 0.5, oof)),
    ]:
        if abs(ours - theirs) > 1e-9:
            print(f"warning: {name} {ours} differs from scikit-learn's {theirs}", file=sys.stderr)
    return metrics, per_fold


def conformal_half_width(residuals, alpha):
    """metrics.rs conformal_half_width: the ceil((n+1)(1-alpha))-th smallest |residual|."""
    ordered = np.sort(np.abs(residuals))
    if len(ordered) == 0:
        return math.inf
    k = math.ceil((len(ordered) + 1) * (1.0 - alpha))
    return float(ordered[min(max(k, 1), len(ordered)) - 1])


def regression_metrics(y, oof, fold, scored):
    rows = np.repeat(np.arange(len(y)), scored)  # a row drawn twice counts twice, as in Rust
    d = oof[rows] - y[rows]
    alpha = 1.0 - INTERVAL_COVERAGE
    covered, per_fold = 0, []
    for f in np.unique(fold):
        mine = fold[rows] == f
        half = conformal_half_width(d[~mine], alpha)
        covered += int(np.sum(np.abs(d[mine]) <= half))
        per_fold.append(float(np.sqrt(np.mean(d[mine] ** 2))) if mine.any() else 0.0)
    phm08 = np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)
    metrics = {
        "rmse": float(np.sqrt(np.mean(d**2))),
        "mae": float(np.mean(np.abs(d))),
        "phm08_per_100": float(phm08.sum() * 100.0 / len(d)),
        "interval_coverage": covered / len(d),
        "interval_half_width": conformal_half_width(d, alpha),
        "rows": len(d),
    }
    return metrics, per_fold


def percentile(values, q):
    """Nearest rank, as in ml/examples/model_benchmark.rs."""
    ordered = sorted(values)
    return ordered[min(max(math.ceil(q * len(ordered)), 1), len(ordered)) - 1]


def latency_us(predict, x, calls=LATENCY_CALLS):
    """Single-row predictions, one row as a 2-D array, cycling over the rows."""
    for i in range(5):
        predict(x[i : i + 1])
    times = []
    for call in range(calls):
        row = call % len(x)
        one = x[row : row + 1]
        started = time.perf_counter()
        predict(one)
        times.append((time.perf_counter() - started) * 1e6)
    return percentile(times, 0.50), percentile(times, 0.99)


def benchmark(make, x, y, fold, classification):
    score = (lambda m, rows: m.predict_proba(rows)[:, 1]) if classification else (
        lambda m, rows: m.predict(rows)
    )
    target = y.astype(int) if classification else y
    oof = np.zeros(len(y))
    started = time.perf_counter()
    for f in np.unique(fold):
        mine = fold == f
        oof[mine] = score(make().fit(x[~mine], target[~mine]), x[mine])
    fit_started = time.perf_counter()
    model = make().fit(x, target)
    ended = time.perf_counter()
    result = {
        "params": {k: v for k, v in model.get_params().items() if v is not None},
        "cv_and_fit_seconds": ended - started,
        "fit_seconds": ended - fit_started,
        "predict_calls": LATENCY_CALLS,
    }
    result["predict_p50_us"], result["predict_p99_us"] = latency_us(
        lambda rows: score(model, rows), x
    )
    if "n_jobs" in model.get_params():
        # The same forest predicting on one thread: no thread pool to start for one row.
        model.set_params(n_jobs=1)
        result["predict_p50_us_one_thread"] = latency_us(lambda rows: score(model, rows), x)[0]
    return result, oof


def ai4i_rules(frame):
    """The published HDF, PWF and OSF rules (../shared/data/README.md) on AI4I's raw columns,
    with the arithmetic of the Rust quality test; None for other data."""
    needed = ["type", "air_temperature", "process_temperature", "rotational_speed", "torque",
              "tool_wear"]
    if not all(c in frame.columns for c in needed):
        return None
    speed, torque = frame["rotational_speed"], frame["torque"]
    heat = (frame["process_temperature"] - frame["air_temperature"] < 8.6) & (speed < 1380)
    power = torque * speed * 2 * math.pi / 60
    limit = 11000 + 1000 * frame["type"]  # type is the level's position in L, M, H
    overstrain = frame["tool_wear"] * torque > limit
    return (heat | (power < 3500) | (power > 9000) | overstrain).to_numpy()


def main():
    out = sys.argv[1]
    ours = json.load(open(f"{out}/icantkube.json"))
    frame = pd.read_csv(f"{out}/features.csv")
    features = [c for c in frame.columns if c not in ("__target", "__fold", "__scored", "__oof")]
    x = frame[features].to_numpy(dtype=np.float64)
    y = frame["__target"].to_numpy(dtype=np.float64)
    fold = frame["__fold"].to_numpy()
    scored = frame["__scored"].to_numpy()
    classification = ours["task"] == "classification"
    if classification:
        models = {
            "random_forest": lambda: RandomForestClassifier(
                n_estimators=100, n_jobs=-1, random_state=0
            ),
            "random_forest_depth12": lambda: RandomForestClassifier(
                n_estimators=100, max_depth=12, n_jobs=-1, random_state=0
            ),
            "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(random_state=0),
        }
    else:
        models = {
            "random_forest": lambda: RandomForestRegressor(
                n_estimators=100, max_features=0.33, min_samples_leaf=5, n_jobs=-1, random_state=0
            ),
            "hist_gradient_boosting": lambda: HistGradientBoostingRegressor(random_state=0),
        }
    report = {
        "tool": "scikit-learn",
        "version": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "task": ours["task"],
        "rows": len(y),
        "features": len(features),
        "models": {},
    }
    for name, make in models.items():
        print(f"  scikit-learn {name} ...", file=sys.stderr, flush=True)
        result, oof = benchmark(make, x, y, fold, classification)
        if classification:
            result["metrics"], result["per_fold"] = classification_metrics(y, oof, fold)
        else:
            result["metrics"], result["per_fold"] = regression_metrics(y, oof, fold, scored)
        report["models"][name] = result
    rules = ai4i_rules(frame) if classification else None
    if rules is not None:
        decisions = rules.astype(bool)
        per_fold = [confusion_ratios(y[fold == f], decisions[fold == f])[2] for f in np.unique(fold)]
        precision, recall, f1 = confusion_ratios(y, decisions)
        report["rules"] = {
            "metrics": {"f1": f1, "precision": precision, "recall": recall},
            "per_fold": per_fold,
        }
    with open(f"{out}/sklearn.json", "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
