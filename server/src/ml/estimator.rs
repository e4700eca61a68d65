//! The learning algorithms, through smartcore: a random forest (grown in parallel, one part per
//! core) and a linear family (logistic regression for failures, ridge regression for remaining
//! life). A binary forest is a regression forest on the 0/1 target: with the mean-squared-error
//! criterion its splits are Gini's, and each leaf's mean is a calibrated vote fraction, so it
//! gives probabilities (smartcore's classifier forest gives only classes).

use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use smartcore::linear::ridge_regression::{RidgeRegression, RidgeRegressionParameters};

/// Rows of features, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
}

impl Matrix {
    pub fn with_cols(cols: usize) -> Matrix {
        Matrix {
            rows: 0,
            cols,
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, row: &[f64]) {
        assert_eq!(row.len(), self.cols, "row width");
        self.values.extend_from_slice(row);
        self.rows += 1;
    }

    pub fn row(&self, index: usize) -> &[f64] {
        &self.values[index * self.cols..(index + 1) * self.cols]
    }

    /// The rows at these positions, in this order.
    pub fn select(&self, indices: &[usize]) -> Matrix {
        let mut selected = Matrix::with_cols(self.cols);
        selected.values.reserve(indices.len() * self.cols);
        for &i in indices {
            selected.push(self.row(i));
        }
        selected
    }

    fn dense(&self) -> DenseMatrix<f64> {
        DenseMatrix::new(self.rows, self.cols, self.values.clone(), false)
            .expect("shape matches the values")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    RandomForest,
    /// Logistic regression for failures, ridge regression for remaining life.
    Linear,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::RandomForest, Algorithm::Linear];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RandomForest => "random_forest",
            Algorithm::Linear => "linear",
        }
    }

    pub fn parse(text: &str) -> Option<Algorithm> {
        match text {
            "random_forest" | "random-forest" | "rf" | "forest" => Some(Algorithm::RandomForest),
            "linear" | "logistic" | "logistic_regression" | "ridge" => Some(Algorithm::Linear),
            _ => None,
        }
    }
}

/// The few hyperparameters that matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Trees in a forest.
    pub trees: usize,
    pub max_depth: Option<u16>,
    pub min_samples_leaf: usize,
    /// Share of the features a forest split may choose from (0 < x ≤ 1).
    pub features_per_split: f64,
    /// Weigh failures and healthy rows equally when bootstrapping (classification).
    pub balanced: bool,
    /// L2 penalty of the linear family.
    pub alpha: f64,
    pub seed: u64,
}

impl Hyperparameters {
    /// Defaults chosen on the reference data sets' validation folds.
    pub fn defaults(classification: bool) -> Hyperparameters {
        Hyperparameters {
            trees: 100,
            // smartcore splits even pure nodes; a depth cap keeps failure forests small and
            // fast (no loss of F1 on AI4I at 12) while remaining-life trees stop at their leaf size.
            max_depth: if classification { Some(12) } else { None },
            min_samples_leaf: if classification { 1 } else { 5 },
            features_per_split: if classification { 1.0 } else { 0.33 },
            balanced: false,
            alpha: 1.0,
            seed: 42,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        if self.trees == 0 || self.trees > 5000 {
            return Err(format!(
                "trees must be between 1 and 5000, not {}",
                self.trees
            ));
        }
        if !(self.features_per_split > 0.0 && self.features_per_split <= 1.0) {
            return Err(format!(
                "features_per_split must be in (0, 1], not {}",
                self.features_per_split
            ));
        }
        if self.min_samples_leaf == 0 {
            return Err("min_samples_leaf must be at least 1".into());
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(format!(
                "alpha must be a non-negative number, not {}",
                self.alpha
            ));
        }
        Ok(())
    }
}

type SmartForest = RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// A random forest, stored as the parts grown in parallel.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forest {
    parts: Vec<(usize, SmartForest)>,
    importances: Vec<f64>,
}

/// A standardised linear model; the sigmoid of its output when `logistic`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Linear {
    means: Vec<f64>,
    scales: Vec<f64>,
    weights: Vec<f64>,
    intercept: f64,
    logistic: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Estimator {
    Forest(Forest),
    Linear(Linear),
}

#[derive(Debug, thiserror::Error)]
#[error("training failed: {0}")]
pub struct FitError(pub String);

impl Estimator {
    /// Fits on `x` and `y` (0/1 for classification).
    pub fn fit(
        algorithm: Algorithm,
        parameters: &Hyperparameters,
        x: &Matrix,
        y: &[f64],
        classification: bool,
    ) -> Result<Estimator, FitError> {
        parameters.check().map_err(FitError)?;
        if x.rows == 0 || x.rows != y.len() {
            return Err(FitError(format!(
                "{} rows of features, {} targets",
                x.rows,
                y.len()
            )));
        }
        match algorithm {
            Algorithm::RandomForest => {
                Forest::fit(parameters, x, y, classification).map(Estimator::Forest)
            }
            Algorithm::Linear => {
                Linear::fit(parameters, x, y, classification).map(Estimator::Linear)
            }
        }
    }

