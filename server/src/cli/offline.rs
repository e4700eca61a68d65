//! The offline commands: `train`, `evaluate` and `predict` on files, no server needed.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{DataArgs, EvaluateArgs, PredictArgs, TrainArgs};
use ml::dataset::{DatasetProfile, Layout, Role};
use ml::evaluation::Evaluation;
use ml::metrics::{ClassificationMetrics, RegressionMetrics};
use ml::recipe::Derived;
use ml::{self, Algorithm, Dataset, Hyperparameters, LoadOptions, Model, Task, TrainOptions};

/// Reads and checks a data set as the flags say.
pub fn load_dataset(args: &DataArgs, target: Option<String>) -> anyhow::Result<Dataset> {
    let bytes =
        std::fs::read(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let profile = args
        .profile
        .as_deref()
        .map(|p| {
            DatasetProfile::parse(p).ok_or_else(|| {
                anyhow!("unknown profile {p:?}: use ai4i2020, run_to_failure or generic")
            })
        })
        .transpose()?;
    let roles = args
        .roles
        .iter()
        .map(|text| {
            let (column, role) = text
                .rsplit_once('=')
                .ok_or_else(|| anyhow!("--role {text:?}: write it as COLUMN=ROLE"))?;
            let role = Role::parse(role.trim()).ok_or_else(|| {
                anyhow!("--role {text:?}: unknown role; use id, timestamp, unit, categorical, input, target, label or ignored")
            })?;
            Ok((column.trim().to_string(), role))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = LoadOptions {
        layout: args.cmapss.then_some(Layout::Cmapss),
        profile,
        target,
        roles,
        life_cap: args.life_cap,
    };
    Dataset::load(&bytes, &options).map_err(|e| anyhow!("{}: {e}", args.data.display()))
}

fn read_model(path: &Path) -> anyhow::Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Model::from_bytes(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    let (Some(data), Some(model_out)) = (&args.data, &args.model_out) else {
        bail!("give --data and --model-out, or --run-id");
    };
    let dataset = load_dataset(data, args.target.clone())?;
    let algorithm = Algorithm::parse_choice(&args.algorithm)
        .ok_or_else(|| {
            anyhow!(
                "unknown algorithm {:?}: use auto, random_forest, gradient_boosting or linear",
                args.algorithm
            )
        })?
        .unwrap_or_else(|| Algorithm::for_profile(dataset.profile));
    let mut parameters = Hyperparameters::defaults(algorithm, dataset.is_classification());
    if let Some(v) = args.trees {
        parameters.trees = v;
    }
    if let Some(v) = args.max_depth {
        parameters.max_depth = Some(v);
    }
    if let Some(v) = args.min_samples_leaf {
        parameters.min_samples_leaf = v;
    }
    if let Some(v) = args.features_per_split {
        parameters.features_per_split = v;
    }
    if let Some(v) = args.alpha {
        parameters.alpha = v;
    }
    if let Some(v) = args.seed {
        parameters.seed = v;
    }
    parameters.balanced = args.balanced;
    parameters.check().map_err(|e| anyhow!(e))?;
    let derived = args
        .derived
        .iter()
        .map(|d| Derived::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    if args.folds < 2 {
        bail!("--folds must be at least 2");
    }
    let options = TrainOptions {
        algorithm: Some(algorithm),
        hyperparameters: Some(parameters),
        folds: args.folds,
        derived,
    };
    let bar = ProgressBar::new(100).with_style(
        ProgressStyle::with_template("{bar:30} {pos:>3}% {msg} ({elapsed})")
            .expect("valid template"),
    );
    let model = ml::train(&dataset, &options, &mut |stage: &str, percent: u8| {
        bar.set_position(u64::from(percent));
        bar.set_message(stage.to_string());
    })?;
    bar.finish_and_clear();
    std::fs::write(model_out, model.to_bytes())
        .with_context(|| format!("writing {}", model_out.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&model.card)?);
    } else {
        print!("{}", summary(&model));
        println!("model written to {}", model_out.display());
    }
    Ok(())
}

pub fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let model = read_model(&args.model)?;
    let dataset = load_dataset(&args.data, Some(model.card.data.target.clone()))
        .or_else(|_| load_dataset(&args.data, None))?;
    let assessment = ml::training::evaluate(&model, &dataset)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&assessment)?);
        return Ok(());
    }
    let mut out = String::new();
    if let Some(m) = &assessment.classification {
        classification_lines(&mut out, m);
    }
    if let Some(m) = &assessment.regression {
        regression_lines(&mut out, m);
    }
    print!("{out}");
    Ok(())
}

