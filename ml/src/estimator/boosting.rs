//! Gradient boosting through hessboost (Newton boosting, XGBoost's algorithm, exact split
//! search). Its trees are copied into [`FlatTree`]s when training ends, so a boosted model
//! predicts with the same code and speed as a forest and a model file holds no hessboost types.

use hessboost::prelude::{
    BoostedModel, DMatrix, ImportanceType, Objective, RegLoss, TrainingParams, TreeMethod,
};
use hessboost::tree::RegTree;
use serde::{Deserialize, Serialize};

use super::{balanced_weights, FitError, FlatNode, FlatTree, Hyperparameters, Matrix, LEAF};

/// A boosted ensemble: `base` plus the sum of its trees, through the logistic function for
/// failure probabilities.
#[derive(Debug, Serialize, Deserialize)]
pub struct Boosted {
    pub(super) trees: Vec<FlatTree>,
    pub(super) base: f64,
    pub(super) logistic: bool,
    pub(super) importances: Vec<f64>,
}

impl Boosted {
    pub(super) fn fit(
        parameters: &Hyperparameters,
        x: Matrix,
        y: &[f64],
        classification: bool,
    ) -> Result<Boosted, FitError> {
        let cols = x.cols;
        let (data, settings) = hessboost_inputs(parameters, x, y, classification)?;
        let model =
            hessboost::prelude::train(&settings, &data, parameters.trees).map_err(failed)?;
        Boosted::from_hessboost(&model, cols, classification)
    }

    fn from_hessboost(
        model: &BoostedModel,
        cols: usize,
        logistic: bool,
    ) -> Result<Boosted, FitError> {
        let trees = model
            .trees()
            .iter()
            .map(flat_tree)
            .collect::<Result<Vec<_>, _>>()?;
        let mut importances = vec![0.0; cols];
        for (feature, gain) in model.feature_importance(ImportanceType::TotalGain) {
            if let Some(slot) = importances.get_mut(feature) {
                *slot = gain;
            }
        }
        let total: f64 = importances.iter().sum();
        if total > 0.0 {
            importances.iter_mut().for_each(|v| *v /= total);
        }
        Ok(Boosted {
            trees,
            base: f64::from(model.base_score()),
            logistic,
            importances,
        })
    }

    pub(super) fn predict_row(&self, row: &[f64]) -> f64 {
        let margin = self.base + self.trees.iter().map(|t| t.predict(row)).sum::<f64>();
        if self.logistic {
            1.0 / (1.0 + (-margin).exp())
        } else {
            margin
        }
    }
}

fn failed(error: hessboost::prelude::HessboostError) -> FitError {
    FitError(error.to_string())
}