    /// The failure probability or the remaining life of one row of features.
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        match self {
            Estimator::Forest(forest) => forest.predict_row(row),
            Estimator::Linear(linear) => linear.predict_row(row),
        }
    }

    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        match self {
            Estimator::Forest(forest) => forest.predict(x),
            Estimator::Linear(linear) => {
                (0..x.rows).map(|r| linear.predict_row(x.row(r))).collect()
            }
        }
    }

    /// How much each feature contributes overall, summing to 1: impurity decrease for a
    /// forest, standardised coefficient size for a linear model.
    pub fn importances(&self) -> Vec<f64> {
        match self {
            Estimator::Forest(forest) => forest.importances.clone(),
            Estimator::Linear(linear) => {
                let total: f64 = linear.weights.iter().map(|w| w.abs()).sum();
                linear
                    .weights
                    .iter()
                    .map(|w| if total > 0.0 { w.abs() / total } else { 0.0 })
                    .collect()
            }
        }
    }
}

impl Forest {
    fn fit(
        parameters: &Hyperparameters,
        x: &Matrix,
        y: &[f64],
        classification: bool,
    ) -> Result<Forest, FitError> {
        let dense = x.dense();
        let features =
            ((x.cols as f64 * parameters.features_per_split).round() as usize).clamp(1, x.cols);
        let weights = (classification && parameters.balanced).then(|| balanced_weights(y));
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(parameters.trees);
        let y = y.to_vec();
        let parts: Result<Vec<(usize, SmartForest)>, FitError> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|part| {
                    let trees =
                        parameters.trees / threads + usize::from(part < parameters.trees % threads);
                    let smart = RandomForestRegressorParameters {
                        max_depth: parameters.max_depth,
                        min_samples_leaf: parameters.min_samples_leaf,
                        min_samples_split: 2,
                        n_trees: trees,
                        m: Some(features),
                        keep_samples: false,
                        seed: parameters.seed.wrapping_add(part as u64 * 7919),
                    };
                    let (dense, y, weights) = (&dense, &y, &weights);
                    scope.spawn(move || {
                        let fitted = match weights {
                            Some(w) => SmartForest::fit_with_weights(dense, y, w, smart),
                            None => SmartForest::fit(dense, y, smart),
                        };
                        fitted
                            .map(|f| (trees, f))
                            .map_err(|e| FitError(e.to_string()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| FitError("a training thread panicked".into()))?
                })
                .collect()
        });
        let parts = parts?;
        let mut importances = vec![0.0; x.cols];
        for (trees, part) in &parts {
            let share = *trees as f64 / parameters.trees as f64;
            let part_importances = part
                .compute_feature_importances()
                .map_err(|e| FitError(e.to_string()))?;
            for (total, value) in importances.iter_mut().zip(part_importances) {
                *total += share * if value.is_finite() { value } else { 0.0 };
            }
        }
        Ok(Forest { parts, importances })
    }

    fn predict(&self, x: &Matrix) -> Vec<f64> {
        let dense = x.dense();
        let total: usize = self.parts.iter().map(|(t, _)| t).sum();
        let mut sum = vec![0.0; x.rows];
        for (trees, part) in &self.parts {
            let predictions = part.predict(&dense).expect("a fitted forest predicts");
            for (s, p) in sum.iter_mut().zip(predictions) {
                *s += p * *trees as f64;
            }
        }
        sum.iter().map(|s| s / total as f64).collect()
    }

    fn predict_row(&self, row: &[f64]) -> f64 {
        let dense = DenseMatrix::new(1, row.len(), row.to_vec(), false).expect("one row");
        let total: usize = self.parts.iter().map(|(t, _)| t).sum();
        let sum: f64 = self
            .parts
            .iter()
            .map(|(trees, part)| {
                part.predict(&dense)
                    .expect("a fitted forest predicts")
                    .get(0)
                    * *trees as f64
            })
            .sum();
        sum / total as f64
    }
}

/// Weights that give each class the same total.
fn balanced_weights(y: &[f64]) -> Vec<f64> {
    let positives = y.iter().filter(|v| **v >= 0.5).count().max(1) as f64;
    let negatives = (y.len() as f64 - positives).max(1.0);
    y.iter()
        .map(|v| {
            if *v >= 0.5 {
                0.5 / positives
            } else {
                0.5 / negatives
            }
        })
        .collect()
}

