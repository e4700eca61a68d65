//! MLflow tracking of training runs: an experiment per machine (or per profile), an MLflow run
//! per training run with its parameters, metrics, tags and artifacts, and in the model registry
//! a version per trained model with the aliases `challenger` (the newest) and `champion` (the
//! promoted one). Tracking never decides a run's outcome: when MLflow is down the run says
//! why it is not tracked, and `retry_untracked` tries again later. A retry reuses the MLflow
//! run and model version already made, so nothing is logged twice.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use app::model::RunState;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::charts;
use crate::configuration::TrackingSettings;
use crate::db::training_runs::{self, Tracking, TrainingRun};
use crate::db::{datasets, machines, model_versions, Database};
use crate::domain::time::now_ms;
use crate::domain::TrackingState;
use crate::training::mlflow::{Client, Metric, Param, RunInfo, RunStatus, Tag};
use ml::evaluation::Evaluation;
use ml::model::ModelCard;
use ml::Model;

/// Longest time tracking one run may take, over all its requests.
pub const TRACKING_TIMEOUT: Duration = Duration::from_secs(60);

/// MLflow's limit on a tag's value that every backend store accepts.
const TAG_VALUE_LIMIT: usize = 5000;

/// The registered model that holds a profile's versions.
pub fn registered_model_name(profile: &str) -> String {
    format!("icantkube-{profile}")
}

/// Tracks a finished run in MLflow, taking at most `TRACKING_TIMEOUT`, and records the outcome
/// in the run: `tracked`, or `failed` with the reason (kept for a retry).
pub async fn track(db: &Database, settings: &TrackingSettings, run_id: i64) -> anyhow::Result<()> {
    let pool = db.pool();
    let outcome = tokio::time::timeout(TRACKING_TIMEOUT, log_run(db, settings, run_id))
        .await
        .unwrap_or_else(|_| {
            Err(anyhow!(
                "MLflow tracking did not finish within {} s",
                TRACKING_TIMEOUT.as_secs()
            ))
        });
    match outcome {
        Ok(()) => {
            let tracked = Tracking::only(TrackingState::Tracked);
            training_runs::set_tracking(pool, run_id, tracked).await?;
            Ok(())
        }
        Err(error) => {
            let reason = format!("{error:#}").replace('\n', " ");
            let failed = Tracking {
                error: Some(&reason),
                ..Tracking::only(TrackingState::Failed)
            };
            training_runs::set_tracking(pool, run_id, failed).await?;
            Err(error)
        }
    }
}

/// Points the `champion` alias at a version registered in MLflow (called on promotion).
pub async fn champion(
    settings: &TrackingSettings,
    profile: &str,
    mlflow_version: &str,
) -> anyhow::Result<()> {
    Client::new(settings)?
        .set_alias(&registered_model_name(profile), "champion", mlflow_version)
        .await?;
    Ok(())
}

/// After a promotion: points `champion` at the version in MLflow, in the background, when it is
/// registered there (an untracked version gets the alias when it is tracked, as it is active
/// by then). A failure is logged; the promotion itself stands.
pub fn promoted(db: &Database, settings: &TrackingSettings, version_id: i64) {
    let (db, settings) = (db.clone(), settings.clone());
    tokio::spawn(async move {
        let found = model_versions::mlflow_version(db.pool(), version_id).await;
        let Ok(Some((profile, Some(mlflow_version)))) = found else {
            return;
        };
        let aliased = tokio::time::timeout(
            TRACKING_TIMEOUT,
            champion(&settings, &profile, &mlflow_version),
        )
        .await;
        match aliased {
            Ok(Ok(())) => tracing::info!(%profile, %mlflow_version, "MLflow champion alias moved"),
            Ok(Err(error)) => {
                tracing::warn!(error = %format!("{error:#}"), "MLflow champion alias not moved")
            }
            Err(_) => {
                tracing::warn!("MLflow champion alias not moved: MLflow did not answer in time")
            }
        }
    });
}

/// Offers MLflow the runs it missed (it was down, or slow) every `every`, so they are tracked
/// once it answers again; answers the task, for the server to stop with it.
pub fn keep_retrying(db: Database, settings: TrackingSettings, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            retry_untracked(&db, &settings).await;
        }
    })
}

