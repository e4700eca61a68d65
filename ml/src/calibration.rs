//! Calibration: turns a failure model's score into a probability that means what it says
//! ("3 %" fails 3 times in 100), by isotonic regression of the outcome on the out-of-fold
//! score. A forest's vote share and a boosted margin are both monotone in risk but neither is
//! a frequency; the isotonic map keeps their order and fixes their scale.

use serde::{Deserialize, Serialize};

/// Reliability bins shown on the pages.
pub const RELIABILITY_BINS: usize = 10;

/// A non-decreasing map from score to probability: straight lines between knots `(score,
/// probability)` sorted by score, flat beyond the first and last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub knots: Vec<[f64; 2]>,
}

impl Calibration {
    /// Fits the isotonic regression of `labels` (0/1) on `scores` by pooling adjacent
    /// violators, then keeps each pooled block's lowest and highest score as knots.
    pub fn fit(scores: &[f64], labels: &[f64]) -> Calibration {
        let mut order: Vec<usize> = (0..scores.len())
            .filter(|&i| scores[i].is_finite())
            .collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        // Blocks of (sum of labels, rows, lowest score, highest score); equal scores start in
        // one block so that a tie never gets two probabilities.
        let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
        for &i in &order {
            let (score, label) = (scores[i], f64::from(u8::from(labels[i] >= 0.5)));
            match blocks.last_mut() {
                Some(last) if last.3 == score => {
                    last.0 += label;
                    last.1 += 1.0;
                }
                _ => blocks.push((label, 1.0, score, score)),
            }
            while blocks.len() >= 2 {
                let (b, a) = (blocks[blocks.len() - 1], blocks[blocks.len() - 2]);
                if a.0 / a.1 < b.0 / b.1 {
                    break;
                }
                blocks.pop();
                *blocks.last_mut().expect("two blocks") = (a.0 + b.0, a.1 + b.1, a.2, b.3);
            }
        }
        let mut knots = Vec::with_capacity(blocks.len() * 2);
        for (sum, rows, low, high) in blocks {
            let probability = sum / rows;
            knots.push([low, probability]);
            if high > low {
                knots.push([high, probability]);
            }
        }
        Calibration { knots }
    }

    /// The probability of a score.
    pub fn apply(&self, score: f64) -> f64 {
        let knots = &self.knots;
        let (Some(first), Some(last)) = (knots.first(), knots.last()) else {
            return score;
        };
        if score.is_nan() {
            return score;
        }
        if score <= first[0] {
            return first[1];
        }
        if score >= last[0] {
            return last[1];
        }
        // The first knot above the score; the one before it is at or below.
        let above = knots.partition_point(|k| k[0] <= score);
        let ([x0, y0], [x1, y1]) = (knots[above - 1], knots[above]);
        if x1 > x0 {
            y0 + (y1 - y0) * (score - x0) / (x1 - x0)
        } else {
            y1
        }
    }

    /// Checks a calibration read from a file: finite knots, scores in order, probabilities
    /// non-decreasing within 0 and 1.
    pub fn check(&self) -> Result<(), String> {
        let valid = self
            .knots
            .iter()
            .all(|[x, y]| x.is_finite() && y.is_finite() && (0.0..=1.0).contains(y))
            && self
                .knots
                .windows(2)
                .all(|pair| pair[0][0] <= pair[1][0] && pair[0][1] <= pair[1][1]);
        if valid {
            Ok(())
        } else {
            Err("the calibration is not a non-decreasing map onto 0–1".into())
        }
    }
}

/// How well probabilities match outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Mean squared difference between probability and outcome, of the scores as the
    /// estimator gives them.
    pub brier_uncalibrated: f64,
    /// The same after calibration, each fold calibrated by a map fitted on the other folds.
    pub brier: f64,
    /// Expected calibration error: the rows' mean gap between predicted and observed
    /// frequency over the reliability bins.
    pub expected_calibration_error: f64,
    pub bins: Vec<ReliabilityBin>,
}

/// Rows whose calibrated probability fell in one bin of equal width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub rows: usize,
    pub predicted: f64,
    pub observed: f64,
}

