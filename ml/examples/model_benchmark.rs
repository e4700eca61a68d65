//! Model benchmark, icantkube's half: trains the failure model on a data set as the app does
//! (5-fold cross-validation, then a fit on all rows) and writes the features and folds it used,
//! so that `bench/models.py` can score scikit-learn on exactly the same rows and folds.
//!
//! ```text
//! model_benchmark --data PATH --out DIR [--algorithm NAME] [--set NAME=VALUE]... [--folds N]
//! ```
//!
//! `--algorithm`, `--set` (a hyperparameter over the algorithm's defaults, JSON value) and
//! `--folds` (fewer folds train on fewer rows) try other settings than the app's.
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
use ml::{Algorithm, Hyperparameters};
use serde_json::json;

const USAGE: &str =
    "usage: model_benchmark --data PATH --out DIR [--algorithm NAME] [--set NAME=VALUE]... [--folds N]";
/// Single-row predictions timed, cycling over the feature rows.
const LATENCY_CALLS: usize = 20_000;

fn main() -> Result<()> {
    let arguments = arguments()?;
    let (data, out) = (arguments.data, arguments.out);
    let bytes = std::fs::read(&data).with_context(|| format!("reading {}", data.display()))?;
    let dataset = Dataset::load(&bytes, &LoadOptions::default())
        .with_context(|| format!("loading {}", data.display()))?;

    let started = Instant::now();
    let algorithm = arguments
        .algorithm
        .unwrap_or_else(|| Algorithm::for_profile(dataset.profile));
    let mut parameters = serde_json::to_value(Hyperparameters::defaults(
        algorithm,
        dataset.is_classification(),
    ))?;
    for (name, value) in arguments.settings {
        let slot = parameters
            .get_mut(&name)
            .with_context(|| format!("no hyperparameter {name:?}"))?;
        *slot = serde_json::from_str(&value).with_context(|| format!("{name}={value}"))?;
    }
    let options = TrainOptions {
        algorithm: Some(algorithm),
        hyperparameters: Some(serde_json::from_value(parameters)?),
        folds: arguments.folds,
        ..TrainOptions::default()
    };
    let (model, split) =
        train_with_split(&dataset, &options, &mut |_: &str, _: u8| {}).context("training")?;
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
    header.extend(["__target", "__fold", "__scored", "__oof"].map(String::from));
    csv.write_record(&header)?;
    let labelled = split.y.iter().zip(&split.fold).zip(&scored).zip(&split.oof);
    for (features, (((target, fold), scored), oof)) in x.values.chunks_exact(x.cols).zip(labelled) {
        // `{}` prints an f64 with the fewest digits that read back to the same number.
        let mut record: Vec<String> = features.iter().map(|v| v.to_string()).collect();
        record.extend([
            target.to_string(),
            fold.to_string(),
            scored.to_string(),
            oof.to_string(),
        ]);
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
    let mut metrics = match (&evaluation.classification, &evaluation.regression) {
        (Some(c), _) => serde_json::to_value(c)?,
        (None, Some(r)) => serde_json::to_value(r)?,
        (None, None) => bail!("the model card has no metrics"),
    };
    if let (Some(calibration), Some(object)) = (&evaluation.calibration, metrics.as_object_mut()) {
        object.insert("brier".into(), json!(calibration.brier));
    }
    let report = json!({
        "tool": "icantkube",
        "version": env!("CARGO_PKG_VERSION"),
        "data": data.display().to_string(),
        "task": model.card.task,
        "algorithm": model.card.algorithm.name(),
        "default_algorithm": Algorithm::for_profile(dataset.profile).name(),
        "rows": x.rows,
        "features": x.cols,
        "scheme": evaluation.scheme,
        "folds": evaluation.folds,
        "hyperparameters": model.card.hyperparameters,
        "metrics": metrics,
        "per_fold": evaluation.per_fold,
        "per_mode": evaluation.per_mode,
        "calibration": evaluation.calibration,
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

struct Arguments {
    data: PathBuf,
    out: PathBuf,
    algorithm: Option<Algorithm>,
    settings: Vec<(String, String)>,
    folds: usize,
}

fn arguments() -> Result<Arguments> {
    let (mut data, mut out, mut algorithm, mut settings) = (None, None, None, Vec::new());
    let mut folds = TrainOptions::default().folds;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "-h" | "--help") {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .with_context(|| format!("{arg:?} needs a value\n{USAGE}"))?;
        match arg.as_str() {
            "--data" => data = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--algorithm" => {
                algorithm = Some(
                    Algorithm::parse(&value)
                        .with_context(|| format!("unknown algorithm {value:?}"))?,
                )
            }
            "--set" => {
                let (name, setting) = value
                    .split_once('=')
                    .with_context(|| format!("--set {value:?}: write NAME=VALUE"))?;
                settings.push((name.to_string(), setting.to_string()));
            }
            "--folds" => {
                folds = value
                    .parse()
                    .ok()
                    .filter(|f| *f >= 2)
                    .with_context(|| format!("--folds {value:?}: a whole number from 2"))?
            }
            _ => bail!("unknown argument {arg:?}\n{USAGE}"),
        }
    }
    Ok(Arguments {
        data: data.context(USAGE)?,
        out: out.context(USAGE)?,
        algorithm,
        settings,
        folds,
    })
}

/// Nearest-rank percentile of sorted values (the same rule as bench/models.py).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