/// What hessboost learns from: the rows with their targets (and weights, for balanced
/// failure models), and its settings from ours.
fn hessboost_inputs(
    parameters: &Hyperparameters,
    x: Matrix,
    y: &[f64],
    classification: bool,
) -> Result<(DMatrix, TrainingParams), FitError> {
    // hessboost learns in f32; the features' values keep their meaning at that precision.
    let values: Vec<f32> = x.values.iter().map(|v| *v as f32).collect();
    let labels: Vec<f32> = y.iter().map(|v| *v as f32).collect();
    let mut data = DMatrix::from_dense_vec(values, x.rows, x.cols)
        .map_err(failed)?
        .with_labels(&labels)
        .map_err(failed)?;
    if classification && parameters.balanced {
        let weights: Vec<f32> = balanced_weights(y)
            .iter()
            .map(|w| (*w * y.len() as f64) as f32)
            .collect();
        data = data.with_weights(&weights).map_err(failed)?;
    }
    let objective = if classification {
        Objective::BinaryLogistic(RegLoss::default())
    } else {
        Objective::SquaredError(RegLoss::default())
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let builder = TrainingParams::builder()
        .objective(objective)
        .tree_method(TreeMethod::Exact)
        .eta(parameters.learning_rate)
        .subsample(parameters.subsample)
        .colsample_bynode(parameters.features_per_split)
        .min_child_weight(parameters.min_child_weight)
        .seed(parameters.seed)
        .nthread(threads);
    let builder = match parameters.max_depth {
        Some(depth) => builder.max_depth(usize::from(depth)),
        None => builder.unlimited_depth(),
    };
    Ok((data, builder.build().map_err(failed)?))
}

/// Copies a hessboost tree, depth first. hessboost sends a row left when `value < split`;
/// a flat tree sends it to the next node when `value <= threshold`, so the threshold is the
/// largest number below the split. A missing value goes right, as in a forest (training
/// rows have none, so hessboost never learned a direction for them).
fn flat_tree(tree: &RegTree) -> Result<FlatTree, FitError> {
    let nodes = tree.nodes();
    let mut flat = FlatTree {
        nodes: Vec::with_capacity(nodes.len()),
    };
    // (hessboost node, depth, parent in the flat tree whose `right` it is).
    let mut pending = vec![(0usize, 0usize, None::<usize>)];
    while let Some((index, depth, right_of)) = pending.pop() {
        if depth > super::MAX_TREE_DEPTH {
            return Err(FitError(format!(
                "a boosted tree grew deeper than {}",
                super::MAX_TREE_DEPTH
            )));
        }
        let node = nodes
            .get(index)
            .ok_or_else(|| FitError("a boosted tree points outside itself".into()))?;
        let position = u32::try_from(flat.nodes.len())
            .map_err(|_| FitError("a boosted tree has too many nodes".into()))?;
        if let Some(parent) = right_of {
            flat.nodes[parent].right = position;
        }
        if node.is_leaf() {
            flat.nodes.push(FlatNode {
                value: f64::from(node.leaf_value),
                feature: LEAF,
                right: 0,
            });
            continue;
        }
        if node.is_categorical {
            return Err(FitError("a boosted tree split a category".into()));
        }
        flat.nodes.push(FlatNode {
            value: f64::from(node.split_cond).next_down(),
            feature: node.split_feature,
            right: 0,
        });
        let child =
            |i: i32| usize::try_from(i).map_err(|_| FitError("a boosted tree's child".into()));
        // The left subtree is copied first so that it follows its parent.
        pending.push((child(node.right)?, depth + 1, Some(position as usize)));
        pending.push((child(node.left)?, depth + 1, None));
    }
    Ok(flat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hessboost::prelude::Iterations;

    #[test]
    fn flat_trees_predict_what_hessboost_predicts() {
        // A staircase in two features and noise in a third: several levels of splits.
        let mut x = Matrix::with_cols(3);
        let mut y = Vec::new();
        let mut failures = Vec::new();
        for i in 0..400 {
            let (a, b, c) = (
                i as f64 * 0.25,
                ((i * 37) % 101) as f64,
                ((i * 13) % 7) as f64,
            );
            x.push(&[a, b, c]);
            y.push((a / 10.0).floor() + (b / 25.0).floor() * 0.5);
            failures.push(f64::from(u8::from(a > 60.0 && b < 50.0)));
        }
        for (target, classification) in [(&y, false), (&failures, true)] {
            let parameters = Hyperparameters {
                trees: 30,
                max_depth: Some(4),
                ..Hyperparameters::defaults(
                    super::super::Algorithm::GradientBoosting,
                    classification,
                )
            };
            let values: Vec<f32> = x.values.iter().map(|v| *v as f32).collect();
            let boosted = Boosted::fit(&parameters, x.clone(), target, classification).unwrap();
            assert!(boosted.trees.iter().any(|t| t.nodes.len() > 3));
            assert_eq!(boosted.trees.len(), 30);
            // The same model again, to ask hessboost itself.
            let (data, settings) =
                hessboost_inputs(&parameters, x.clone(), target, classification).unwrap();
            let model = hessboost::prelude::train(&settings, &data, 30).unwrap();
            for r in 0..x.rows {
                let margin = f64::from(
                    model
                        .predict_margin_row(&values[r * 3..r * 3 + 3], Iterations::Best)
                        .unwrap(),
                );
                let expected = if classification {
                    1.0 / (1.0 + (-margin).exp())
                } else {
                    margin
                };
                let got = boosted.predict_row(x.row(r));
                assert!(
                    (got - expected).abs() < 1e-5,
                    "row {r}: {got} against hessboost's {expected}"
                );
            }
            let total: f64 = boosted.importances.iter().sum();
            assert!((total - 1.0).abs() < 1e-9);
            assert!(boosted.importances[2] < boosted.importances[0]);
        }
    }
}
