//! The `local` runner: a bounded queue served by a few workers, each run a child process
//! `icantkube train --run-id N` on this machine.
//!
//! A separate process keeps a crashing or memory-hungry training away from the web server, and
//! is the same program a Kubernetes Job runs. Demo mode starts its training the same way
//! (`ChildProgram`).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use app::model::RunState;
use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Runner, RunnerError};
use crate::db::{training_runs, Database};

/// Lines of the child's log kept for the failure reason.
const LOG_TAIL_LINES: usize = 12;
/// Runs that may wait in the queue.
const QUEUE_CAPACITY: usize = 64;

/// How the local runner works.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    /// Runs trained at the same time.
    pub workers: usize,
    /// What each run's child process is.
    pub program: ChildProgram,
}

/// How a training child process is started: this program, on the same database.
#[derive(Debug, Clone)]
pub struct ChildProgram {
    /// The `icantkube` binary (normally this very program).
    pub executable: PathBuf,
    /// Passed to the child, which opens the same database.
    pub database_url: String,
    /// Environment for the child on top of this process' own (the MLflow settings).
    pub environment: Vec<(String, String)>,
}

impl ChildProgram {
    /// Starts `icantkube ARGS...`, its stdout discarded and the last lines of its log (stderr)
    /// kept for the reason it failed. The process is killed when the answer is dropped, so an
    /// aborted task (a cancelled run, a server stopping) leaves no training behind.
    pub fn spawn(&self, args: &[&str]) -> std::io::Result<ChildProcess> {
        let mut child = Command::new(&self.executable)
            .args(args)
            // In the environment, not on the command line: every user of the machine can read a
            // process's arguments, and a MariaDB URL carries a password.
            .envs(self.environment.iter().cloned())
            .env("DATABASE_URL", &self.database_url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
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
        Ok(ChildProcess { child, tail, log })
    }
}

/// A training child process, killed when dropped.
pub struct ChildProcess {
    child: Child,
    tail: Arc<Mutex<VecDeque<String>>>,
    log: Option<JoinHandle<()>>,
}

impl ChildProcess {
    /// Its process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits until it exits and its log is read to the end.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        if let Some(log) = self.log.take() {
            let _ = log.await;
        }
        Ok(status)
    }

    /// Kills it and waits for it; one that has already exited is left as it is.
    pub async fn kill(&mut self) -> std::io::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        self.child.kill().await
    }

    /// How it ended, in words, with the last lines of its log.
    pub fn reason(&self, status: ExitStatus) -> String {
        let tail: Vec<String> = self
            .tail
            .lock()
            .expect("log lock")
            .iter()
            .cloned()
            .collect();
        format!("{}; last log lines:\n{}", describe(status), tail.join("\n"))
    }
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
    let mut child = settings.program.spawn(&[
        "train",
        "--run-id",
        &run_id.to_string(),
        "--runner",
        "local",
    ])?;
    let (stop, stopped) = oneshot::channel();
    runner
        .running
        .lock()
        .expect("running lock")
        .insert(run_id, stop);
    let status = tokio::select! {
        status = child.wait() => Some(status?),
        _ = stopped => {
            child.kill().await?;
            None
        }
    };
    runner.running.lock().expect("running lock").remove(&run_id);
    let Some(status) = status else {
        tracing::info!(run_id, "local training run cancelled");
        return Ok(());
    };
    let reason = child.reason(status);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> ChildProgram {
        ChildProgram {
            executable: "/bin/sh".into(),
            database_url: "sqlite://unused.db".into(),
            environment: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_failed_childs_reason_names_its_exit_status_and_its_last_log_lines() {
        let mut child = shell()
            .spawn(&["-c", "echo starting >&2; echo out of luck >&2; exit 3"])
            .unwrap();
        let status = child.wait().await.unwrap();
        let reason = child.reason(status);
        assert!(
            reason.starts_with("the training process exited with status 3"),
            "{reason}"
        );
        assert!(reason.ends_with("starting\nout of luck"), "{reason}");
    }

    #[tokio::test]
    async fn a_child_is_killed_when_its_handle_is_dropped() {
        let child = shell().spawn(&["-c", "exec sleep 60"]).unwrap();
        let id = child.id().unwrap();
        drop(child);
        // Killed, it is gone, or a zombie until the runtime reaps it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let state = std::fs::read_to_string(format!("/proc/{id}/stat"))
                .map(|stat| stat.rsplit(')').next().unwrap_or("").trim().to_string());
            match state {
                Err(_) => break,
                Ok(state) if state.starts_with('Z') => break,
                Ok(state) => assert!(
                    std::time::Instant::now() < deadline,
                    "process {id} still runs: {state}"
                ),
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