/// Tracks every ended run MLflow does not have yet, oldest first; a failure is logged and the
/// next run is tried.
pub async fn retry_untracked(db: &Database, settings: &TrackingSettings) {
    let runs = match training_runs::untracked(db.pool()).await {
        Ok(runs) => runs,
        Err(error) => {
            tracing::warn!(%error, "cannot list the runs MLflow does not have yet");
            return;
        }
    };
    // A run still `pending` shortly after it ended may be in its worker's hands right now;
    // tracking it here too could make a second MLflow run. `failed` means the worker is done.
    let worker_done_by = now_ms() - 2 * TRACKING_TIMEOUT.as_millis() as i64;
    let settled = runs.into_iter().filter(|run| {
        run.tracking == TrackingState::Failed
            || run.finished_at.is_some_and(|at| at < worker_done_by)
    });
    for run in settled {
        match track(db, settings, run.id).await {
            Ok(()) => tracing::info!(run_id = run.id, "training run tracked in MLflow"),
            Err(error) => {
                tracing::warn!(run_id = run.id, error = %format!("{error:#}"), "MLflow tracking failed again")
            }
        }
    }
}

async fn log_run(db: &Database, settings: &TrackingSettings, run_id: i64) -> anyhow::Result<()> {
    let pool = db.pool();
    let run = training_runs::find(pool, run_id)
        .await?
        .ok_or_else(|| anyhow!("training run {run_id} does not exist"))?;
    let status = match run.state {
        RunState::Completed => RunStatus::Finished,
        RunState::Failed => RunStatus::Failed,
        RunState::Cancelled => RunStatus::Killed,
        other => bail!(
            "training run {run_id} has not ended (it is {})",
            other.as_str()
        ),
    };
    let dataset = match run.dataset_id {
        Some(id) => datasets::find(pool, id).await?,
        None => None,
    };
    let version = model_versions::for_training_run(pool, run.id).await?;
    let model = match &version {
        Some(version) => {
            let bytes = model_versions::artifact(pool, version.id).await?;
            let card = Model::card_from_bytes(&bytes)
                .with_context(|| format!("model version {} does not load", version.version))?;
            Some((bytes, card))
        }
        None => None,
    };
    let card = model.as_ref().map(|(_, card)| card);
    // Metrics and the end carry the run's own times, so a retry logs the same values again,
    // which MLflow keeps once.
    let ended_at = run.finished_at.unwrap_or(run.created_at);

    let client = Client::new(settings)?;
    let mlflow_run = mlflow_run(db, &client, &run).await?;
    let mut tags = vec![
        Tag::new("icantkube.training_run_id", run.id.to_string()),
        Tag::new(
            "icantkube.version",
            card.map_or(env!("CARGO_PKG_VERSION"), |c| c.icantkube_version.as_str()),
        ),
    ];
    if let Some(sha256) = card
        .map(|c| c.data.sha256.clone())
        .or_else(|| dataset.as_ref().map(|d| d.content_sha256.clone()))
    {
        tags.push(Tag::new("icantkube.dataset_sha256", sha256));
    }
    if let Some(error) = &run.error {
        tags.push(Tag::new(
            "icantkube.error",
            error.chars().take(TAG_VALUE_LIMIT).collect::<String>(),
        ));
    }
    let metrics = card
        .map(|c| metrics(&c.evaluation, ended_at))
        .unwrap_or_default();
    client
        .log_batch(
            &mlflow_run.run_id,
            &params(&run, card, dataset.as_ref()),
            &metrics,
            &tags,
        )
        .await?;

    if let Some(dataset) = &dataset {
        let column_roles: Value = serde_json::from_str(&dataset.column_roles)
            .context("the data set's column roles do not parse")?;
        let fingerprint = json!({
            "name": dataset.name,
            "file_name": dataset.file_name,
            "profile": dataset.profile,
            "rows": dataset.row_count,
            "sha256": dataset.content_sha256,
            "column_roles": column_roles,
        });
        client
            .upload_artifact(
                &mlflow_run,
                "dataset/fingerprint.json",
                "application/json",
                serde_json::to_vec_pretty(&fingerprint)?,
            )
            .await?;
    }
    if let Some((bytes, card)) = &model {
        client
            .upload_artifact(
                &mlflow_run,
                "model/model.icantkube",
                "application/octet-stream",
                bytes.clone(),
            )
            .await?;
        client
            .upload_artifact(
                &mlflow_run,
                "model/card.json",
                "application/json",
                serde_json::to_vec_pretty(card)?,
            )
            .await?;
        for (file_name, svg) in charts::evaluation_plots(card) {
            client
                .upload_artifact(
                    &mlflow_run,
                    &format!("plots/{file_name}"),
                    "image/svg+xml",
                    svg.into_bytes(),
                )
                .await?;
        }
    }
    client.end_run(&mlflow_run.run_id, status, ended_at).await?;

    if let Some(version) = version {
        register(db, &client, &run, &mlflow_run, &version).await?;
    }
    Ok(())
}

