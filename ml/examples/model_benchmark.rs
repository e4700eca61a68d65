//! Model benchmark, icantkube's half: trains the failure model on a data set as the app does
//! (5-fold cross-validation, then a fit on all rows) and writes the features and folds it used,
//! so that `bench/models.py` can score scikit-learn on exactly the same rows and folds.
//!
//! ```text
//! model_benchmark --data PATH --out DIR
//! ```
//!
//! Writes `DIR/features.csv` (the feature columns, then `__target`, `__fold` and `__scored`:
//! how many times cross-validation scored the row, 0 or 1 except for a remaining-life cut point
//! drawn twice) and `DIR/icantkube.json` (task, cross-validated metrics, training times and
//! single-row inference latency). `bench/models.sh` runs both halves and compares them.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use ml::dataset::{Dataset, LoadOptions};
use ml::training::{train_with_split, TrainOptions};
use serde_json::json;

const USAGE: &str = "usage: model_benchmark --data PATH --out DIR";
/// Single-row predictions timed, cycling over the feature rows.
const LATENCY_CALLS: usize = 20_000;

fn main() -> Result<()> {
    let (data, out) = arguments()?;
    let bytes = std::fs::read(&data).with_context(|| format!("reading {}", data.display()))?;
    let dataset = Dataset::load(&bytes, &LoadOptions::default())
        .with_context(|| format!("loading {}", data.display()))?;

    let started = Instant::now();
    let (model, split) =
        train_with_split(&dataset, &TrainOptions::default(), &mut |_: &str, _: u8| {})
            .context("training")?;
    let cv_and_fit_seconds = started.elapsed().as_secs_f64();

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let x = &split.examples.x;
    let mut scored = vec![0usize; x.rows];
    for &row in &split.scored_rows {
        scored[row] += 1;
    }
    let path = out.join("features.csv");
    let mut csv =
        csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
    let mut header = model.card.feature_names.clone();
    header.extend(["__target", "__fold", "__scored"].map(String::from));
    csv.write_record(&header)?;
    let labelled = split.y.iter().zip(&split.fold).zip(&scored);
    for (features, ((target, fold), scored)) in x.values.chunks_exact(x.cols).zip(labelled) {
        // `{}` prints an f64 with the fewest digits that read back to the same number.
        let mut record: Vec<String> = features.iter().map(|v| v.to_string()).collect();
        record.extend([target.to_string(), fold.to_string(), scored.to_string()]);
        csv.write_record(&record)?;
    }
    csv.flush()?;

    let mut micros = Vec::with_capacity(LATENCY_CALLS);
    for call in 0..LATENCY_CALLS {
        let row = x.row(call % x.rows);
        let started = Instant::now();
        black_box(model.predict(black_box(row)));
        micros.push(started.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);

    let evaluation = &model.card.evaluation;
    let metrics = match (&evaluation.classification, &evaluation.regression) {
        (Some(c), _) => serde_json::to_value(c)?,
        (None, Some(r)) => serde_json::to_value(r)?,
        (None, None) => bail!("the model card has no metrics"),
    };
    let report = json!({
        "tool": "icantkube",
        "version": env!("CARGO_PKG_VERSION"),
        "data": data.display().to_string(),
        "task": model.card.task,
        "rows": x.rows,
        "features": x.cols,
        "scheme": evaluation.scheme,
        "folds": evaluation.folds,
        "hyperparameters": model.card.hyperparameters,
        "metrics": metrics,
        "per_fold": evaluation.per_fold,
        "cv_and_fit_seconds": cv_and_fit_seconds,
        "fit_seconds": evaluation.training_seconds,
        "predict_calls": LATENCY_CALLS,
        "predict_p50_us": percentile(&micros, 0.50),
        "predict_p99_us": percentile(&micros, 0.99),
    });
    let path = out.join("icantkube.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn arguments() -> Result<(PathBuf, PathBuf)> {
    let (mut data, mut out) = (None, None);
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.to_str() {
            Some("--data") => &mut data,
            Some("--out") => &mut out,
            Some("-h" | "--help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => bail!("unknown argument {arg:?}\n{USAGE}"),
        };
        let value = args
            .next()
            .with_context(|| format!("{arg:?} needs a value\n{USAGE}"))?;
        *slot = Some(PathBuf::from(value));
    }
    Ok((data.context(USAGE)?, out.context(USAGE)?))
}

/// Nearest-rank percentile of sorted values (the same rule as bench/models.py).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
