//! The learning algorithms: a random forest (smartcore's, grown in parallel, one part per
//! core), gradient boosting (hessboost's) and a linear family (logistic regression for
//! failures, ridge regression for remaining life). A binary forest is a regression forest on the 0/1 target: with the mean-squared-error
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

use super::dataset::DatasetProfile;
use boosting::Boosted;
use smartcore_trees::SmartNode;

mod boosting;
mod smartcore_trees;

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

    fn into_dense(self) -> DenseMatrix<f64> {
        DenseMatrix::new(self.rows, self.cols, self.values, false)
            .expect("shape matches the values")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    RandomForest,
    /// Logistic regression for failures, ridge regression for remaining life.
    Linear,
    GradientBoosting,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RandomForest => "random_forest",
            Algorithm::Linear => "linear",
            Algorithm::GradientBoosting => "gradient_boosting",
        }
    }

    /// The algorithm that cross-validates best on the profile's reference data
    /// (`bench/models.sh`): boosting on run-to-failure series (C-MAPSS FD001 RMSE 10.9 against
    /// the forest's 12.4), the forest elsewhere (AI4I F1 0.926 against boosting's 0.91).
    pub fn for_profile(profile: DatasetProfile) -> Algorithm {
        match profile {
            DatasetProfile::RunToFailure => Algorithm::GradientBoosting,
            DatasetProfile::Ai4i2020 | DatasetProfile::Generic => Algorithm::RandomForest,
        }
    }

    /// `auto` (`Some(None)`: the profile's best) or an algorithm's name.
    pub fn parse_choice(text: &str) -> Option<Option<Algorithm>> {
        if text == "auto" {
            Some(None)
        } else {
            Algorithm::parse(text).map(Some)
        }
    }

    pub fn parse(text: &str) -> Option<Algorithm> {
        match text {
            "random_forest" | "random-forest" | "rf" | "forest" => Some(Algorithm::RandomForest),
            "linear" | "logistic" | "logistic_regression" | "ridge" => Some(Algorithm::Linear),
            "gradient_boosting" | "gradient-boosting" | "boosting" | "gbm" | "gbdt" => {
                Some(Algorithm::GradientBoosting)
            }
            _ => None,
        }
    }
}

/// The few hyperparameters that matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Trees in a forest; boosting rounds.
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
    /// Boosting: how much of each tree's correction is kept (0 < x ≤ 1).
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Boosting: share of the rows each tree learns from (0 < x ≤ 1).
    #[serde(default = "one")]
    pub subsample: f64,
    /// Boosting: the least curvature (rows, for remaining life) a leaf may hold.
    #[serde(default = "one")]
    pub min_child_weight: f64,
}

fn default_learning_rate() -> f64 {
    0.1
}

fn one() -> f64 {
    1.0
}

impl Hyperparameters {
    /// Defaults chosen on the reference data sets' validation folds.
    pub fn defaults(algorithm: Algorithm, classification: bool) -> Hyperparameters {
        let forest = Hyperparameters {
            trees: 100,
            // smartcore splits even pure nodes; a depth cap keeps failure forests small and
            // fast (no loss of F1 on AI4I at 12) while remaining-life trees stop at their leaf size.
            max_depth: if classification { Some(12) } else { None },
            min_samples_leaf: if classification { 1 } else { 5 },
            features_per_split: if classification { 1.0 } else { 0.33 },
            balanced: false,
            alpha: 1.0,
            seed: 42,
            learning_rate: default_learning_rate(),
            subsample: 1.0,
            min_child_weight: 1.0,
        };
        match algorithm {
            Algorithm::RandomForest | Algorithm::Linear => forest,
            // Chosen by cross-validation on the reference data (README, "Failure models"):
            // on AI4I, leaves small enough to isolate the rows at a failure boundary; on
            // C-MAPSS, shallow trees on a third of the features, each leaf at least 20 rows.
            Algorithm::GradientBoosting if classification => Hyperparameters {
                trees: 500,
                max_depth: Some(6),
                min_child_weight: 0.01,
                ..forest
            },
            Algorithm::GradientBoosting => Hyperparameters {
                trees: 500,
                max_depth: Some(4),
                learning_rate: 0.05,
                features_per_split: 0.3,
                subsample: 0.8,
                min_child_weight: 20.0,
                ..forest
            },
        }
    }