/// The MLflow run this training run already has, else a new one; its ids are stored at once
/// so a retry finds it.
async fn mlflow_run(db: &Database, client: &Client, run: &TrainingRun) -> anyhow::Result<RunInfo> {
    if let Some(existing) = &run.mlflow_run_id {
        // A run deleted in MLflow, or a different tracking server, gets a new one.
        if let Some(info) = client.run(existing).await? {
            return Ok(info);
        }
    }
    let experiment = match run.machine_id {
        Some(id) => machines::name_of(db.pool(), id).await?,
        None => None,
    }
    .unwrap_or_else(|| run.profile.clone());
    let experiment_id = client
        .experiment_id(&format!("icantkube/{experiment}"))
        .await?;
    let info = client
        .create_run(
            &experiment_id,
            &format!("training-run-{}", run.id),
            run.started_at.unwrap_or(run.created_at),
            &[Tag::new("icantkube.training_run_id", run.id.to_string())],
        )
        .await?;
    let pending = Tracking {
        state: TrackingState::Pending,
        error: None,
        experiment_id: Some(&info.experiment_id),
        mlflow_run_id: Some(&info.run_id),
    };
    training_runs::set_tracking(db.pool(), run.id, pending).await?;
    Ok(info)
}

/// Registers the run's model as a version of the profile's registered model (once) and moves
/// the aliases: `challenger` to the profile's newest version, `champion` too when that version
/// was already promoted before MLflow knew it.
async fn register(
    db: &Database,
    client: &Client,
    run: &TrainingRun,
    mlflow_run: &RunInfo,
    version: &model_versions::RunVersion,
) -> anyhow::Result<()> {
    let name = registered_model_name(&run.profile);
    client.ensure_registered_model(&name).await?;
    let mlflow_version = match &version.mlflow_version {
        Some(known) => known.clone(),
        None => {
            // A retry after the version was made but before it was stored finds it by its run.
            let made = match client
                .model_version_of_run(&name, &mlflow_run.run_id)
                .await?
            {
                Some(made) => made,
                None => {
                    let source = format!("{}/model", mlflow_run.artifact_uri);
                    client
                        .create_model_version(&name, &source, &mlflow_run.run_id)
                        .await?
                }
            };
            model_versions::set_mlflow_version(db.pool(), version.id, &made).await?;
            made
        }
    };
    // An older run tracked late must not take the alias from a newer version.
    if version.version == version.newest_version {
        client
            .set_alias(&name, "challenger", &mlflow_version)
            .await?;
        if version.active == 1 {
            client.set_alias(&name, "champion", &mlflow_version).await?;
        }
    }
    Ok(())
}

/// The run's settings: algorithm, every hyperparameter, target, profile and the data set.
fn params(
    run: &TrainingRun,
    card: Option<&ModelCard>,
    dataset: Option<&datasets::StoredDataset>,
) -> Vec<Param> {
    let mut params = Vec::new();
    let mut add = |key: &str, value: String| {
        params.push(Param {
            key: key.to_string(),
            value,
        })
    };
    add(
        "algorithm",
        card.map_or(run.algorithm.clone(), |c| c.algorithm.name().to_string()),
    );
    // A trained model has every hyperparameter, defaults included; a failed run only the ones
    // it chose (none when they did not parse, which its error then says).
    let hyperparameters = match card {
        Some(card) => serde_json::to_value(&card.hyperparameters)
            .ok()
            .and_then(|v| v.as_object().cloned()),
        None => serde_json::from_str(&run.parameters).ok(),
    }
    .unwrap_or_default();
    for (key, value) in hyperparameters {
        add(&key, param_value(&value));
    }
    add("target", run.target.clone());
    add("profile", run.profile.clone());
    if let Some(card) = card {
        add("folds", card.evaluation.folds.to_string());
        add("evaluation_scheme", card.evaluation.scheme.clone());
    }
    if let Some(dataset) = dataset {
        add("dataset", dataset.name.clone());
    }
    let rows_and_sha256 = match (card, dataset) {
        (Some(card), _) => Some((card.data.rows.to_string(), card.data.sha256.clone())),
        (None, Some(dataset)) => Some((
            dataset.row_count.to_string(),
            dataset.content_sha256.clone(),
        )),
        (None, None) => None,
    };
    if let Some((rows, sha256)) = rows_and_sha256 {
        add("rows", rows);
        add("sha256", sha256);
    }
    if let Some(runner) = &run.runner {
        add("runner", runner.clone());
    }
    params
}

fn param_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "none".to_string(),
        other => other.to_string(),
    }
}

