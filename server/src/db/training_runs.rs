//! Training runs: queued → running (stage, progress 0–100) → completed, failed or cancelled.

use sqlx::AnyPool;

use crate::error::{Error, Result};
use crate::time::now_ms;

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct NewTrainingRun<'a> {
    pub machine_id: Option<i64>,
    pub dataset_id: Option<i64>,
    pub profile: &'a str,
    pub target: &'a str,
    pub algorithm: &'a str,
    /// JSON object of hyperparameters; missing ones take the defaults.
    pub parameters: String,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TrainingRun {
    pub id: i64,
    pub machine_id: Option<i64>,
    pub dataset_id: Option<i64>,
    pub profile: String,
    pub target: String,
    pub algorithm: String,
    pub parameters: String,
    pub state: String,
    pub stage: Option<String>,
    pub progress: i64,
    pub error: Option<String>,
    pub metrics: Option<String>,
    pub runner: Option<String>,
}

pub async fn insert(pool: &AnyPool, new: NewTrainingRun<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO training_runs (machine_id, dataset_id, profile, target, algorithm, \
         parameters, state, progress, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?) \
         RETURNING id",
    )
    .bind(new.machine_id)
    .bind(new.dataset_id)
    .bind(new.profile)
    .bind(new.target)
    .bind(new.algorithm)
    .bind(new.parameters)
    .bind(now_ms())
    .fetch_one(pool)
    .await?)
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<TrainingRun>> {
    Ok(sqlx::query_as(
        "SELECT id, machine_id, dataset_id, profile, target, algorithm, parameters, state, \
         stage, progress, error, metrics, runner FROM training_runs WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Claims a queued run for this runner; a run in any other state is refused, so two workers
/// never train the same run.
pub async fn start(pool: &AnyPool, id: i64, runner: &str) -> Result<()> {
    let claimed = sqlx::query(
        "UPDATE training_runs SET state = 'running', runner = ?, started_at = ?, \
         stage = 'starting', progress = 0 WHERE id = ? AND state = 'queued'",
    )
    .bind(runner)
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?;
    if claimed.rows_affected() == 1 {
        Ok(())
    } else {
        Err(Error::Conflict(format!("training run {id} is not queued")))
    }
}

/// The run's stage and overall progress.
pub async fn report(pool: &AnyPool, id: i64, stage: &str, progress: u8) -> Result<()> {
    sqlx::query(
        "UPDATE training_runs SET stage = ?, progress = ? WHERE id = ? AND state = 'running'",
    )
    .bind(stage)
    .bind(i64::from(progress.min(100)))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn complete(pool: &AnyPool, id: i64, metrics: &str) -> Result<()> {
    sqlx::query(
        "UPDATE training_runs SET state = 'completed', stage = 'done', progress = 100, \
         metrics = ?, finished_at = ? WHERE id = ?",
    )
    .bind(metrics)
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn fail(pool: &AnyPool, id: i64, reason: &str) -> Result<()> {
    sqlx::query(
        "UPDATE training_runs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
    )
    .bind(reason)
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}
