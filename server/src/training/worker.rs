//! `icantkube train --run-id N`: what a local worker process or a Kubernetes Job runs. It
//! claims the queued run, reads its data set from the database, trains, reports stage and
//! progress there as it goes, registers the model as a new version, and records the metrics
//! or the reason it failed.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use tokio::sync::mpsc;

use super::column_roles;
use super::tracking::track;
use crate::configuration::TrackingSettings;
use crate::db::training_runs::{self, TrainingRun};
use crate::db::{datasets, model_versions, Database};
use crate::domain::TrackingState;
use crate::training::promotion::promote_where_better;
use ml::{self, Algorithm, Dataset, Hyperparameters, LoadOptions, Model, TrainOptions};

/// Progress is written at most this often (and at every stage change).
const REPORT_EVERY: Duration = Duration::from_millis(500);

/// Runs a training run to its end; the run is marked failed with the reason on any error.
/// With MLflow configured, the ended run is then tracked there; a tracking failure is recorded
/// in the run for a later retry and changes neither its outcome nor this function's answer.
pub async fn run(
    db: &Database,
    run_id: i64,
    runner: &str,
    tracking: Option<&TrackingSettings>,
) -> anyhow::Result<()> {
    let pool = db.pool();
    let run = training_runs::find(pool, run_id)
        .await?
        .ok_or_else(|| anyhow!("training run {run_id} does not exist"))?;
    training_runs::start(pool, run_id, runner).await?;
    if tracking.is_some() && run.tracking == TrackingState::Off {
        // Queued before MLflow was configured: owed to MLflow from now on.
        let pending = training_runs::Tracking::only(TrackingState::Pending);
        training_runs::set_tracking(pool, run_id, pending).await?;
    }
    let outcome = match train_run(db, &run).await {
        Ok(version) => {
            tracing::info!(run_id, version, "training run completed");
            Ok(())
        }
        Err(error) => {
            let reason = format!("{error:#}");
            training_runs::fail(pool, run_id, &reason).await?;
            Err(error)
        }
    };
    if let Some(settings) = tracking {
        match track(db, settings, run_id).await {
            Ok(()) => tracing::info!(run_id, "training run tracked in MLflow"),
            Err(error) => tracing::warn!(
                run_id,
                error = %format!("{error:#}"),
                "MLflow tracking failed; it is retried later"
            ),
        }
    }
    outcome
}

/// Trains and registers; answers the new version's number.
async fn train_run(db: &Database, run: &TrainingRun) -> anyhow::Result<i64> {
    let pool = db.pool();
    let dataset_id = run
        .dataset_id
        .ok_or_else(|| anyhow!("the run has no data set"))?;
    let stored = datasets::find(pool, dataset_id)
        .await?
        .ok_or_else(|| anyhow!("data set {dataset_id} no longer exists"))?;
    let options = LoadOptions {
        target: Some(run.target.clone()),
        roles: column_roles(&stored.column_roles)?,
        ..LoadOptions::default()
    };
    let algorithm = Algorithm::parse_choice(&run.algorithm)
        .ok_or_else(|| anyhow!("unknown algorithm {:?}", run.algorithm))?;
    let parameters: serde_json::Value =
        serde_json::from_str(&run.parameters).context("the run's parameters do not parse")?;

    let (sender, mut receiver) = mpsc::unbounded_channel::<(String, u8)>();
    let content = datasets::content(pool, dataset_id).await?;
    let training = tokio::task::spawn_blocking(move || -> anyhow::Result<Model> {
        let dataset = Dataset::load(&content, &options)?;
        let algorithm = algorithm.unwrap_or_else(|| Algorithm::for_profile(dataset.profile));
        let hyperparameters = merged(
            Hyperparameters::defaults(algorithm, dataset.is_classification()),
            parameters,
        )?;
        let train_options = TrainOptions {
            algorithm: Some(algorithm),
            hyperparameters: Some(hyperparameters),
            ..TrainOptions::default()
        };
        let mut last: Option<(String, Instant)> = None;
        let model = ml::train(&dataset, &train_options, &mut |stage: &str, percent: u8| {
            let due = last
                .as_ref()
                .is_none_or(|(s, at)| s != stage || at.elapsed() >= REPORT_EVERY);
            if due {
                let _ = sender.send((stage.to_string(), percent));
                last = Some((stage.to_string(), Instant::now()));
            }
        })?;
        Ok(model)
    });
    while let Some((stage, percent)) = receiver.recv().await {
        training_runs::report(pool, run.id, &stage, percent).await?;
    }
    let model = training.await.context("the training task panicked")??;

    let metrics = serde_json::to_string(&model.card.evaluation)?;
    let version = model_versions::insert(
        pool,
        model_versions::NewModelVersion {
            profile: &run.profile,
            machine_id: run.machine_id,
            training_run_id: Some(run.id),
            algorithm: model.card.algorithm.name(),
            metrics: metrics.clone(),
            threshold: model.card.threshold,
            artifact: model.to_bytes(),
        },
    )
    .await?;
    training_runs::complete(pool, run.id, &metrics, model.card.algorithm.name()).await?;
    if run.auto_promote != 0 {
        // The model is registered and the run complete whatever happens here.
        match promote_where_better(db, &model, version.id, run.id, run.machine_id, &run.profile)
            .await
        {
            Ok(machines) if !machines.is_empty() => {
                tracing::info!(
                    run_id = run.id,
                    ?machines,
                    "new version promoted where better"
                );
            }
            Ok(_) => tracing::info!(run_id = run.id, "the active versions stay: none was beaten"),
            Err(error) => tracing::error!(run_id = run.id, %error, "automatic promotion failed"),
        }
    }
    Ok(version.version)
}

/// The defaults with the run's own choices on top; an unknown or ill-typed name is an error.
fn merged(defaults: Hyperparameters, chosen: serde_json::Value) -> anyhow::Result<Hyperparameters> {
    let mut value = serde_json::to_value(defaults)?;
    let (Some(base), Some(chosen)) = (value.as_object_mut(), chosen.as_object()) else {
        return Err(anyhow!("the run's parameters must be a JSON object"));
    };
    for (name, setting) in chosen {
        if !base.contains_key(name) {
            return Err(anyhow!(
                "unknown hyperparameter {name:?}; known: {}",
                base.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        base.insert(name.clone(), setting.clone());
    }
    let parameters: Hyperparameters =
        serde_json::from_value(value).context("a hyperparameter has the wrong type")?;
    parameters.check().map_err(|e| anyhow!(e))?;
    Ok(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chosen_hyperparameters_override_the_defaults_and_unknown_ones_are_named() {
        let defaults = Hyperparameters::defaults(Algorithm::RandomForest, true);
        let merged = merged(defaults.clone(), json!({ "trees": 25 })).unwrap();
        assert_eq!(merged.trees, 25);
        assert_eq!(merged.max_depth, defaults.max_depth);
        let error = super::merged(defaults.clone(), json!({ "tres": 25 })).unwrap_err();
        assert!(error.to_string().contains("\"tres\""), "{error}");
        let error = super::merged(defaults, json!({ "trees": 0 })).unwrap_err();
        assert!(error.to_string().contains("trees"), "{error}");
    }
}