/// Every evaluation number under its snake_case name; per-fold values as one metric whose
/// step is the fold's index. NaN and infinities are left out: MLflow's JSON cannot carry them.
fn metrics(evaluation: &Evaluation, timestamp: i64) -> Vec<Metric> {
    let mut metrics = Vec::new();
    let mut add = |key: String, value: f64, step: i64| {
        if value.is_finite() {
            metrics.push(Metric {
                key,
                value,
                timestamp,
                step,
            });
        }
    };
    let summaries = [
        serde_json::to_value(&evaluation.classification).ok(),
        serde_json::to_value(&evaluation.regression).ok(),
    ];
    for summary in summaries.into_iter().flatten() {
        for (key, value) in numbers(&summary, "") {
            add(key, value, 0);
        }
    }
    let fold_metric = if evaluation.classification.is_some() {
        "fold_f1"
    } else {
        "fold_rmse"
    };
    for (fold, value) in evaluation.per_fold.iter().enumerate() {
        add(fold_metric.to_string(), *value, fold as i64);
    }
    for mode in &evaluation.per_mode {
        let name = metric_name(&mode.mode.to_lowercase());
        add(format!("{name}_recall"), mode.recall, 0);
        add(format!("{name}_mode_accuracy"), mode.mode_accuracy, 0);
        add(format!("{name}_rows"), mode.rows as f64, 0);
    }
    if let Some(calibration) = &evaluation.calibration {
        add("brier".to_string(), calibration.brier, 0);
        add(
            "brier_uncalibrated".to_string(),
            calibration.brier_uncalibrated,
            0,
        );
        add(
            "expected_calibration_error".to_string(),
            calibration.expected_calibration_error,
            0,
        );
    }
    add(
        "training_seconds".to_string(),
        evaluation.training_seconds,
        0,
    );
    metrics
}

/// The numbers in a JSON object, nested objects' keys joined with `_`.
fn numbers(value: &Value, prefix: &str) -> Vec<(String, f64)> {
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .flat_map(|(key, value)| {
            let key = format!("{prefix}{key}");
            match value {
                Value::Number(number) => number.as_f64().map(|n| (key, n)).into_iter().collect(),
                Value::Object(_) => numbers(value, &format!("{key}_")),
                _ => Vec::new(),
            }
        })
        .collect()
}

/// MLflow allows letters, digits, `_ - . / ` and spaces in names; anything else becomes `_`.
fn metric_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ml::calibration::CalibrationReport;
    use ml::evaluation::ModeMetrics;
    use ml::metrics::{ClassificationMetrics, Confusion};

    #[test]
    fn metrics_are_flat_snake_case_with_one_step_per_fold_and_no_nan() {
        let evaluation = Evaluation {
            scheme: "stratified 3-fold".into(),
            folds: 3,
            classification: Some(ClassificationMetrics {
                threshold: 0.4,
                f1: 0.8,
                precision: 0.9,
                recall: 0.7,
                roc_auc: f64::NAN,
                pr_auc: 0.85,
                confusion: Confusion {
                    true_positives: 7,
                    false_positives: 1,
                    true_negatives: 90,
                    false_negatives: 3,
                },
                rows: 101,
                positives: 10,
            }),
            regression: None,
            per_fold: vec![0.7, 0.8, 0.9],
            calibration: Some(CalibrationReport {
                brier_uncalibrated: 0.03,
                brier: 0.02,
                expected_calibration_error: 0.01,
                bins: Vec::new(),
            }),
            per_mode: vec![ModeMetrics {
                mode: "HDF".into(),
                rows: 4,
                recall: 0.75,
                mode_accuracy: 1.0,
            }],
            roc_curve: Vec::new(),
            pr_curve: Vec::new(),
            residuals: Vec::new(),
            training_seconds: 1.5,
        };
        let metrics = metrics(&evaluation, 1234);
        let value = |key: &str| {
            metrics
                .iter()
                .find(|m| m.key == key)
                .map(|m| m.value)
                .unwrap_or_else(|| panic!("no metric {key}"))
        };
        assert_eq!(value("f1"), 0.8);
        assert_eq!(value("confusion_false_negatives"), 3.0);
        assert_eq!(value("hdf_recall"), 0.75);
        assert_eq!(value("training_seconds"), 1.5);
        assert_eq!(value("brier"), 0.02);
        assert_eq!(value("brier_uncalibrated"), 0.03);
        assert!(metrics.iter().all(|m| m.key != "roc_auc"));
        let folds: Vec<(i64, f64)> = metrics
            .iter()
            .filter(|m| m.key == "fold_f1")
            .map(|m| (m.step, m.value))
            .collect();
        assert_eq!(folds, vec![(0, 0.7), (1, 0.8), (2, 0.9)]);
        assert!(metrics.iter().all(|m| m.timestamp == 1234));
    }
}
