//! Training: the recipe for a data set, cross-validation, the final fit and the model card.
//! Offline prediction and evaluation of a saved model on a file live here too, since they
//! read data sets the same way.

use std::time::Instant;

use super::calibration;
use super::dataset::{Dataset, DatasetError, DatasetProfile, Role, Values};
use super::estimator::{Algorithm, Estimator, FitError, Hyperparameters, Matrix};
use super::evaluation::{self, Evaluation, ModeMetrics};
use super::examples::{self, Examples};
use super::metrics::{ClassificationMetrics, RegressionMetrics};
use super::model::{Model, ModelCard, Prediction, StatusBands, Task, TrainingData, FORMAT_VERSION};
use super::recipe::{Derived, InputKind, Recipe, RecipeError, RecipeInput, Window};

/// Trees in each one-vs-rest failure-mode forest (they learn from the failures only).
const MODE_TREES: usize = 60;
/// Points kept of each curve and of the residuals, for the pages' charts.
const CURVE_POINTS: usize = 60;
const RESIDUAL_POINTS: usize = 400;

#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// `None`: the profile's best on cross-validation ([`Algorithm::for_profile`]).
    pub algorithm: Option<Algorithm>,
    /// `None`: the defaults for the task.
    pub hyperparameters: Option<Hyperparameters>,
    pub folds: usize,
    /// Derived inputs besides the profile's own.
    pub derived: Vec<Derived>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            algorithm: None,
            hyperparameters: None,
            folds: 5,
            derived: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DatasetError),
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("{0}")]
    Unsuitable(String),
}

/// Where a training run is: a stage and its overall progress 0–100.
pub trait Progress {
    fn report(&mut self, stage: &str, percent: u8);
}

impl<F: FnMut(&str, u8)> Progress for F {
    fn report(&mut self, stage: &str, percent: u8) {
        self(stage, percent)
    }
}

/// The AI4I recipe derives what its failure mechanisms depend on: heat dissipation on the
/// process–air temperature difference, power failure on mechanical power, overstrain on
/// wear × torque against the variant's rated limit (11,000 / 12,000 / 13,000 min·Nm).
const AI4I_DERIVED: [(&str, &str); 4] = [
    (
        "temperature_difference",
        "process_temperature - air_temperature",
    ),
    ("power", "torque * rotational_speed * 2 * pi / 60"),
    ("strain", "tool_wear * torque"),
    ("strain_ratio", "strain / (11000 + 1000 * type)"),
];
const AI4I_TYPE_LEVELS: [&str; 3] = ["L", "M", "H"];

/// The recipe a data set of this profile gets.
pub fn recipe_for(dataset: &Dataset, extra: &[Derived]) -> Recipe {
    let mut inputs = Vec::new();
    for column in &dataset.columns {
        match column.role {
            Role::Input => inputs.push(RecipeInput {
                name: column.name.clone(),
                kind: InputKind::Numeric,
            }),
            Role::Categorical => inputs.push(RecipeInput {
                name: column.name.clone(),
                kind: InputKind::Categorical {
                    levels: levels(dataset.profile, &column.name, &column.values),
                },
            }),
            _ => {}
        }
    }
    let has = |name: &str| inputs.iter().any(|i| i.name == name);
    let mut derived = Vec::new();
    if dataset.profile == DatasetProfile::Ai4i2020 && has("type") {
        derived.extend(AI4I_DERIVED.iter().map(|(name, expression)| Derived {
            name: name.to_string(),
            expression: expression.to_string(),
        }));
    }
    derived.extend(extra.iter().cloned());
    Recipe {
        inputs,
        derived,
        window: (dataset.profile == DatasetProfile::RunToFailure).then(Window::default),
    }
}

fn levels(profile: DatasetProfile, name: &str, values: &Values) -> Vec<String> {
    let mut levels: Vec<String> = (0..values.len()).map(|r| values.text(r)).collect();
    levels.sort();
    levels.dedup();
    // AI4I's variants in quality order, so the overstrain limit is linear in the code.
    if profile == DatasetProfile::Ai4i2020
        && name == "type"
        && levels
            .iter()
            .all(|l| AI4I_TYPE_LEVELS.contains(&l.as_str()))
    {
        return AI4I_TYPE_LEVELS.iter().map(|l| l.to_string()).collect();
    }
    levels
}

