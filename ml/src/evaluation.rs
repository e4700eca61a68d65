//! Cross-validation: folds (stratified, or grouped by unit for series), out-of-fold
//! predictions, the decision threshold, remaining-life scoring at random cut points as on the
//! C-MAPSS test set, split-conformal intervals and per-mode results.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::calibration::CalibrationReport;
use super::metrics::{
    best_f1_threshold, conformal_half_width, ClassificationMetrics, Confusion, RegressionMetrics,
};

/// Cut points scored per held-out unit.
pub const CUTS_PER_UNIT: usize = 10;
/// A cut leaves at least this much history visible (the shortest in the C-MAPSS test set).
pub const MIN_VISIBLE_ROWS: usize = 31;
/// The remaining-life interval covers the truth this often.
pub const INTERVAL_COVERAGE: f64 = 0.9;

/// How well a failure mode is caught.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeMetrics {
    pub mode: String,
    /// Rows labelled with this mode.
    pub rows: usize,
    /// Share of them the failure model flagged.
    pub recall: f64,
    /// Share of them whose mode the mode model named correctly.
    pub mode_accuracy: f64,
}

/// What cross-validation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// How the rows were split, in words.
    pub scheme: String,
    pub folds: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<ClassificationMetrics>,
    /// Remaining life scored at the cut points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionMetrics>,
    /// F1 or RMSE of each fold.
    pub per_fold: Vec<f64>,
    /// How well the failure probabilities match outcomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
    #[serde(default)]
    pub per_mode: Vec<ModeMetrics>,
    /// ROC curve points (false-positive rate, true-positive rate), thinned.
    #[serde(default)]
    pub roc_curve: Vec<[f64; 2]>,
    /// Precision-recall curve points (recall, precision), thinned.
    #[serde(default)]
    pub pr_curve: Vec<[f64; 2]>,
    /// (true, predicted) remaining life at cut points, thinned.
    #[serde(default)]
    pub residuals: Vec<[f64; 2]>,
    pub training_seconds: f64,
}

/// Fold of each row: failures and healthy rows dealt out separately so every fold has its share.
pub fn stratified_folds(labels: &[f64], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut assignment = vec![0; labels.len()];
    for positive in [true, false] {
        let mut rows: Vec<usize> = (0..labels.len())
            .filter(|&i| (labels[i] >= 0.5) == positive)
            .collect();
        rows.shuffle(&mut rng);
        for (k, row) in rows.into_iter().enumerate() {
            assignment[row] = k % folds;
        }
    }
    assignment
}

/// Fold of each row: whole units in one fold, never rows of one unit on both sides.
pub fn grouped_folds(units: &[usize], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let count = units.iter().max().map_or(0, |m| m + 1);
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut rng);
    let mut fold_of_unit = vec![0; count];
    for (k, unit) in order.into_iter().enumerate() {
        fold_of_unit[unit] = k % folds;
    }
    units.iter().map(|u| fold_of_unit[*u]).collect()
}

/// Fold of each row, shuffled.
pub fn shuffled_folds(rows: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut rng);
    let mut assignment = vec![0; rows];
    for (k, row) in order.into_iter().enumerate() {
        assignment[row] = k % folds;
    }
    assignment
}

/// Out-of-fold classification results: each fold's decisions use a threshold chosen on the
/// other folds' predictions, so no fold is judged by a threshold tuned on itself.
pub fn classification_metrics(
    labels: &[f64],
    oof: &[f64],
    fold: &[usize],
    folds: usize,
) -> (ClassificationMetrics, Vec<f64>, f64) {
    let mut decisions = vec![0.0; labels.len()];
    let mut per_fold = Vec::with_capacity(folds);
    for f in 0..folds {
        let (other_labels, other_probabilities): (Vec<f64>, Vec<f64>) = (0..labels.len())
            .filter(|&i| fold[i] != f)
            .map(|i| (labels[i], oof[i]))
            .unzip();
        let threshold = best_f1_threshold(&other_labels, &other_probabilities);
        let (mut fold_labels, mut fold_decisions) = (Vec::new(), Vec::new());
        for i in (0..labels.len()).filter(|&i| fold[i] == f) {
            decisions[i] = f64::from(u8::from(oof[i] >= threshold));
            fold_labels.push(labels[i]);
            fold_decisions.push(decisions[i]);
        }
        per_fold.push(Confusion::at(&fold_labels, &fold_decisions, 0.5).f1());
    }
    let threshold = best_f1_threshold(labels, oof);
    let ranking = ClassificationMetrics::compute(labels, oof, threshold);
    let confusion = Confusion::at(labels, &decisions, 0.5);
    let metrics = ClassificationMetrics {
        threshold,
        f1: confusion.f1(),
        precision: confusion.precision(),
        recall: confusion.recall(),
        confusion,
        ..ranking
    };
    (metrics, per_fold, threshold)
}