    pub fn check(&self) -> Result<(), String> {
        if self.trees == 0 || self.trees > MAX_TREES {
            return Err(format!(
                "trees must be between 1 and {MAX_TREES}, not {}",
                self.trees
            ));
        }
        if let Some(depth) = self.max_depth {
            if depth == 0 || usize::from(depth) > MAX_TREE_DEPTH {
                return Err(format!(
                    "max_depth must be between 1 and {MAX_TREE_DEPTH}, not {depth}"
                ));
            }
        }
        if !(self.features_per_split > 0.0 && self.features_per_split <= 1.0) {
            return Err(format!(
                "features_per_split must be in (0, 1], not {}",
                self.features_per_split
            ));
        }
        for (name, value) in [
            ("learning_rate", self.learning_rate),
            ("subsample", self.subsample),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(format!("{name} must be in (0, 1], not {value}"));
            }
        }
        if !(self.min_child_weight.is_finite() && self.min_child_weight >= 0.0) {
            return Err(format!(
                "min_child_weight must be a non-negative number, not {}",
                self.min_child_weight
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

/// Marks a leaf in [`FlatNode::feature`].
const LEAF: u32 = u32::MAX;
/// Most trees in a forest, as training allows them.
const MAX_TREES: usize = 5000;
/// Deepest tree: copying smartcore's trees recurses through their depth.
pub const MAX_TREE_DEPTH: usize = 1000;
/// Most nodes in one tree (16 bytes each).
const MAX_TREE_NODES: usize = 1 << 24;

/// One node in 16 bytes: a leaf when `feature` is [`LEAF`], its prediction in `value`; else
/// rows with `row[feature] <= value` go to the next node (the "true" child, stored right after
/// its parent) and the others, NaN included, to `right`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct FlatNode {
    value: f64,
    feature: u32,
    right: u32,
}

/// A fitted tree as a flat array in depth-first order; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlatTree {
    nodes: Vec<FlatNode>,
}

impl FlatTree {
    #[inline]
    fn predict(&self, row: &[f64]) -> f64 {
        let mut index = 0;
        loop {
            let node = &self.nodes[index];
            if node.feature == LEAF {
                return node.value;
            }
            index = if row[node.feature as usize] <= node.value {
                index + 1
            } else {
                node.right as usize
            };
        }
    }

    /// Checks a tree read from a file before it predicts: every split names one of `width`
    /// features and sends rows only forward (so prediction always ends at a leaf), leaves hold
    /// finite values, and size and depth are within what training makes.
    fn check(&self, width: usize) -> Result<(), String> {
        let count = self.nodes.len();
        if count == 0 || count > MAX_TREE_NODES {
            return Err(format!("a tree has {count} nodes (1 to {MAX_TREE_NODES})"));
        }
        // Children come after their parent, so one pass in order sees each parent first.
        let mut depth = vec![0usize; count];
        for (index, node) in self.nodes.iter().enumerate() {
            if node.feature == LEAF {
                if !node.value.is_finite() {
                    return Err(format!("leaf {index} predicts {}", node.value));
                }
                continue;
            }
            let right = node.right as usize;
            if node.feature as usize >= width {
                return Err(format!(
                    "node {index} splits on feature {} of {width}",
                    node.feature
                ));
            }
            if index + 1 >= count || right <= index + 1 || right >= count {
                return Err(format!("node {index} points outside its tree"));
            }
            let below = depth[index] + 1;
            if below > MAX_TREE_DEPTH {
                return Err(format!("a tree is deeper than {MAX_TREE_DEPTH}"));
            }
            depth[index + 1] = below;
            depth[right] = below;
        }
        Ok(())
    }

    /// Copies smartcore's trees out of its serde form (its nodes are private) one tree at a
    /// time, merging subtrees whose leaves all give the same value.
    fn from_smartcore(forest: &SmartForest) -> Result<Vec<FlatTree>, FitError> {
        let mut trees = Vec::new();
        smartcore_trees::for_each_tree(forest, &mut |nodes| {
            trees.push(FlatTree::from_smartcore_nodes(nodes)?);
            Ok(())
        })?;
        if trees.is_empty() {
            return Err(layout("no trees"));
        }
        Ok(trees)
    }

    fn from_smartcore_nodes(nodes: &[SmartNode]) -> Result<FlatTree, FitError> {
        let mut flat = FlatTree {
            nodes: Vec::with_capacity(nodes.len()),
        };
        flat.copy(nodes, 0, 0)?;
        // Merged splits leave spare room, and the forest keeps its trees for good.
        flat.nodes.shrink_to_fit();
        Ok(flat)
    }

    /// Appends node `index` of `source`, `depth` below the root, and its subtree; answers
    /// its position.
    fn copy(&mut self, source: &[SmartNode], index: usize, depth: usize) -> Result<u32, FitError> {
        if depth > MAX_TREE_DEPTH {
            return Err(FitError(format!(
                "a tree grew deeper than {MAX_TREE_DEPTH}: set max_depth"
            )));
        }
        let node = source.get(index).ok_or_else(|| layout("child index"))?;
        let output = node.output.ok_or_else(|| layout("output"))?;
        let position = self.nodes.len();
        let at = u32::try_from(position).map_err(|_| layout("too many nodes"))?;
        self.nodes.push(FlatNode {
            value: output,
            feature: LEAF,
            right: 0,
        });
        let (Some(left), Some(right)) = (node.true_child, node.false_child) else {
            return Ok(at);
        };
        let feature = node.split_feature.ok_or_else(|| layout("split_feature"))?;
        let threshold = node.split_value.unwrap_or(f64::NAN);
        let left = self.copy(source, left as usize, depth + 1)? as usize;
        debug_assert_eq!(left, position + 1, "the true child follows its parent");
        let right = self.copy(source, right as usize, depth + 1)?;
        let (l, r) = (self.nodes[left], self.nodes[right as usize]);
        if l.feature == LEAF && r.feature == LEAF && l.value == r.value {
            // Both sides agree: the split changes nothing, keep a leaf.
            self.nodes.truncate(position + 1);
            self.nodes[position].value = l.value;
        } else {
            self.nodes[position] = FlatNode {
                value: threshold,
                feature: u32::try_from(feature).map_err(|_| layout("feature index"))?,
                right,
            };
        }
        Ok(at)
    }
}

fn layout(what: &str) -> FitError {
    FitError(format!("unexpected smartcore forest layout: {what}"))
}

/// One core's share of a forest: its trees and their feature importances.
type GrownPart = (Vec<FlatTree>, Vec<f64>);

/// A random forest as flat trees.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<FlatTree>,
    importances: Vec<f64>,
}

impl Forest {
    fn fit(
        parameters: &Hyperparameters,
        x: Matrix,
        y: &[f64],
        classification: bool,
    ) -> Result<Forest, FitError> {
        let cols = x.cols;
        let dense = x.into_dense();
        let features =
            ((cols as f64 * parameters.features_per_split).round() as usize).clamp(1, cols);
        let weights = (classification && parameters.balanced).then(|| balanced_weights(y));
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(parameters.trees);
        let y = y.to_vec();
        // Each core grows its share of the trees; the parts are one forest afterwards.
        let parts: Result<Vec<GrownPart>, FitError> = std::thread::scope(|scope| {
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
                        }
                        .map_err(|e| FitError(e.to_string()))?;
                        let importances = fitted
                            .compute_feature_importances()
                            .map_err(|e| FitError(e.to_string()))?;
                        Ok((FlatTree::from_smartcore(&fitted)?, importances))
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
        let mut trees = Vec::with_capacity(parameters.trees);
        let mut importances = vec![0.0; cols];
        for (part_trees, part_importances) in parts? {
            let share = part_trees.len() as f64 / parameters.trees as f64;
            for (total, value) in importances.iter_mut().zip(part_importances) {
                *total += share * if value.is_finite() { value } else { 0.0 };
            }
            trees.extend(part_trees);
        }
        Ok(Forest { trees, importances })
    }

    fn predict(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows).map(|r| self.predict_row(x.row(r))).collect()
    }

