//! Training runs from the web: where they run (a local child process or a Kubernetes Job,
//! behind one `Runner` interface), what the run process itself does (`worker`), a machine's
//! own history as a data set (`machine_history`), tracking in MLflow (`tracking` over the
//! `mlflow` client), and the promotion of a better model (`promotion`).

pub mod dataset_file;
pub mod kubernetes;
pub mod local;
pub mod machine_history;
pub mod mlflow;
pub mod promotion;
pub mod tracking;
pub mod worker;

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use tokio::task::JoinHandle;

use crate::configuration::{Settings, TrackingSettings, TrainingBackend};
use crate::db::{training_runs, Database};
use kubernetes::KubernetesRunner;
use local::{ChildProgram, LocalRunner, LocalSettings};

/// Why a runner could not start or stop a run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The local queue is full; the run stays queued and can be started again.
    #[error("the training queue is full ({0} runs waiting)")]
    QueueFull(usize),
    /// The runner cannot do its job at all (for example, missing Kubernetes permissions).
    #[error("{0}")]
    Unavailable(String),
    /// Cancelling a run that does not exist or has already ended.
    #[error("{0}")]
    NotCancellable(String),
    #[error(transparent)]
    Storage(#[from] crate::error::Error),
}

/// Starts and stops training runs. Each run is a separate process, `icantkube train --run-id N`,
/// which reports stage and progress in the database; the runner watches the process and marks
/// the run failed with the cause when it dies without saying why.
#[async_trait]
pub trait Runner: Send + Sync {
    /// What `training_runs.runner` and the pages call it: `local` or `kubernetes`.
    fn name(&self) -> &'static str;
    /// Hands a queued run over to be trained; returns once it is queued or started.
    async fn launch(&self, run_id: i64) -> Result<(), RunnerError>;
    /// Stops a queued or running run and marks it cancelled; a run that does not exist or has
    /// already ended is `NotCancellable`.
    async fn cancel(&self, run_id: i64) -> Result<(), RunnerError>;
    /// For the replica holding the background lease: follows what runs outside any one
    /// replica (Kubernetes Jobs) until the task is aborted; `None` when nothing does.
    fn follow_jobs(&self) -> Option<JoinHandle<()>> {
        None
    }
}

/// One entry of a data set's stored `column_roles`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ColumnRole {
    pub column: String,
    pub role: ml::dataset::Role,
}

/// A data set's stored column roles, as loading options take them.
pub fn column_roles(json: &str) -> anyhow::Result<Vec<(String, ml::dataset::Role)>> {
    let roles: Vec<ColumnRole> = serde_json::from_str(json)
        .map_err(|e| anyhow::anyhow!("the data set's column roles do not parse: {e}"))?;
    Ok(roles.into_iter().map(|r| (r.column, r.role)).collect())
}

/// Marks a queued or running run cancelled, or says why it cannot be: it does not exist, or it
/// has already ended. What every runner's `cancel` does first.
pub async fn mark_cancelled(db: &Database, run_id: i64) -> Result<(), RunnerError> {
    let pool = db.pool();
    if training_runs::cancel(pool, run_id).await? {
        return Ok(());
    }
    Err(RunnerError::NotCancellable(
        match training_runs::find(pool, run_id).await? {
            Some(run) => format!(
                "training run {run_id} has already ended ({})",
                run.state.as_str()
            ),
            None => format!("there is no training run {run_id}"),
        },
    ))
}

/// The runner the settings choose, started.
pub async fn start_runner(settings: &Settings, db: &Database) -> anyhow::Result<Arc<dyn Runner>> {
    match &settings.training.backend {
        TrainingBackend::Local => {
            let settings = LocalSettings {
                workers: settings.training.local_workers,
                program: child_program(settings)?,
            };
            Ok(Arc::new(LocalRunner::start(db.clone(), settings).await?))
        }
        TrainingBackend::Kubernetes(kubernetes) => {
            // Connecting checks the ServiceAccount's permissions: a missing one stops the
            // start with a message naming it, rather than failing every run later.
            // Its Jobs are followed by the replica holding the background lease.
            let runner = KubernetesRunner::connect((**kubernetes).clone(), db.clone()).await?;
            Ok(Arc::new(runner))
        }
    }
}

/// A training child process as the local runner and demo mode start it: this program (or the
/// one the settings name), on the same database, with MLflow's settings.
pub fn child_program(settings: &Settings) -> anyhow::Result<ChildProgram> {
    let executable = match &settings.training.local_executable {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .context("training in a child process needs this program's path")?,
    };
    Ok(ChildProgram {
        executable,
        database_url: settings.database_url.clone(),
        environment: tracking_environment(settings.tracking.as_ref()),
    })
}

/// MLflow's settings as the variables a training process reads.
fn tracking_environment(tracking: Option<&TrackingSettings>) -> Vec<(String, String)> {
    let Some(tracking) = tracking else {
        return Vec::new();
    };
    let mut environment = vec![("MLFLOW_TRACKING_URI".to_string(), tracking.uri.clone())];
    if let Some(user) = &tracking.username {
        environment.push(("MLFLOW_TRACKING_USERNAME".to_string(), user.clone()));
    }
    if let Some(password) = &tracking.password {
        environment.push((
            "MLFLOW_TRACKING_PASSWORD".to_string(),
            password.expose().to_string(),
        ));
    }
    environment
}
