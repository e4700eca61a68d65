//! A trained model: a self-describing card (schema, recipe, algorithm, threshold, status
//! bands, metrics, data fingerprint, icantkube version) and the fitted estimators. The file is
//! a first line naming the format, the card as one line of JSON (so `head -2` shows what a
//! model is), then the estimators in postcard's binary encoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calibration::Calibration;
use super::dataset::DatasetProfile;
use super::estimator::{Algorithm, Estimator, Hyperparameters};
use super::evaluation::Evaluation;
use super::recipe::{CompiledRecipe, InputKind, Recipe, SeriesState};
use super::risk::RiskLevel;

const MAGIC: &str = "icantkube-model";
pub const FORMAT_VERSION: u32 = 1;
/// Largest model file read: far above what training makes (a few MB), far below memory.
const MAX_MODEL_BYTES: usize = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Will it fail: a probability.
    Classification,
    /// How long is left: remaining life in the data's time unit.
    Regression,
}

/// Where the statuses start: probabilities at or above (classification), remaining life at or
/// below (regression).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusBands {
    pub warning: f64,
    pub critical: f64,
}

impl StatusBands {
    fn status(&self, task: Task, value: f64) -> RiskLevel {
        match task {
            Task::Classification if value >= self.critical => RiskLevel::Critical,
            Task::Classification if value >= self.warning => RiskLevel::Warning,
            Task::Regression if value <= self.critical => RiskLevel::Critical,
            Task::Regression if value <= self.warning => RiskLevel::Warning,
            _ => RiskLevel::Healthy,
        }
    }
}

/// The data a model learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    pub sha256: String,
    pub rows: usize,
    pub profile: DatasetProfile,
    pub target: String,
    pub life_cap: Option<f64>,
}

/// Everything about a model except its fitted numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub format_version: u32,
    pub icantkube_version: String,
    /// Milliseconds since the epoch, UTC.
    pub created_at: i64,
    pub task: Task,
    pub recipe: Recipe,
    pub feature_names: Vec<String>,
    pub algorithm: Algorithm,
    pub hyperparameters: Hyperparameters,
    /// Decision threshold on the failure probability, chosen on validation folds.
    pub threshold: Option<f64>,
    /// Maps the failure estimator's score to a probability; fitted on out-of-fold scores.
    /// Models made before calibration have none and show the score itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    pub bands: StatusBands,
    /// Half-width of the 90 % remaining-life interval (split-conformal).
    pub interval_half_width: Option<f64>,
    /// What remaining life is counted in (`cycles`, `hours`).
    #[serde(default)]
    pub life_unit: Option<String>,
    /// Failure modes the mode model tells apart, such as `HDF`.
    pub modes: Vec<String>,
    /// Median of each feature in training: the "nothing unusual" value drivers compare with.
    pub reference: Vec<f64>,
    /// Feature importance, summing to 1, in feature order.
    pub importances: Vec<f64>,
    pub evaluation: Evaluation,
    pub data: TrainingData,
}

#[derive(Debug, Serialize, Deserialize)]
struct Estimators {
    main: Estimator,
    /// One per mode: the probability of that mode given a failure.
    modes: Vec<Estimator>,
}

/// A model ready to predict.
#[derive(Debug)]
pub struct Model {
    pub card: ModelCard,
    compiled: CompiledRecipe,
    estimators: Estimators,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not an icantkube model file")]
    NotAModel,
    #[error(
        "model format version {0} is not supported by this icantkube (it reads {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u32),
    #[error("damaged model file: {0}")]
    Damaged(String),
    #[error("the model does not fit machine {machine}: {problems}")]
    SchemaMismatch { machine: String, problems: String },
}

/// One input that pushed the prediction towards failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    pub feature: String,
    /// How much the prediction moved towards failure because of it: probability points, or
    /// time units of remaining life lost.
    pub effect: f64,
}

/// A model's answer for one reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub status: RiskLevel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_probability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<bool>,
    /// The most likely failure mode and its probability given a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_probability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_life: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_life_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_life_high: Option<f64>,
}