    fn predict_row(&self, row: &[f64]) -> f64 {
        self.trees.iter().map(|t| t.predict(row)).sum::<f64>() / self.trees.len() as f64
    }
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
    Boosted(Boosted),
}

#[derive(Debug, thiserror::Error)]
#[error("training failed: {0}")]
pub struct FitError(pub String);

impl Estimator {
    /// Fits on `x` and `y` (0/1 for classification). It takes `x` so that smartcore gets its
    /// values without another copy of the training rows.
    pub fn fit(
        algorithm: Algorithm,
        parameters: &Hyperparameters,
        x: Matrix,
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
            Algorithm::GradientBoosting => {
                Boosted::fit(parameters, x, y, classification).map(Estimator::Boosted)
            }
        }
    }

    /// Checks an estimator read from a file against the `width` of its feature rows, so that
    /// predicting can neither index out of bounds nor loop.
    pub fn check(&self, width: usize) -> Result<(), String> {
        match self {
            Estimator::Forest(forest) => {
                let count = forest.trees.len();
                if count == 0 || count > MAX_TREES {
                    return Err(format!("a forest has {count} trees (1 to {MAX_TREES})"));
                }
                if forest.importances.len() != width {
                    return Err(format!(
                        "{} feature importances for {width} features",
                        forest.importances.len()
                    ));
                }
                forest.trees.iter().try_for_each(|tree| tree.check(width))
            }
            Estimator::Boosted(boosted) => {
                let count = boosted.trees.len();
                if count == 0 || count > MAX_TREES {
                    return Err(format!(
                        "a boosted model has {count} trees (1 to {MAX_TREES})"
                    ));
                }
                if boosted.importances.len() != width {
                    return Err(format!(
                        "{} feature importances for {width} features",
                        boosted.importances.len()
                    ));
                }
                if !boosted.base.is_finite() {
                    return Err("a boosted model's base value is not finite".into());
                }
                boosted.trees.iter().try_for_each(|tree| tree.check(width))
            }
            Estimator::Linear(linear) => {
                let lengths = [
                    linear.means.len(),
                    linear.scales.len(),
                    linear.weights.len(),
                ];
                if lengths.iter().any(|length| *length != width) {
                    return Err(format!(
                        "a linear model of {lengths:?} coefficients for {width} features"
                    ));
                }
                let finite = linear
                    .means
                    .iter()
                    .chain(&linear.scales)
                    .chain(&linear.weights)
                    .chain(std::iter::once(&linear.intercept))
                    .all(|value| value.is_finite());
                if !finite {
                    return Err("a linear model has a coefficient that is not finite".into());
                }
                Ok(())
            }
        }
    }