impl Linear {
    fn fit(
        parameters: &Hyperparameters,
        x: &Matrix,
        y: &[f64],
        classification: bool,
    ) -> Result<Linear, FitError> {
        let (means, scales) = standardisation(x);
        let mut scaled = x.clone();
        for row in scaled.values.chunks_mut(x.cols) {
            for ((value, mean), scale) in row.iter_mut().zip(&means).zip(&scales) {
                *value = (*value - mean) / scale;
            }
        }
        let dense = scaled.dense();
        let fail = |e: smartcore::error::Failed| FitError(e.to_string());
        let (weights, intercept) = if classification {
            let labels: Vec<i32> = y.iter().map(|v| i32::from(*v >= 0.5)).collect();
            if labels.iter().all(|l| *l == labels[0]) {
                return Err(FitError("the target has one class only".into()));
            }
            let model = LogisticRegression::fit(
                &dense,
                &labels,
                LogisticRegressionParameters::default().with_alpha(parameters.alpha),
            )
            .map_err(fail)?;
            let weights: Vec<f64> = model.coefficients().iterator(0).copied().collect();
            (weights, *model.intercept().get((0, 0)))
        } else {
            // smartcore's ridge has no intercept on unnormalised input; the features are
            // centred already, so centring the target makes its mean the intercept.
            let mean = y.iter().sum::<f64>() / y.len() as f64;
            let centred: Vec<f64> = y.iter().map(|v| v - mean).collect();
            let model = RidgeRegression::fit(
                &dense,
                &centred,
                RidgeRegressionParameters::default()
                    .with_alpha(parameters.alpha)
                    .with_normalize(false),
            )
            .map_err(fail)?;
            let weights: Vec<f64> = model.coefficients().iterator(0).copied().collect();
            (weights, mean)
        };
        Ok(Linear {
            means,
            scales,
            weights,
            intercept,
            logistic: classification,
        })
    }

    fn predict_row(&self, row: &[f64]) -> f64 {
        let z = self.intercept
            + row
                .iter()
                .zip(&self.means)
                .zip(&self.scales)
                .zip(&self.weights)
                .map(|(((v, m), s), w)| (v - m) / s * w)
                .sum::<f64>();
        if self.logistic {
            1.0 / (1.0 + (-z).exp())
        } else {
            z
        }
    }
}

fn standardisation(x: &Matrix) -> (Vec<f64>, Vec<f64>) {
    let n = x.rows as f64;
    let mut means = vec![0.0; x.cols];
    for row in x.values.chunks(x.cols) {
        for (m, v) in means.iter_mut().zip(row) {
            *m += v / n;
        }
    }
    let mut scales = vec![0.0; x.cols];
    for row in x.values.chunks(x.cols) {
        for ((s, v), m) in scales.iter_mut().zip(row).zip(&means) {
            *s += (v - m).powi(2) / n;
        }
    }
    for s in &mut scales {
        *s = if *s > 0.0 { s.sqrt() } else { 1.0 };
    }
    (means, scales)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_data() -> (Matrix, Vec<f64>) {
        let mut x = Matrix::with_cols(2);
        let mut y = Vec::new();
        for i in 0..200 {
            let a = i as f64;
            x.push(&[a, ((i * 37) % 200) as f64]);
            y.push(f64::from(u8::from(i >= 150)));
        }
        (x, y)
    }

    #[test]
    fn forest_probabilities_follow_the_signal_and_ignore_noise() {
        let (x, y) = step_data();
        for balanced in [false, true] {
            let parameters = Hyperparameters {
                trees: 20,
                balanced,
                ..Hyperparameters::defaults(true)
            };
            let forest =
                Estimator::fit(Algorithm::RandomForest, &parameters, &x, &y, true).unwrap();
            assert!(forest.predict_row(&[10.0, 5.0]) < 0.1);
            assert!(forest.predict_row(&[190.0, 5.0]) > 0.9);
            let importances = forest.importances();
            assert!(importances[0] > 0.8, "{importances:?}");
            let all = forest.predict(&x);
            assert_eq!(all[0], forest.predict_row(x.row(0)));
        }
    }

    #[test]
    fn logistic_and_ridge_fit_the_direction_of_the_signal() {
        let (x, y) = step_data();
        let parameters = Hyperparameters::defaults(true);
        let logistic = Estimator::fit(Algorithm::Linear, &parameters, &x, &y, true).unwrap();
        assert!(logistic.predict_row(&[199.0, 100.0]) > logistic.predict_row(&[0.0, 100.0]));
        let line: Vec<f64> = (0..200).map(|i| 3.0 * i as f64 + 7.0).collect();
        let ridge = Estimator::fit(
            Algorithm::Linear,
            &Hyperparameters {
                alpha: 0.0,
                ..Hyperparameters::defaults(false)
            },
            &x,
            &line,
            false,
        )
        .unwrap();
        let predicted = ridge.predict_row(&[100.0, 3.0]);
        assert!((predicted - 307.0).abs() < 1e-6, "{predicted}");
    }

    #[test]
    fn bad_hyperparameters_are_refused_by_name() {
        let (x, y) = step_data();
        let parameters = Hyperparameters {
            features_per_split: 0.0,
            ..Hyperparameters::defaults(true)
        };
        let error = Estimator::fit(Algorithm::RandomForest, &parameters, &x, &y, true).unwrap_err();
        assert!(error.to_string().contains("features_per_split"), "{error}");
    }
}
