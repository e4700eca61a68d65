//! Training runs: queued → running (stage, progress 0–100) → completed, failed or cancelled.

use sqlx::{AnyPool, Row};

use app::model::RunState;

use crate::domain::time::now_ms;
use crate::domain::TrackingState;
use crate::error::{Error, Result};

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
    /// Promote the new version where it beats the active one.
    pub auto_promote: bool,
    /// `Pending` when MLflow is configured, else `Off`.
    pub tracking: TrackingState,
    /// The admin who started it.
    pub started_by: Option<&'a str>,
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
    #[sqlx(try_from = "crate::db::text::Text")]
    pub parameters: String,
    #[sqlx(try_from = "String")]
    pub state: RunState,
    pub stage: Option<String>,
    pub progress: i64,
    #[sqlx(try_from = "crate::db::text::OptionalText")]
    pub error: Option<String>,
    #[sqlx(try_from = "crate::db::text::OptionalText")]
    pub metrics: Option<String>,
    pub runner: Option<String>,
    /// 1: promote the new version where it beats the active one.
    pub auto_promote: i64,
    pub job_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub tracking: TrackingState,
    #[sqlx(try_from = "crate::db::text::OptionalText")]
    pub tracking_error: Option<String>,
    pub mlflow_experiment_id: Option<String>,
    pub mlflow_run_id: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub started_by: Option<String>,
    pub cancelled_by: Option<String>,
}

/// The columns of `TrainingRun`, in its order.
const COLUMNS: &str = "id, machine_id, dataset_id, profile, target, algorithm, parameters, \
    state, stage, progress, error, metrics, runner, auto_promote, job_name, tracking, \
    tracking_error, mlflow_experiment_id, mlflow_run_id, created_at, started_at, finished_at, \
    started_by, cancelled_by";

pub async fn insert(pool: &AnyPool, new: NewTrainingRun<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO training_runs (machine_id, dataset_id, profile, target, algorithm, \
         parameters, auto_promote, tracking, state, progress, created_at, started_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?) RETURNING id",
    )
    .bind(new.machine_id)
    .bind(new.dataset_id)
    .bind(new.profile)
    .bind(new.target)
    .bind(new.algorithm)
    .bind(new.parameters)
    .bind(i64::from(new.auto_promote))
    .bind(new.tracking.as_str())
    .bind(now_ms())
    .bind(new.started_by)
    .fetch_one(pool)
    .await?)
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<TrainingRun>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM training_runs WHERE id = ?"))
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The newest runs first.
pub async fn list(pool: &AnyPool, limit: i64) -> Result<Vec<TrainingRun>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM training_runs ORDER BY id DESC LIMIT ?"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Runs in a state, oldest first.
pub async fn in_state(pool: &AnyPool, state: RunState) -> Result<Vec<TrainingRun>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM training_runs WHERE state = ? ORDER BY id"
    ))
    .bind(state.as_str())
    .fetch_all(pool)
    .await?)
}

/// The Kubernetes Job that runs it.
pub async fn set_job_name(pool: &AnyPool, id: i64, job_name: &str) -> Result<()> {
    sqlx::query("UPDATE training_runs SET job_name = ? WHERE id = ?")
        .bind(job_name)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Marks a run failed unless it already ended (the worker may have recorded its own reason
/// before it died); answers whether it did.
pub async fn fail_unfinished(pool: &AnyPool, id: i64, reason: &str) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE training_runs SET state = 'failed', error = ?, finished_at = ? \
         WHERE id = ? AND state IN ('queued', 'running')",
    )
    .bind(reason)
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Cancels a queued or running run; answers whether it was still going.
pub async fn cancel(pool: &AnyPool, id: i64) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE training_runs SET state = 'cancelled', finished_at = ? \
         WHERE id = ? AND state IN ('queued', 'running')",
    )
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Notes who cancelled the run.
pub async fn cancelled_by(pool: &AnyPool, id: i64, user: &str) -> Result<()> {
    sqlx::query("UPDATE training_runs SET cancelled_by = ? WHERE id = ? AND state = 'cancelled'")
        .bind(user)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Where the run stands in MLflow.
#[derive(Debug, Clone)]
pub struct Tracking<'a> {
    pub state: TrackingState,
    pub error: Option<&'a str>,
    pub experiment_id: Option<&'a str>,
    pub mlflow_run_id: Option<&'a str>,
}