/// How cross-validation split the rows, for benchmarks that score a peer on the same folds.
#[derive(Debug, Clone)]
pub struct Split {
    pub examples: Examples,
    /// Target of each feature row.
    pub y: Vec<f64>,
    /// Fold of each feature row.
    pub fold: Vec<usize>,
    /// Feature rows scored for remaining life (the cut points), or every row.
    pub scored_rows: Vec<usize>,
    /// Out-of-fold prediction of each feature row, as cross-validation scored it.
    pub oof: Vec<f64>,
}

/// Cross-validates, then fits on all rows; the card carries the validation results.
pub fn train(
    dataset: &Dataset,
    options: &TrainOptions,
    progress: &mut dyn Progress,
) -> Result<Model, TrainError> {
    train_with_split(dataset, options, progress).map(|(model, _)| model)
}

/// [`train`], also returning the folds it used.
pub fn train_with_split(
    dataset: &Dataset,
    options: &TrainOptions,
    progress: &mut dyn Progress,
) -> Result<(Model, Split), TrainError> {
    let started = Instant::now();
    progress.report("preparing features", 2);
    let task = if dataset.is_classification() {
        Task::Classification
    } else {
        Task::Regression
    };
    let classification = task == Task::Classification;
    let algorithm = options
        .algorithm
        .unwrap_or_else(|| Algorithm::for_profile(dataset.profile));
    let parameters = options
        .hyperparameters
        .clone()
        .unwrap_or_else(|| Hyperparameters::defaults(algorithm, classification));
    parameters.check().map_err(TrainError::Unsuitable)?;
    let recipe = recipe_for(dataset, &options.derived);
    let compiled = recipe.compile()?;
    let examples = examples::build(dataset, &compiled)?;
    let target = dataset.target_values()?;
    let y: Vec<f64> = examples.source_rows.iter().map(|&r| target[r]).collect();
    if classification {
        let positives = y.iter().filter(|v| **v >= 0.5).count();
        if positives < options.folds || y.len() - positives < options.folds {
            return Err(TrainError::Unsuitable(format!(
                "the target {} needs at least {} rows of each class for {}-fold validation; it has {positives} failures in {} rows",
                dataset.target().header, options.folds, options.folds, y.len()
            )));
        }
    }
    let folds = options.folds.max(2);
    let fold = match (&examples.units, classification) {
        (Some(units), _) => evaluation::grouped_folds(units, folds, parameters.seed),
        (None, true) => evaluation::stratified_folds(&y, folds, parameters.seed),
        (None, false) => evaluation::shuffled_folds(y.len(), folds, parameters.seed),
    };
    let modes = examples::mode_labels(dataset)
        .filter(|_| classification)
        .map(|(names, labels)| {
            let labels: Vec<Option<usize>> =
                examples.source_rows.iter().map(|&r| labels[r]).collect();
            (names, labels)
        });

    let mut oof = vec![0.0; y.len()];
    let mut oof_mode: Vec<Option<usize>> = vec![None; y.len()];
    for f in 0..folds {
        progress.report(
            &format!("cross-validation, fold {} of {folds}", f + 1),
            (5 + 75 * f / folds) as u8,
        );
        let train: Vec<usize> = (0..y.len()).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..y.len()).filter(|&i| fold[i] == f).collect();
        let estimator = fit_rows(
            algorithm,
            &parameters,
            &examples.x,
            &y,
            &train,
            classification,
        )?;
        for (&i, p) in test
            .iter()
            .zip(estimator.predict(&examples.x.select(&test)))
        {
            oof[i] = p;
        }
        if let Some((names, labels)) = &modes {
            let mode_models = fit_modes(&parameters, &examples.x, labels, names.len(), &train)?;
            for &i in test.iter().filter(|&&i| labels[i].is_some()) {
                oof_mode[i] = best_mode(&mode_models, examples.x.row(i));
            }
        }
    }

    progress.report("fitting on all rows", 82);
    let all: Vec<usize> = (0..y.len()).collect();
    let fit_started = Instant::now();
    let main = fit_rows(
        algorithm,
        &parameters,
        &examples.x,
        &y,
        &all,
        classification,
    )?;
    let mode_models = match &modes {
        Some((names, labels)) => fit_modes(&parameters, &examples.x, labels, names.len(), &all)?,
        None => Vec::new(),
    };
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    progress.report("measuring", 95);

    let mut evaluation = Evaluation {
        scheme: String::new(),
        folds,
        classification: None,
        regression: None,
        per_fold: Vec::new(),
        calibration: None,
        per_mode: Vec::new(),
        roc_curve: Vec::new(),
        pr_curve: Vec::new(),
        residuals: Vec::new(),
        training_seconds: 0.0,
    };
    let mut scored_rows = all.clone();
    let mut calibration = None;
    let (threshold, bands, half_width) = if classification {
        let (mut metrics, per_fold, score_threshold) =
            evaluation::classification_metrics(&y, &oof, &fold, folds);
        let (map, report) = calibration::calibrate(&y, &oof, &fold, folds);
        // The map is non-decreasing, so the threshold carried through it keeps the decisions
        // (up to scores pooled with the threshold's own) on the probabilities shown live.
        let threshold = map.apply(score_threshold);
        metrics.threshold = threshold;
        evaluation.calibration = Some(report);
        calibration = Some(map);
        evaluation.scheme = format!(
            "{}{folds}-fold cross-validation; each fold's threshold chosen on the other folds",
            if examples.units.is_some() {
                "unit-grouped "
            } else {
                "stratified "
            }
        );
        let (roc, pr) = evaluation::curves(&y, &oof, CURVE_POINTS);
        evaluation.roc_curve = roc;
        evaluation.pr_curve = pr;
        if let Some((names, labels)) = &modes {
            evaluation.per_mode = mode_metrics(names, labels, &oof_mode, &oof, score_threshold);
        }
        evaluation.per_fold = per_fold;
        evaluation.classification = Some(metrics);
        let bands = StatusBands {
            warning: threshold / 2.0,
            critical: threshold,
        };
        (Some(threshold), bands, None)
    } else {
        let rows = match (&examples.units, &examples.positions) {
            (Some(units), Some(positions)) => {
                evaluation.scheme = format!(
                    "unit-grouped {folds}-fold cross-validation; each held-out unit cut at {} random points (at least {} rows visible) and scored at its last visible row",
                    evaluation::CUTS_PER_UNIT,
                    evaluation::MIN_VISIBLE_ROWS
                );
                evaluation::cut_rows(units, positions, parameters.seed)
            }
            _ => {
                evaluation.scheme = format!("{folds}-fold cross-validation");
                all.clone()
            }
        };
        let (metrics, per_fold, half) =
            evaluation::regression_metrics(&y, &oof, &fold, folds, &rows);
        scored_rows.clone_from(&rows);
        evaluation.residuals = evaluation::thin(
            rows.iter().map(|&i| [y[i], oof[i]]).collect(),
            RESIDUAL_POINTS,
        );
        evaluation.per_fold = per_fold;
        evaluation.regression = Some(metrics);
        let scale = dataset
            .life_cap
            .unwrap_or_else(|| y.iter().cloned().fold(0.0, f64::max));
        let bands = StatusBands {
            warning: 0.4 * scale,
            critical: 0.16 * scale,
        };
        (None, bands, Some(half))
    };
    evaluation.training_seconds = fit_seconds;
    tracing::debug!(total_seconds = started.elapsed().as_secs_f64(), "trained");

    let card = ModelCard {
        format_version: FORMAT_VERSION,
        icantkube_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: now_ms(),
        task,
        recipe,
        feature_names: compiled.feature_names().to_vec(),
        algorithm,
        hyperparameters: parameters,
        threshold,
        calibration,
        bands,
        interval_half_width: half_width,
        life_unit: (!classification).then(|| life_unit(dataset).to_string()),
        modes: modes.map(|(names, _)| names).unwrap_or_default(),
        reference: medians(&examples.x),
        importances: main.importances(),
        evaluation,
        data: TrainingData {
            sha256: dataset.fingerprint.clone(),
            rows: dataset.rows,
            profile: dataset.profile,
            target: dataset.target().header.clone(),
            life_cap: dataset.life_cap,
        },
    };
    progress.report("done", 100);
    let model =
        Model::new(card, main, mode_models).map_err(|e| TrainError::Unsuitable(e.to_string()))?;
    let split = Split {
        examples,
        y,
        fold,
        scored_rows,
        oof,
    };
    Ok((model, split))
}

