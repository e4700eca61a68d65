//! The failure models' quality on the shared reference data, trained with the app's defaults
//! (issue 17's goals): AI4I failures caught at least as well as the data set's own published
//! generating rules catch them, on the same folds; C-MAPSS FD001 remaining life within 11.5
//! cycles RMSE with a 90 % interval that covers; probabilities calibrated.

use ml::metrics::Confusion;
use ml::training::train_with_split;
use ml::{Dataset, LoadOptions, TrainOptions};

use crate::support::data::shared;
use crate::support::model::no_progress;

/// Failure by the published rules for HDF, PWF and OSF (`../shared/data/README.md`), per row
/// of an AI4I 2020 CSV, with the row's `Machine failure` label.
fn published_rules(csv: &str) -> Vec<(bool, bool)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (kind, air, process, speed, torque, wear, failed) = (
        column("Type"),
        column("Air temperature [K]"),
        column("Process temperature [K]"),
        column("Rotational speed [rpm]"),
        column("Torque [Nm]"),
        column("Tool wear [min]"),
        column("Machine failure"),
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let number = |i: usize| fields[i].parse::<f64>().unwrap();
            let power = number(torque) * number(speed) * 2.0 * std::f64::consts::PI / 60.0;
            let limit = match fields[kind] {
                "L" => 11_000.0,
                "M" => 12_000.0,
                _ => 13_000.0,
            };
            let heat = number(process) - number(air) < 8.6 && number(speed) < 1380.0;
            let overstrain = number(wear) * number(torque) > limit;
            let rule = heat || !(3500.0..=9000.0).contains(&power) || overstrain;
            (rule, fields[failed] == "1")
        })
        .collect()
}

fn f1(pairs: impl Iterator<Item = (bool, bool)>) -> f64 {
    let (decisions, labels): (Vec<f64>, Vec<f64>) = pairs
        .map(|(decided, failed)| (f64::from(u8::from(decided)), f64::from(u8::from(failed))))
        .unzip();
    Confusion::at(&labels, &decisions, 0.5).f1()
}

#[test]
fn ai4i_failures_are_caught_as_well_as_the_generating_rules_catch_them_on_the_same_folds() {
    let Some(file) = shared("ai4i2020-dev.csv") else {
        return;
    };
    let csv = std::fs::read_to_string(file).unwrap();
    let data = Dataset::load(csv.as_bytes(), &LoadOptions::default()).unwrap();
    let (model, split) = train_with_split(&data, &TrainOptions::default(), &mut no_progress())
        .expect("training with the defaults");
    let rules = published_rules(&csv);
    let evaluation = &model.card.evaluation;
    let metrics = evaluation.classification.as_ref().unwrap();
    let rows = &split.examples.source_rows;
    let rules_f1 = f1(rows.iter().map(|&r| rules[r]));
    let rules_per_fold: Vec<f64> = (0..evaluation.folds)
        .map(|f| {
            f1((0..rows.len())
                .filter(|&k| split.fold[k] == f)
                .map(|k| rules[rows[k]]))
        })
        .collect();
    println!(
        "AI4I 2020, {}: F1 {:.4} (precision {:.4}, recall {:.4}) against the rules' {rules_f1:.4}; per fold {:.3?} against {rules_per_fold:.3?}",
        model.card.algorithm.name(),
        metrics.f1,
        metrics.precision,
        metrics.recall,
        evaluation.per_fold,
    );
    assert!(
        metrics.f1 >= rules_f1,
        "F1 {:.4} under the rules' {rules_f1:.4}",
        metrics.f1
    );
    for mode in &evaluation.per_mode {
        println!(
            "  {}: recall {:.3} of {} rows",
            mode.mode, mode.recall, mode.rows
        );
        if ["HDF", "PWF", "OSF"].contains(&mode.mode.as_str()) {
            assert!(
                mode.recall >= 0.98,
                "{} recall {:.3}",
                mode.mode,
                mode.recall
            );
        }
    }

    let calibration = evaluation.calibration.as_ref().expect("calibrated");
    println!(
        "  Brier {:.5} calibrated, {:.5} as the forest votes; expected calibration error {:.4}",
        calibration.brier, calibration.brier_uncalibrated, calibration.expected_calibration_error
    );
    assert!(calibration.brier <= calibration.brier_uncalibrated);
    assert!(calibration.expected_calibration_error < 0.01);
    // The model shows calibrated probabilities, and decides on them as cross-validation did.
    let map = model.card.calibration.as_ref().expect("a calibration map");
    let threshold = model.card.threshold.unwrap();
    let agree = (0..rows.len())
        .filter(|&k| {
            let score = split.oof[k];
            (map.apply(score) >= threshold) == (score >= metrics_score_threshold(&split, k))
        })
        .count();
    assert!(
        agree as f64 >= 0.999 * rows.len() as f64,
        "{agree} of {}",
        rows.len()
    );
}

/// The threshold cross-validation used on the scores for row `k`: chosen on the other folds.
fn metrics_score_threshold(split: &ml::training::Split, k: usize) -> f64 {
    let (labels, scores): (Vec<f64>, Vec<f64>) = (0..split.y.len())
        .filter(|&i| split.fold[i] != split.fold[k])
        .map(|i| (split.y[i], split.oof[i]))
        .unzip();
    ml::metrics::best_f1_threshold(&labels, &scores)
}

#[test]
fn fd001_remaining_life_is_within_the_goal_with_an_interval_that_covers() {
    let Some(file) = shared("cmapss/train_FD001.txt") else {
        return;
    };
    let data = Dataset::load(&std::fs::read(file).unwrap(), &LoadOptions::default()).unwrap();
    let model = ml::train(&data, &TrainOptions::default(), &mut no_progress()).unwrap();
    let evaluation = &model.card.evaluation;
    let metrics = evaluation.regression.clone().unwrap();
    println!(
        "C-MAPSS FD001, {}: RMSE {:.3} (per fold {:.2?}), PHM08 {:.1} per 100, coverage {:?}",
        model.card.algorithm.name(),
        metrics.rmse,
        evaluation.per_fold,
        metrics.phm08_per_100,
        metrics.interval_coverage
    );
    assert_eq!(model.card.algorithm, ml::Algorithm::GradientBoosting);
    assert!(metrics.rmse <= 11.5, "FD001 RMSE {:.3}", metrics.rmse);
    let coverage = metrics.interval_coverage.unwrap();
    assert!((0.87..=0.93).contains(&coverage), "coverage {coverage}");
}