    /// The failure probability or the remaining life of one row of features.
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        match self {
            Estimator::Forest(forest) => forest.predict_row(row),
            Estimator::Linear(linear) => linear.predict_row(row),
            Estimator::Boosted(boosted) => boosted.predict_row(row),
        }
    }

    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        match self {
            Estimator::Forest(forest) => forest.predict(x),
            Estimator::Linear(linear) => {
                (0..x.rows).map(|r| linear.predict_row(x.row(r))).collect()
            }
            Estimator::Boosted(boosted) => {
                (0..x.rows).map(|r| boosted.predict_row(x.row(r))).collect()
            }
        }
    }

    /// How much each feature contributes overall, summing to 1: impurity decrease for a
    /// forest, loss reduction for boosting, standardised coefficient size for a linear model.
    pub fn importances(&self) -> Vec<f64> {
        match self {
            Estimator::Forest(forest) => forest.importances.clone(),
            Estimator::Boosted(boosted) => boosted.importances.clone(),
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
        x: Matrix,
        y: &[f64],
        classification: bool,
    ) -> Result<Linear, FitError> {
        let (means, scales) = standardisation(&x);
        let mut scaled = x;
        for row in scaled.values.chunks_mut(scaled.cols) {
            for ((value, mean), scale) in row.iter_mut().zip(&means).zip(&scales) {
                *value = (*value - mean) / scale;
            }
        }
        let dense = scaled.into_dense();
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
                ..Hyperparameters::defaults(Algorithm::RandomForest, true)
            };
            let forest =
                Estimator::fit(Algorithm::RandomForest, &parameters, x.clone(), &y, true).unwrap();
            assert!(forest.predict_row(&[10.0, 5.0]) < 0.1);
            assert!(forest.predict_row(&[190.0, 5.0]) > 0.9);
            let importances = forest.importances();
            assert!(importances[0] > 0.8, "{importances:?}");
            let all = forest.predict(&x);
            assert_eq!(all[0], forest.predict_row(x.row(0)));
        }
    }

    /// Each tree's nodes as the conversion read them before it walked the forest: from a
    /// `serde_json::Value` of the whole forest.
    fn nodes_through_json(forest: &SmartForest) -> Vec<Vec<SmartNode>> {
        let value = serde_json::to_value(forest).unwrap();
        let trees = value["forest_regressor"]["trees"].as_array().unwrap();
        trees
            .iter()
            .map(|tree| {
                let nodes = tree["nodes"].as_array().unwrap();
                nodes
                    .iter()
                    .map(|node| SmartNode {
                        output: node["output"].as_f64(),
                        split_feature: node["split_feature"].as_u64(),
                        split_value: node["split_value"].as_f64(),
                        true_child: node["true_child"].as_u64(),
                        false_child: node["false_child"].as_u64(),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn flat_trees_are_the_trees_serde_json_saw_and_predict_exactly_what_smartcore_predicts() {
        let (x, step) = step_data();
        let staircase: Vec<f64> = (0..x.rows)
            .map(|r| (x.row(r)[0] / 20.0).floor() + (x.row(r)[1] / 50.0).floor() * 0.5)
            .collect();
        let dense = x.clone().into_dense();
        // A deep regression forest, and a failure forest as training grows it (depth cap,
        // balanced weights).
        let regression = SmartForest::fit(
            &dense,
            &staircase,
            RandomForestRegressorParameters {
                n_trees: 10,
                m: Some(1),
                seed: 3,
                ..smart_defaults()
            },
        )
        .unwrap();
        let failures = SmartForest::fit_with_weights(
            &dense,
            &step,
            &balanced_weights(&step),
            RandomForestRegressorParameters {
                max_depth: Some(12),
                n_trees: 10,
                ..smart_defaults()
            },
        )
        .unwrap();
        for smart in [regression, failures] {
            let mut walked = Vec::new();
            smartcore_trees::for_each_tree(&smart, &mut |nodes| {
                walked.push(nodes.to_vec());
                Ok(())
            })
            .unwrap();
            let through_json = nodes_through_json(&smart);
            assert_eq!(walked, through_json);
            let flat = FlatTree::from_smartcore(&smart).unwrap();
            let before: Vec<FlatTree> = through_json
                .iter()
                .map(|nodes| FlatTree::from_smartcore_nodes(nodes).unwrap())
                .collect();
            assert_eq!(flat, before);
            assert_eq!(flat.len(), 10);
            assert!(flat.iter().any(|tree| tree.nodes.len() > 1));
            let forest = Forest {
                trees: flat,
                importances: Vec::new(),
            };
            assert_eq!(forest.predict(&x), smart.predict(&dense).unwrap());
        }
    }

    #[test]
    fn equal_leaves_merge_so_a_pure_target_needs_no_split() {
        let (x, _) = step_data();
        let constant = vec![1.0; x.rows];
        let smart = SmartForest::fit(
            &x.clone().into_dense(),
            &constant,
            RandomForestRegressorParameters {
                n_trees: 2,
                ..smart_defaults()
            },
        )
        .unwrap();
        for tree in FlatTree::from_smartcore(&smart).unwrap() {
            assert_eq!(tree.nodes.len(), 1);
        }
    }

    fn smart_defaults() -> RandomForestRegressorParameters {
        RandomForestRegressorParameters {
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            n_trees: 1,
            m: None,
            keep_samples: false,
            seed: 1,
        }
    }

    #[test]
    fn logistic_and_ridge_fit_the_direction_of_the_signal() {
        let (x, y) = step_data();
        let parameters = Hyperparameters::defaults(Algorithm::RandomForest, true);
        let logistic = Estimator::fit(Algorithm::Linear, &parameters, x.clone(), &y, true).unwrap();
        assert!(logistic.predict_row(&[199.0, 100.0]) > logistic.predict_row(&[0.0, 100.0]));
        let line: Vec<f64> = (0..200).map(|i| 3.0 * i as f64 + 7.0).collect();
        let ridge = Estimator::fit(
            Algorithm::Linear,
            &Hyperparameters {
                alpha: 0.0,
                ..Hyperparameters::defaults(Algorithm::RandomForest, false)
            },
            x,
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
            ..Hyperparameters::defaults(Algorithm::RandomForest, true)
        };
        let error =
            Estimator::fit(Algorithm::RandomForest, &parameters, x.clone(), &y, true).unwrap_err();
        assert!(error.to_string().contains("features_per_split"), "{error}");
        for depth in [0, 10_000] {
            let parameters = Hyperparameters {
                max_depth: Some(depth),
                ..Hyperparameters::defaults(Algorithm::RandomForest, true)
            };
            let error = Estimator::fit(Algorithm::RandomForest, &parameters, x.clone(), &y, true)
                .unwrap_err();
            assert!(error.to_string().contains("max_depth"), "{error}");
        }
    }

    fn split(feature: u32, value: f64, right: u32) -> FlatNode {
        FlatNode {
            value,
            feature,
            right,
        }
    }

    fn leaf(value: f64) -> FlatNode {
        FlatNode {
            value,
            feature: LEAF,
            right: 0,
        }
    }

    #[test]
    fn fitted_estimators_pass_the_checks_a_model_file_gets() {
        let (x, y) = step_data();
        for algorithm in [Algorithm::RandomForest, Algorithm::Linear] {
            let parameters = Hyperparameters {
                trees: 10,
                ..Hyperparameters::defaults(Algorithm::RandomForest, true)
            };
            let fitted = Estimator::fit(algorithm, &parameters, x.clone(), &y, true).unwrap();
            assert_eq!(fitted.check(2), Ok(()));
            assert!(
                fitted.check(1).is_err(),
                "{algorithm:?} checked against too few features"
            );
        }
    }

    #[test]
    fn trees_that_could_loop_index_out_of_bounds_or_mislead_are_refused() {
        let tree = |nodes: Vec<FlatNode>| FlatTree { nodes };
        let good = tree(vec![split(0, 1.0, 2), leaf(0.0), leaf(1.0)]);
        assert_eq!(good.check(1), Ok(()));
        for (bad, problem) in [
            (tree(vec![]), "0 nodes"),
            // The right child points back at the root: prediction would never end.
            (tree(vec![split(0, 1.0, 0), leaf(0.0)]), "outside"),
            (
                tree(vec![split(0, 1.0, 9), leaf(0.0), leaf(1.0)]),
                "outside",
            ),
            (tree(vec![split(0, 1.0, 1), leaf(0.0)]), "outside"),
            (
                tree(vec![split(3, 1.0, 2), leaf(0.0), leaf(1.0)]),
                "feature 3 of 1",
            ),
            (
                tree(vec![split(0, 1.0, 2), leaf(f64::NAN), leaf(1.0)]),
                "predicts NaN",
            ),
        ] {
            let error = bad.check(1).unwrap_err();
            assert!(error.contains(problem), "{error}");
        }
        // A chain of splits, each with a leaf on its right, deeper than training makes.
        let depth = MAX_TREE_DEPTH + 1;
        let mut nodes = Vec::new();
        for level in 0..depth {
            let at = nodes.len() as u32;
            nodes.push(split(0, level as f64, at + 2));
            nodes.push(leaf(0.0));
        }
        nodes.insert(nodes.len() - 1, leaf(1.0));
        let chain = tree(nodes);
        let error = chain.check(1).unwrap_err();
        assert!(error.contains("deeper than"), "{error}");
    }
}
