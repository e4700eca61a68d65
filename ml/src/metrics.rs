//! Quality measures of failure and remaining-life predictions.

use serde::{Deserialize, Serialize};

/// Counts at one decision threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    pub true_positives: usize,
    pub false_positives: usize,
    pub true_negatives: usize,
    pub false_negatives: usize,
}

impl Confusion {
    pub fn at(labels: &[f64], probabilities: &[f64], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (label, p) in labels.iter().zip(probabilities) {
            match (*label >= 0.5, *p >= threshold) {
                (true, true) => c.true_positives += 1,
                (false, true) => c.false_positives += 1,
                (false, false) => c.true_negatives += 1,
                (true, false) => c.false_negatives += 1,
            }
        }
        c
    }

    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    pub fn f1(&self) -> f64 {
        ratio(
            2 * self.true_positives,
            2 * self.true_positives + self.false_positives + self.false_negatives,
        )
    }
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Classification quality at the chosen threshold, plus ranking quality over all thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    pub threshold: f64,
    pub f1: f64,
    pub precision: f64,
    pub recall: f64,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub confusion: Confusion,
    pub rows: usize,
    pub positives: usize,
}

impl ClassificationMetrics {
    pub fn compute(labels: &[f64], probabilities: &[f64], threshold: f64) -> ClassificationMetrics {
        let confusion = Confusion::at(labels, probabilities, threshold);
        ClassificationMetrics {
            threshold,
            f1: confusion.f1(),
            precision: confusion.precision(),
            recall: confusion.recall(),
            roc_auc: roc_auc(labels, probabilities),
            pr_auc: average_precision(labels, probabilities),
            confusion,
            rows: labels.len(),
            positives: labels.iter().filter(|l| **l >= 0.5).count(),
        }
    }
}

/// The threshold with the best F1, among the midpoints between distinct probabilities; ties go
/// to the higher threshold (fewer false alarms).
pub fn best_f1_threshold(labels: &[f64], probabilities: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| probabilities[*b].total_cmp(&probabilities[*a]));
    let positives = labels.iter().filter(|l| **l >= 0.5).count();
    let (mut true_positives, mut predicted) = (0usize, 0usize);
    let (mut best_f1, mut best_threshold) = (-1.0, 0.5);
    for (k, &i) in order.iter().enumerate() {
        predicted += 1;
        if labels[i] >= 0.5 {
            true_positives += 1;
        }
        let next = order.get(k + 1).map(|&j| probabilities[j]);
        if next == Some(probabilities[i]) {
            continue;
        }
        let f1 = 2.0 * true_positives as f64 / (predicted + positives) as f64;
        let threshold = match next {
            Some(next) => (probabilities[i] + next) / 2.0,
            None => probabilities[i] / 2.0,
        };
        if f1 > best_f1 {
            best_f1 = f1;
            best_threshold = threshold;
        }
    }
    best_threshold
}

/// Area under the ROC curve: the chance a random failure ranks above a random healthy row.
pub fn roc_auc(labels: &[f64], scores: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    // Average ranks over ties, then the Mann-Whitney statistic.
    let mut ranks = vec![0.0; labels.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        let rank = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            ranks[i] = rank;
        }
        start = end + 1;
    }
    let positives = labels.iter().filter(|l| **l >= 0.5).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let rank_sum: f64 = labels
        .iter()
        .zip(&ranks)
        .filter(|(l, _)| **l >= 0.5)
        .map(|(_, r)| r)
        .sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Area under the precision-recall curve, as average precision.
pub fn average_precision(labels: &[f64], scores: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let positives = labels.iter().filter(|l| **l >= 0.5).count();
    if positives == 0 {
        return f64::NAN;
    }
    let (mut true_positives, mut area, mut last_recall) = (0usize, 0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] >= 0.5 {
            true_positives += 1;
        }
        if order.get(k + 1).map(|&j| scores[j]) == Some(scores[i]) {
            continue;
        }
        let recall = true_positives as f64 / positives as f64;
        let precision = true_positives as f64 / (k + 1) as f64;
        area += (recall - last_recall) * precision;
        last_recall = recall;
    }
    area
}

/// Remaining-life quality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub mae: f64,
    /// PHM08 challenge score per 100 predictions: late predictions cost more than early ones.
    pub phm08_per_100: f64,
    /// Share of true values inside the predicted interval.
    pub interval_coverage: Option<f64>,
    /// Half-width of the interval.
    pub interval_half_width: Option<f64>,
    pub rows: usize,
}