/// Cycles when the series counts them, hours otherwise.
fn life_unit(dataset: &Dataset) -> &'static str {
    match dataset.timestamp() {
        Some(time) if time.name.contains("cycle") => "cycles",
        _ => "hours",
    }
}

fn fit_rows(
    algorithm: Algorithm,
    parameters: &Hyperparameters,
    x: &Matrix,
    y: &[f64],
    rows: &[usize],
    classification: bool,
) -> Result<Estimator, FitError> {
    let targets: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
    Estimator::fit(
        algorithm,
        parameters,
        x.select(rows),
        &targets,
        classification,
    )
}

/// One-vs-rest forests over the rows that carry a mode.
fn fit_modes(
    parameters: &Hyperparameters,
    x: &Matrix,
    labels: &[Option<usize>],
    count: usize,
    rows: &[usize],
) -> Result<Vec<Estimator>, FitError> {
    let labelled: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| labels[i].is_some())
        .collect();
    if labelled.is_empty() {
        return Ok(Vec::new());
    }
    let parameters = Hyperparameters {
        trees: MODE_TREES,
        min_samples_leaf: 1,
        balanced: false,
        ..parameters.clone()
    };
    (0..count)
        .map(|mode| {
            let y: Vec<f64> = labels
                .iter()
                .map(|l| f64::from(u8::from(*l == Some(mode))))
                .collect();
            fit_rows(Algorithm::RandomForest, &parameters, x, &y, &labelled, true)
        })
        .collect()
}