pub fn predict(args: PredictArgs) -> anyhow::Result<()> {
    let model = read_model(&args.model)?;
    let dataset = load_dataset(&args.data, None)
        .or_else(|_| load_dataset(&args.data, Some(model.card.data.target.clone())))?;
    let predictions = ml::training::predict_dataset(&model, &dataset)?;
    let mut writer = csv::Writer::from_path(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    match model.card.task {
        Task::Classification => {
            let with_modes = !model.card.modes.is_empty();
            let mut header = vec!["failure_probability", "failure"];
            if with_modes {
                header.extend(["failure_mode", "mode_probability"]);
            }
            writer.write_record(&header)?;
            for p in &predictions {
                let mut record = vec![
                    format!("{:.6}", p.failure_probability.unwrap_or(0.0)),
                    u8::from(p.failure.unwrap_or(false)).to_string(),
                ];
                if with_modes {
                    record.push(p.failure_mode.clone().unwrap_or_default());
                    record.push(
                        p.mode_probability
                            .map(|m| format!("{m:.4}"))
                            .unwrap_or_default(),
                    );
                }
                writer.write_record(&record)?;
            }
        }
        Task::Regression => {
            writer.write_record(["rul", "rul_low", "rul_high"])?;
            for p in &predictions {
                let value = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
                writer.write_record([
                    value(p.remaining_life),
                    value(p.remaining_life_low),
                    value(p.remaining_life_high),
                ])?;
            }
        }
    }
    writer.flush()?;
    eprintln!(
        "{} predictions written to {}",
        predictions.len(),
        args.out.display()
    );
    Ok(())
}

/// A model card in a few lines for a terminal.
pub fn summary(model: &Model) -> String {
    let card = &model.card;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} model ({}), {} features, trained on {} rows of a {} data set (sha256 {}…)",
        match card.task {
            Task::Classification => "failure",
            Task::Regression => "remaining-life",
        },
        card.algorithm.name(),
        card.feature_names.len(),
        card.data.rows,
        card.data.profile.name(),
        &card.data.sha256[..12],
    );
    evaluation_lines(&mut out, &card.evaluation);
    let mut ranked: Vec<(&String, f64)> = card
        .feature_names
        .iter()
        .zip(card.importances.iter().copied())
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top: Vec<String> = ranked
        .iter()
        .take(6)
        .map(|(n, v)| format!("{n} {v:.3}"))
        .collect();
    let _ = writeln!(out, "most important inputs: {}", top.join(", "));
    out
}

fn evaluation_lines(out: &mut String, evaluation: &Evaluation) {
    let _ = writeln!(out, "validation: {}", evaluation.scheme);
    if let Some(m) = &evaluation.classification {
        classification_lines(out, m);
        for mode in &evaluation.per_mode {
            let _ = writeln!(
                out,
                "  {:<4} {:>4} rows, caught {:>5.1} %, mode named right {:>5.1} %",
                mode.mode,
                mode.rows,
                100.0 * mode.recall,
                100.0 * mode.mode_accuracy
            );
        }
        let folds: Vec<String> = evaluation
            .per_fold
            .iter()
            .map(|f| format!("{f:.3}"))
            .collect();
        let _ = writeln!(out, "F1 per fold: {}", folds.join(" "));
    }
    if let Some(m) = &evaluation.regression {
        regression_lines(out, m);
        let folds: Vec<String> = evaluation
            .per_fold
            .iter()
            .map(|f| format!("{f:.2}"))
            .collect();
        let _ = writeln!(out, "RMSE per fold: {}", folds.join(" "));
    }
    let _ = writeln!(out, "final fit: {:.2} s", evaluation.training_seconds);
}

fn classification_lines(out: &mut String, m: &ClassificationMetrics) {
    let c = &m.confusion;
    let _ = writeln!(
        out,
        "F1 {:.4}  precision {:.4}  recall {:.4}  ROC AUC {:.4}  PR AUC {:.4}  threshold {:.3}",
        m.f1, m.precision, m.recall, m.roc_auc, m.pr_auc, m.threshold
    );
    let _ = writeln!(
        out,
        "confusion: {} true alarms, {} false alarms, {} missed failures, {} quiet healthy rows ({} rows, {} failures)",
        c.true_positives, c.false_positives, c.false_negatives, c.true_negatives, m.rows, m.positives
    );
}

fn regression_lines(out: &mut String, m: &RegressionMetrics) {
    let _ = write!(
        out,
        "RMSE {:.2}  MAE {:.2}  PHM08 score {:.1} per 100 predictions  ({} predictions)",
        m.rmse, m.mae, m.phm08_per_100, m.rows
    );
    if let (Some(coverage), Some(half)) = (m.interval_coverage, m.interval_half_width) {
        let _ = write!(
            out,
            "\ninterval ±{half:.1}: covers {:.1} % of the truths",
            100.0 * coverage
        );
    }
    out.push('\n');
}
