//! The `local` runner: a bounded queue served by a few workers, each run a child process
//! `icantkube train --run-id N` on this machine.
//!
//! A separate process keeps a crashing or memory-hungry training away from the web server, and
//! is the same program a Kubernetes Job runs.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use app::model::RunState;
use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};

use super::{Runner, RunnerError};
use crate::db::{training_runs, Database};

/// Lines of the child's log kept for the failure reason.
const LOG_TAIL_LINES: usize = 12;
/// Runs that may wait in the queue.
const QUEUE_CAPACITY: usize = 64;

/// How the child process is started.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    /// Runs trained at the same time.
    pub workers: usize,
    /// The `icantkube` binary (normally this very program).
    pub executable: PathBuf,
    /// Passed to the child, which opens the same database.
    pub database_url: String,
    /// Environment for the child on top of this process' own (the MLflow settings).
    pub environment: Vec<(String, String)>,
}

/// Trains queued runs in child processes.
#[derive(Clone)]
pub struct LocalRunner {
    db: Database,
    queue: mpsc::Sender<i64>,
    /// The way to stop each run that is training now.
    running: Arc<Mutex<HashMap<i64, oneshot::Sender<()>>>>,
}

impl LocalRunner {
    /// Starts the workers. Runs left `running` by an earlier process of this server cannot be
    /// finished (their child died with it): they are marked failed; queued ones are queued again.
    pub async fn start(db: Database, settings: LocalSettings) -> Result<LocalRunner, RunnerError> {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let runner = LocalRunner {
            db: db.clone(),
            queue,
            running: Arc::default(),
        };
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let settings = Arc::new(settings);
        for _ in 0..settings.workers.max(1) {
            tokio::spawn(worker(runner.clone(), receiver.clone(), settings.clone()));
        }
        let pool = db.pool();
        for run in training_runs::in_state(pool, RunState::Running).await? {
            if run.runner.as_deref() == Some("local") {
                training_runs::fail_unfinished(
                    pool,
                    run.id,
                    "the server stopped while this run was training; start it again",
                )
                .await?;
            }
        }
        for run in training_runs::in_state(pool, RunState::Queued).await? {
            runner.launch(run.id).await?;
        }
        Ok(runner)
    }
}

#[async_trait]
impl Runner for LocalRunner {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn launch(&self, run_id: i64) -> Result<(), RunnerError> {
        self.queue.try_send(run_id).map_err(|_| {
            RunnerError::QueueFull(QUEUE_CAPACITY - self.queue.capacity().min(QUEUE_CAPACITY))
        })
    }

    async fn cancel(&self, run_id: i64) -> Result<(), RunnerError> {
        super::mark_cancelled(&self.db, run_id).await?;
        // A queued run is skipped by the worker that takes it, as it is no longer queued.
        if let Some(stop) = self.running.lock().expect("running lock").remove(&run_id) {
            let _ = stop.send(());
        }
        Ok(())
    }
}

async fn worker(
    runner: LocalRunner,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<i64>>>,
    settings: Arc<LocalSettings>,
) {
    loop {
        let Some(run_id) = queue.lock().await.recv().await else {
            return;
        };
        if let Err(error) = train(&runner, &settings, run_id).await {
            tracing::error!(run_id, error = %error, "local training run could not be carried out");
            let reason = format!("the local worker could not run it: {error}");
            let _ = training_runs::fail_unfinished(runner.db.pool(), run_id, &reason).await;
        }
    }
}

/// Runs one training run's child process to its end and records what the child could not.
async fn train(runner: &LocalRunner, settings: &LocalSettings, run_id: i64) -> anyhow::Result<()> {
    let pool = runner.db.pool();
    match training_runs::find(pool, run_id).await? {
        Some(run) if run.state == RunState::Queued => {}
        // Cancelled (or taken by someone else) while it waited.
        _ => return Ok(()),
    }
    let mut child = Command::new(&settings.executable)
        .args([
            "train",
            "--run-id",
            &run_id.to_string(),
            "--runner",
            "local",
        ])
        // In the environment, not on the command line: every user of the machine can read a
        // process's arguments, and a MariaDB URL carries a password.
        .envs(settings.environment.iter().cloned())
        .env("DATABASE_URL", &settings.database_url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (stop, stopped) = oneshot::channel();
    runner
        .running
        .lock()
        .expect("running lock")
        .insert(run_id, stop);
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL_LINES)));
    let log = child.stderr.take().map(|stderr| {
        let tail = tail.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut tail = tail.lock().expect("log lock");
                if tail.len() == LOG_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        })
    });
    let status = tokio::select! {
        status = child.wait() => Some(status?),
        _ = stopped => {
            child.kill().await?;
            None
        }
    };
    runner.running.lock().expect("running lock").remove(&run_id);
    if let Some(log) = log {
        let _ = log.await;
    }
    let Some(status) = status else {
        tracing::info!(run_id, "local training run cancelled");
        return Ok(());
    };
    let tail: Vec<String> = tail.lock().expect("log lock").iter().cloned().collect();
    let reason = format!("{}; last log lines:\n{}", describe(status), tail.join("\n"));
    if training_runs::fail_unfinished(pool, run_id, &reason).await? {
        tracing::warn!(run_id, %reason, "local training run died");
    }
    Ok(())
}

/// How the child ended, in words.
fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("the training process was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(0) => "the training process exited without finishing the run".to_string(),
        Some(code) => format!("the training process exited with status {code}"),
        None => "the training process ended abnormally".to_string(),
    }
}