fn best_mode(models: &[Estimator], row: &[f64]) -> Option<usize> {
    models
        .iter()
        .map(|m| m.predict_row(row))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

fn mode_metrics(
    names: &[String],
    labels: &[Option<usize>],
    predicted: &[Option<usize>],
    oof: &[f64],
    threshold: f64,
) -> Vec<ModeMetrics> {
    names
        .iter()
        .enumerate()
        .map(|(mode, name)| {
            let rows: Vec<usize> = (0..labels.len())
                .filter(|&i| labels[i] == Some(mode))
                .collect();
            let n = rows.len().max(1) as f64;
            ModeMetrics {
                mode: name.clone(),
                rows: rows.len(),
                recall: rows.iter().filter(|&&i| oof[i] >= threshold).count() as f64 / n,
                mode_accuracy: rows.iter().filter(|&&i| predicted[i] == Some(mode)).count() as f64
                    / n,
            }
        })
        .collect()
}

fn medians(x: &Matrix) -> Vec<f64> {
    (0..x.cols)
        .map(|c| {
            let mut column: Vec<f64> = (0..x.rows).map(|r| x.row(r)[c]).collect();
            column.sort_by(f64::total_cmp);
            column.get(column.len() / 2).copied().unwrap_or(0.0)
        })
        .collect()
}

/// Features of a data set's rows as the model's recipe builds them.
fn model_examples(model: &Model, dataset: &Dataset) -> Result<Examples, DatasetError> {
    examples::build(dataset, model.recipe())
}

/// One prediction per data set row, in the file's order.
pub fn predict_dataset(model: &Model, dataset: &Dataset) -> Result<Vec<Prediction>, DatasetError> {
    let examples = model_examples(model, dataset)?;
    let mut predictions: Vec<Option<Prediction>> = vec![None; dataset.rows];
    for (k, &row) in examples.source_rows.iter().enumerate() {
        predictions[row] = Some(model.predict(examples.x.row(k)));
    }
    Ok(predictions
        .into_iter()
        .map(|p| p.expect("every row predicted"))
        .collect())
}

/// A saved model's quality on labelled rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Assessment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<ClassificationMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionMetrics>,
}

pub fn evaluate(model: &Model, dataset: &Dataset) -> Result<Assessment, TrainError> {
    let target = dataset.target_values()?;
    let predictions = predict_dataset(model, dataset)?;
    Ok(match model.card.task {
        Task::Classification => {
            let probabilities: Vec<f64> = predictions
                .iter()
                .map(|p| p.failure_probability.unwrap_or(0.0))
                .collect();
            let threshold = model.card.threshold.unwrap_or(0.5);
            Assessment {
                classification: Some(ClassificationMetrics::compute(
                    &target,
                    &probabilities,
                    threshold,
                )),
                regression: None,
            }
        }
        Task::Regression => {
            let life: Vec<f64> = predictions
                .iter()
                .map(|p| p.remaining_life.unwrap_or(0.0))
                .collect();
            Assessment {
                classification: None,
                regression: Some(RegressionMetrics::compute(
                    &target,
                    &life,
                    model.card.interval_half_width,
                )),
            }
        }
    })
}

/// When the model was made, in milliseconds since the Unix epoch, as the app stores times.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}