impl RegressionMetrics {
    pub fn compute(
        truth: &[f64],
        predictions: &[f64],
        half_width: Option<f64>,
    ) -> RegressionMetrics {
        let n = truth.len().max(1) as f64;
        let errors: Vec<f64> = predictions.iter().zip(truth).map(|(p, t)| p - t).collect();
        let coverage =
            half_width.map(|h| errors.iter().filter(|e| e.abs() <= h).count() as f64 / n);
        RegressionMetrics {
            rmse: (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt(),
            mae: errors.iter().map(|e| e.abs()).sum::<f64>() / n,
            phm08_per_100: phm08_score(&errors) * 100.0 / n,
            interval_coverage: coverage,
            interval_half_width: half_width,
            rows: truth.len(),
        }
    }
}

/// The PHM08 scoring function over prediction errors (predicted − true).
pub fn phm08_score(errors: &[f64]) -> f64 {
    errors
        .iter()
        .map(|d| {
            if *d < 0.0 {
                (-d / 13.0).exp() - 1.0
            } else {
                (d / 10.0).exp() - 1.0
            }
        })
        .sum()
}

/// The split-conformal half-width: the ⌈(n+1)(1−α)⌉-th smallest absolute residual, so that a
/// new prediction ± it covers the truth with probability at least 1−α.
pub fn conformal_half_width(residuals: &[f64], alpha: f64) -> f64 {
    let mut sorted: Vec<f64> = residuals.iter().map(|r| r.abs()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::INFINITY;
    }
    let k = (((n + 1) as f64) * (1.0 - alpha)).ceil() as usize;
    sorted[k.clamp(1, n) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_its_ratios() {
        let labels = [1.0, 1.0, 0.0, 0.0, 1.0];
        let probabilities = [0.9, 0.4, 0.6, 0.1, 0.8];
        let c = Confusion::at(&labels, &probabilities, 0.5);
        assert_eq!(
            (
                c.true_positives,
                c.false_positives,
                c.true_negatives,
                c.false_negatives
            ),
            (2, 1, 1, 1)
        );
        assert!((c.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.recall() - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.f1() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn auc_is_one_for_a_perfect_ranking_and_a_half_for_ties() {
        let labels = [0.0, 0.0, 1.0, 1.0];
        assert_eq!(roc_auc(&labels, &[0.1, 0.2, 0.8, 0.9]), 1.0);
        assert_eq!(roc_auc(&labels, &[0.5; 4]), 0.5);
        assert_eq!(roc_auc(&labels, &[0.9, 0.8, 0.2, 0.1]), 0.0);
        assert_eq!(average_precision(&labels, &[0.1, 0.2, 0.8, 0.9]), 1.0);
        // Ranking 1,0,1,0: precision 1 at recall 0.5, 2/3 at recall 1.
        let ap = average_precision(&labels, &[0.8, 0.6, 0.9, 0.7]);
        assert!((ap - (0.5 + 0.5 * 2.0 / 3.0)).abs() < 1e-12, "{ap}");
    }

    #[test]
    fn the_best_threshold_separates_what_can_be_separated() {
        let labels = [0.0, 0.0, 0.0, 1.0, 1.0];
        let probabilities = [0.1, 0.2, 0.3, 0.7, 0.8];
        let threshold = best_f1_threshold(&labels, &probabilities);
        assert!(threshold > 0.3 && threshold < 0.7, "{threshold}");
        assert_eq!(Confusion::at(&labels, &probabilities, threshold).f1(), 1.0);
    }

    #[test]
    fn phm08_punishes_late_predictions_more() {
        assert!(phm08_score(&[10.0]) > phm08_score(&[-10.0]));
        assert!((phm08_score(&[10.0]) - (1f64.exp() - 1.0)).abs() < 1e-12);
        let m = RegressionMetrics::compute(&[10.0, 20.0], &[13.0, 16.0], Some(3.5));
        assert!((m.rmse - 12.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(m.mae, 3.5);
        assert_eq!(m.interval_coverage, Some(0.5));
    }

    #[test]
    fn conformal_half_width_is_the_right_order_statistic() {
        let residuals: Vec<f64> = (1..=19).map(f64::from).collect();
        // (19+1)·0.9 = 18 → the 18th smallest.
        assert_eq!(conformal_half_width(&residuals, 0.1), 18.0);
        assert_eq!(conformal_half_width(&[-4.0, 1.0], 0.1), 4.0);
    }
}