/// Calibrates out-of-fold `scores` honestly (each fold by a map fitted on the others) and
/// measures the result; also returns the map fitted on every row, which the model keeps.
pub fn calibrate(
    labels: &[f64],
    scores: &[f64],
    fold: &[usize],
    folds: usize,
) -> (Calibration, CalibrationReport) {
    let mut calibrated = vec![0.0; scores.len()];
    for f in 0..folds {
        let (other_scores, other_labels): (Vec<f64>, Vec<f64>) = (0..scores.len())
            .filter(|&i| fold[i] != f)
            .map(|i| (scores[i], labels[i]))
            .unzip();
        let map = Calibration::fit(&other_scores, &other_labels);
        for i in (0..scores.len()).filter(|&i| fold[i] == f) {
            calibrated[i] = map.apply(scores[i]);
        }
    }
    let (bins, expected_calibration_error) = reliability(labels, &calibrated);
    let report = CalibrationReport {
        brier_uncalibrated: brier(labels, scores),
        brier: brier(labels, &calibrated),
        expected_calibration_error,
        bins,
    };
    (Calibration::fit(scores, labels), report)
}

pub fn brier(labels: &[f64], probabilities: &[f64]) -> f64 {
    let n = labels.len().max(1) as f64;
    labels
        .iter()
        .zip(probabilities)
        .map(|(y, p)| (p.clamp(0.0, 1.0) - f64::from(u8::from(*y >= 0.5))).powi(2))
        .sum::<f64>()
        / n
}

/// Non-empty bins of width 1/[`RELIABILITY_BINS`], and the expected calibration error.
fn reliability(labels: &[f64], probabilities: &[f64]) -> (Vec<ReliabilityBin>, f64) {
    let mut sums = vec![(0usize, 0.0, 0.0); RELIABILITY_BINS];
    for (y, p) in labels.iter().zip(probabilities) {
        let p = p.clamp(0.0, 1.0);
        let bin = ((p * RELIABILITY_BINS as f64) as usize).min(RELIABILITY_BINS - 1);
        sums[bin].0 += 1;
        sums[bin].1 += p;
        sums[bin].2 += f64::from(u8::from(*y >= 0.5));
    }
    let total = labels.len().max(1) as f64;
    let mut error = 0.0;
    let bins = sums
        .into_iter()
        .filter(|(rows, _, _)| *rows > 0)
        .map(|(rows, predicted, observed)| {
            let n = rows as f64;
            let bin = ReliabilityBin {
                rows,
                predicted: predicted / n,
                observed: observed / n,
            };
            error += n / total * (bin.predicted - bin.observed).abs();
            bin
        })
        .collect();
    (bins, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_violators_give_a_non_decreasing_map_through_the_block_means() {
        let scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        let labels = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let map = Calibration::fit(&scores, &labels);
        // 0.1 alone at 0; 0.2–0.4 pooled at 1/3; 0.5–0.6 at 1.
        assert_eq!(
            map.knots,
            vec![
                [0.1, 0.0],
                [0.2, 1.0 / 3.0],
                [0.4, 1.0 / 3.0],
                [0.5, 1.0],
                [0.6, 1.0]
            ]
        );
        assert_eq!(map.apply(0.0), 0.0);
        assert_eq!(map.apply(0.3), 1.0 / 3.0);
        assert!((map.apply(0.45) - (1.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        assert_eq!(map.apply(2.0), 1.0);
        assert_eq!(map.check(), Ok(()));
    }

    #[test]
    fn tied_scores_share_one_probability() {
        let map = Calibration::fit(&[0.5, 0.5, 0.5, 0.5], &[1.0, 0.0, 0.0, 0.0]);
        assert_eq!(map.knots, vec![[0.5, 0.25]]);
        assert_eq!(map.apply(0.9), 0.25);
    }

    #[test]
    fn overconfident_scores_are_pulled_to_their_frequencies() {
        // Scores of 0.9 that fail one time in ten, and 0.1 that never fail.
        let mut scores = vec![0.1; 100];
        let mut labels = vec![0.0; 100];
        for i in 0..100 {
            scores.push(0.9);
            labels.push(f64::from(u8::from(i % 10 == 0)));
        }
        // Every fold holds two of the twenty failures.
        let fold: Vec<usize> = (0..scores.len()).map(|i| (i / 10) % 5).collect();
        let (map, report) = calibrate(&labels, &scores, &fold, 5);
        assert!((map.apply(0.9) - 0.1).abs() < 1e-12);
        assert!(report.brier < report.brier_uncalibrated / 5.0, "{report:?}");
        assert!(report.expected_calibration_error < 0.02, "{report:?}");
        let rows: usize = report.bins.iter().map(|b| b.rows).sum();
        assert_eq!(rows, 200);
    }

    #[test]
    fn a_map_that_falls_or_leaves_zero_to_one_is_refused() {
        for knots in [
            vec![[0.1, 0.5], [0.2, 0.4]],
            vec![[0.2, 0.1], [0.1, 0.2]],
            vec![[0.1, 1.5]],
            vec![[f64::NAN, 0.5]],
        ] {
            assert!(Calibration { knots }.check().is_err());
        }
    }
}