impl Model {
    pub(super) fn new(
        card: ModelCard,
        main: Estimator,
        modes: Vec<Estimator>,
    ) -> Result<Model, ModelError> {
        let compiled = card
            .recipe
            .compile()
            .map_err(|e| ModelError::Damaged(e.to_string()))?;
        Ok(Model {
            card,
            compiled,
            estimators: Estimators { main, modes },
        })
    }

    pub fn recipe(&self) -> &CompiledRecipe {
        &self.compiled
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = format!("{MAGIC} {FORMAT_VERSION}\n").into_bytes();
        serde_json::to_writer(&mut bytes, &self.card).expect("a card serialises");
        bytes.push(b'\n');
        bytes.extend(postcard::to_stdvec(&self.estimators).expect("estimators serialise"));
        bytes
    }

    /// Reads a model file, checked before it is used: size, then the card, then every
    /// estimator against the width of the recipe's features (see [`Estimator::check`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(ModelError::Damaged(format!(
                "{} bytes, more than the {MAX_MODEL_BYTES} a model file may have",
                bytes.len()
            )));
        }
        let (card, rest) = read_card(bytes)?;
        let estimators: Estimators = postcard::from_bytes(rest)
            .map_err(|e| ModelError::Damaged(format!("estimators: {e}")))?;
        let model = Model::new(card, estimators.main, estimators.modes)?;
        let width = model.compiled.feature_names().len();
        let card = &model.card;
        let lengths = [
            ("feature names", card.feature_names.len(), width),
            ("reference values", card.reference.len(), width),
            (
                "failure modes",
                card.modes.len(),
                model.estimators.modes.len(),
            ),
        ];
        if let Some((what, length, expected)) = lengths.iter().find(|(_, l, e)| l != e) {
            return Err(ModelError::Damaged(format!(
                "the card has {length} {what} where the model has {expected}"
            )));
        }
        std::iter::once(&model.estimators.main)
            .chain(&model.estimators.modes)
            .try_for_each(|estimator| estimator.check(width))
            .map_err(ModelError::Damaged)?;
        if let Some(calibration) = &model.card.calibration {
            calibration.check().map_err(ModelError::Damaged)?;
        }
        Ok(model)
    }

    /// Only the card of a model file: what pages show of a version, without the estimators.
    pub fn card_from_bytes(bytes: &[u8]) -> Result<ModelCard, ModelError> {
        read_card(bytes).map(|(card, _)| card)
    }

    /// The prediction for one row of features.
    pub fn predict(&self, features: &[f64]) -> Prediction {
        let value = self.score(features);
        let card = &self.card;
        match card.task {
            Task::Classification => {
                let probability = value.clamp(0.0, 1.0);
                // The mode is named only where there is a risk to explain, which also keeps
                // scoring a healthy reading to the main forest alone.
                let (failure_mode, mode_probability) = if probability >= card.bands.warning {
                    self.likely_mode(features).unzip()
                } else {
                    (None, None)
                };
                Prediction {
                    status: card.bands.status(card.task, probability),
                    failure_probability: Some(probability),
                    failure: card.threshold.map(|t| probability >= t),
                    failure_mode,
                    mode_probability,
                    remaining_life: None,
                    remaining_life_low: None,
                    remaining_life_high: None,
                }
            }
            Task::Regression => {
                let life = value.max(0.0);
                let half = card.interval_half_width;
                Prediction {
                    status: card.bands.status(card.task, life),
                    failure_probability: None,
                    failure: None,
                    failure_mode: None,
                    mode_probability: None,
                    remaining_life: Some(life),
                    remaining_life_low: half.map(|h| (life - h).max(0.0)),
                    remaining_life_high: half.map(|h| life + h),
                }
            }
        }
    }

    /// The failure probability (calibrated) or the remaining life of a row of features.
    fn score(&self, features: &[f64]) -> f64 {
        let value = self.estimators.main.predict_row(features);
        match &self.card.calibration {
            Some(calibration) => calibration.apply(value),
            None => value,
        }
    }

    fn likely_mode(&self, features: &[f64]) -> Option<(String, f64)> {
        let scores: Vec<f64> = self
            .estimators
            .modes
            .iter()
            .map(|e| e.predict_row(features).max(0.0))
            .collect();
        let total: f64 = scores.iter().sum();
        let (best, score) = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (total > 0.0).then(|| (self.card.modes[best].clone(), score / total))
    }

    /// The features that pushed this prediction towards failure most: each is set back to its
    /// training median in turn and the change in the prediction is its effect.
    pub fn drivers(&self, features: &[f64], count: usize) -> Vec<Driver> {
        let base = self.score(features);
        // Effects below these are noise, not reasons: a tenth of a percentage point of
        // probability, or half a time unit of life.
        let (towards_failure, negligible) = match self.card.task {
            Task::Classification => (1.0, 0.001),
            Task::Regression => (-1.0, 0.5),
        };
        let mut probe = features.to_vec();
        let mut drivers: Vec<Driver> = Vec::new();
        for (index, reference) in self.card.reference.iter().enumerate() {
            if probe[index] == *reference {
                continue;
            }
            probe[index] = *reference;
            let without = self.score(&probe);
            probe[index] = features[index];
            let effect = (base - without) * towards_failure;
            if effect > negligible {
                drivers.push(Driver {
                    feature: self.card.feature_names[index].clone(),
                    effect,
                });
            }
        }
        drivers.sort_by(|a, b| b.effect.total_cmp(&a.effect));
        drivers.truncate(count);
        drivers
    }

    /// How to read this model's raw inputs from a machine's readings, or why it cannot.
    pub fn bind(
        &self,
        machine: &str,
        sensors: &[&str],
        attributes: &BTreeMap<String, String>,
    ) -> Result<Binding, ModelError> {
        let mut sources = Vec::new();
        let mut problems = Vec::new();
        for input in &self.card.recipe.inputs {
            match (&input.kind, sensors.iter().position(|sensor| *sensor == input.name)) {
                (InputKind::Numeric, Some(index)) => sources.push(Source::Sensor(index)),
                (InputKind::Categorical { levels }, _) => match attributes.get(&input.name) {
                    Some(value) => match levels.iter().position(|l| l == value) {
                        Some(level) => sources.push(Source::Constant(level as f64)),
                        None => problems.push(format!(
                            "attribute {} is {value:?}, which the model does not know (it knows {})",
                            input.name,
                            levels.join(", ")
                        )),
                    },
                    None => problems.push(format!("it needs the attribute {}", input.name)),
                },
                (InputKind::Numeric, None) => {
                    problems.push(format!("it needs the sensor {}", input.name));
                }
            }
        }
        if !problems.is_empty() {
            return Err(ModelError::SchemaMismatch {
                machine: machine.to_string(),
                problems: problems.join("; "),
            });
        }
        Ok(Binding { sources })
    }

    /// Features for the newest reading; `series` must already hold it when the recipe has a
    /// window.
    pub fn features(&self, row_values: &[f64], series: Option<&SeriesState>) -> Vec<f64> {
        self.compiled.features(row_values, series)
    }
}