/// Rows to score per held-out unit: each unit cut at random points, as if its history ended
/// there, and scored at its last visible row (like the C-MAPSS test set).
pub fn cut_rows(units: &[usize], positions: &[(usize, usize)], seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::new();
    let mut start = 0;
    while start < units.len() {
        let length = positions[start].1;
        let lowest = MIN_VISIBLE_ROWS.min(length);
        for _ in 0..CUTS_PER_UNIT {
            let visible = rng.random_range(lowest..=length);
            rows.push(start + visible - 1);
        }
        start += length;
    }
    rows
}

/// Remaining-life results at the cut rows; each fold's interval comes from the other folds'
/// residuals (cross-conformal), so its coverage is honest. Returns the metrics, the per-fold
/// RMSE and the interval half-width from all residuals.
pub fn regression_metrics(
    truth: &[f64],
    oof: &[f64],
    fold: &[usize],
    folds: usize,
    rows: &[usize],
) -> (RegressionMetrics, Vec<f64>, f64) {
    let alpha = 1.0 - INTERVAL_COVERAGE;
    let residual = |i: usize| oof[i] - truth[i];
    let mut covered = 0usize;
    let mut per_fold = Vec::with_capacity(folds);
    for f in 0..folds {
        let others: Vec<f64> = rows
            .iter()
            .filter(|&&i| fold[i] != f)
            .map(|&i| residual(i))
            .collect();
        let half = conformal_half_width(&others, alpha);
        let mine: Vec<usize> = rows.iter().copied().filter(|&i| fold[i] == f).collect();
        covered += mine.iter().filter(|&&i| residual(i).abs() <= half).count();
        let mse = mine.iter().map(|&i| residual(i).powi(2)).sum::<f64>() / mine.len().max(1) as f64;
        per_fold.push(mse.sqrt());
    }
    let all: Vec<f64> = rows.iter().map(|&i| residual(i)).collect();
    let half = conformal_half_width(&all, alpha);
    let (t, p): (Vec<f64>, Vec<f64>) = rows.iter().map(|&i| (truth[i], oof[i])).unzip();
    let mut metrics = RegressionMetrics::compute(&t, &p, Some(half));
    metrics.interval_coverage = Some(covered as f64 / rows.len().max(1) as f64);
    (metrics, per_fold, half)
}

/// ROC and precision-recall curves, thinned to at most `points` each.
pub fn curves(labels: &[f64], scores: &[f64], points: usize) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let positives = labels.iter().filter(|l| **l >= 0.5).count().max(1) as f64;
    let negatives = (labels.len() as f64 - positives).max(1.0);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut roc = vec![[0.0, 0.0]];
    let mut pr = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if labels[i] >= 0.5 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        if order.get(k + 1).map(|&j| scores[j]) == Some(scores[i]) {
            continue;
        }
        roc.push([fp / negatives, tp / positives]);
        pr.push([tp / positives, tp / (tp + fp)]);
    }
    (thin(roc, points), thin(pr, points))
}

/// Keeps about `points` evenly spaced entries, always the first and the last.
pub fn thin<T: Copy>(items: Vec<T>, points: usize) -> Vec<T> {
    if items.len() <= points || points < 2 {
        return items;
    }
    let step = (items.len() - 1) as f64 / (points - 1) as f64;
    (0..points)
        .map(|k| items[(k as f64 * step).round() as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_folds_share_out_the_failures_evenly() {
        let labels: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i % 10 == 0))).collect();
        let folds = stratified_folds(&labels, 5, 1);
        for f in 0..5 {
            let rows = folds.iter().filter(|&&x| x == f).count();
            let failures = (0..100)
                .filter(|&i| folds[i] == f && labels[i] == 1.0)
                .count();
            assert_eq!((rows, failures), (20, 2));
        }
    }

    #[test]
    fn grouped_folds_never_split_a_unit() {
        let units: Vec<usize> = (0..60).map(|i| i / 6).collect();
        let folds = grouped_folds(&units, 5, 3);
        for unit in 0..10 {
            let of_unit: Vec<usize> = (0..60)
                .filter(|&i| units[i] == unit)
                .map(|i| folds[i])
                .collect();
            assert!(of_unit.iter().all(|f| *f == of_unit[0]));
        }
        assert!((0..5).all(|f| folds.contains(&f)));
    }

    #[test]
    fn cuts_stay_inside_their_unit_and_leave_enough_history() {
        let lengths = [40usize, 200, 20];
        let mut units = Vec::new();
        let mut positions = Vec::new();
        for (unit, &length) in lengths.iter().enumerate() {
            for p in 1..=length {
                units.push(unit);
                positions.push((p, length));
            }
        }
        let rows = cut_rows(&units, &positions, 9);
        assert_eq!(rows.len(), 3 * CUTS_PER_UNIT);
        for (k, &row) in rows.iter().enumerate() {
            assert_eq!(units[row], k / CUTS_PER_UNIT);
            let (position, length) = positions[row];
            assert!(position >= MIN_VISIBLE_ROWS.min(length) && position <= length);
        }
    }

    #[test]
    fn thinning_keeps_the_ends() {
        let thinned = thin((0..1000).collect(), 11);
        assert_eq!(thinned.len(), 11);
        assert_eq!((thinned[0], thinned[10]), (0, 999));
    }
}