impl Tracking<'_> {
    /// The state alone, without an error or MLflow ids.
    pub fn only(state: TrackingState) -> Tracking<'static> {
        Tracking {
            state,
            error: None,
            experiment_id: None,
            mlflow_run_id: None,
        }
    }
}

/// Records the tracking state; ids already stored are kept when none is given.
pub async fn set_tracking(pool: &AnyPool, id: i64, tracking: Tracking<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE training_runs SET tracking = ?, tracking_error = ?, \
         mlflow_experiment_id = COALESCE(?, mlflow_experiment_id), \
         mlflow_run_id = COALESCE(?, mlflow_run_id) WHERE id = ?",
    )
    .bind(tracking.state.as_str())
    .bind(tracking.error)
    .bind(tracking.experiment_id)
    .bind(tracking.mlflow_run_id)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Finished runs whose tracking is still owed to MLflow (pending or failed), oldest first.
pub async fn untracked(pool: &AnyPool) -> Result<Vec<TrainingRun>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM training_runs \
         WHERE state IN ('completed', 'failed') AND tracking IN ('pending', 'failed') ORDER BY id"
    ))
    .fetch_all(pool)
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

/// Marks a run completed with its metrics and the algorithm it trained with (a run asked
/// for `auto` learns which one that was).
pub async fn complete(pool: &AnyPool, id: i64, metrics: &str, algorithm: &str) -> Result<()> {
    sqlx::query(
        "UPDATE training_runs SET state = 'completed', stage = 'done', progress = 100, \
         metrics = ?, algorithm = ?, finished_at = ? WHERE id = ?",
    )
    .bind(metrics)
    .bind(algorithm)
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

/// The runs in one state, and how long those that ended took, counted by the database: what
/// the metrics need, whatever the length of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsInState {
    pub state: RunState,
    pub runs: i64,
    /// Runs with a start and an end.
    pub timed: i64,
    pub total_ms: i64,
    /// For each bound given, the timed runs that took at most that long.
    pub within: Vec<i64>,
}

/// The runs by state, with their durations counted against `bounds_ms`.
pub async fn by_state(pool: &AnyPool, bounds_ms: &[i64]) -> Result<Vec<RunsInState>> {
    // MariaDB sums to DECIMAL, which the Any driver cannot decode: each sum is cast back.
    const TIMED: &str =
        "started_at IS NOT NULL AND finished_at IS NOT NULL AND finished_at >= started_at";
    let mut sql = format!(
        "SELECT state, COUNT(*), CAST(SUM(CASE WHEN {TIMED} THEN 1 ELSE 0 END) AS INTEGER), \
         CAST(SUM(CASE WHEN {TIMED} THEN finished_at - started_at ELSE 0 END) AS INTEGER)"
    );
    for _ in bounds_ms {
        sql += &format!(
            ", CAST(SUM(CASE WHEN {TIMED} AND finished_at - started_at <= ? THEN 1 ELSE 0 END) \
             AS INTEGER)"
        );
    }
    sql += " FROM training_runs GROUP BY state";
    let mut query = sqlx::query(&sql);
    for bound in bounds_ms {
        query = query.bind(*bound);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            Ok(RunsInState {
                state: RunState::try_from(row.try_get::<String, _>(0)?)
                    .map_err(|unknown| Error::Corrupt(unknown.to_string()))?,
                runs: row.try_get(1)?,
                timed: row.try_get(2)?,
                total_ms: row.try_get(3)?,
                within: (0..bounds_ms.len())
                    .map(|i| row.try_get::<i64, _>(4 + i))
                    .collect::<Result<Vec<i64>, sqlx::Error>>()?,
            })
        })
        .collect()
}