/// The card, after checking the file's first line, and the bytes after it.
fn read_card(bytes: &[u8]) -> Result<(ModelCard, &[u8]), ModelError> {
    let (first, rest) = split_line(bytes).ok_or(ModelError::NotAModel)?;
    let first = std::str::from_utf8(first).map_err(|_| ModelError::NotAModel)?;
    let version = first
        .strip_prefix(MAGIC)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or(ModelError::NotAModel)?;
    if version != FORMAT_VERSION {
        return Err(ModelError::UnsupportedVersion(version));
    }
    let (card, rest) = split_line(rest).ok_or_else(|| ModelError::Damaged("no card".into()))?;
    let card: ModelCard =
        serde_json::from_slice(card).map_err(|e| ModelError::Damaged(format!("card: {e}")))?;
    Ok((card, rest))
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|b| *b == b'\n')?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Sensor(usize),
    Constant(f64),
}

/// A model's raw inputs, read from one machine's readings.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    sources: Vec<Source>,
}

impl Binding {
    /// Whether the model reads the sensor at this index of the machine's schema.
    pub fn reads_sensor(&self, index: usize) -> bool {
        self.sources.contains(&Source::Sensor(index))
    }

    /// The raw inputs of a reading whose values are in the machine's schema order.
    pub fn raw(&self, values: &[f64]) -> Vec<f64> {
        self.sources
            .iter()
            .map(|s| match s {
                Source::Sensor(index) => values[*index],
                Source::Constant(value) => *value,
            })
            .collect()
    }
}
