//! Group commit: batches from concurrent requests are written by one task, as many as are
//! waiting (up to `MAX_GROUP`) in one transaction, and each request is answered once that
//! transaction has committed. Each request taking SQLite's write lock for itself made the
//! others sleep in its busy handler: throughput stayed near 2,000 readings/s whatever the
//! number of clients, with a p99 of 445 ms at 8.

use tokio::sync::{mpsc, oneshot};

use super::batch::{stage_round, Ingested, Pending, Staged};
use super::scoring::{ActiveModel, ModelCache};
use crate::db::machines::Machine;
use crate::db::writer_connection::WriterConnection;
use crate::db::Database;
use crate::domain::NewReading;
use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// Batches written in one transaction, at most.
const MAX_GROUP: usize = 64;
/// Readings written in one transaction, about: large batches go in groups of their own, so
/// no request waits for much more than its own batch to be written.
const MAX_GROUP_READINGS: usize = 10_000;
/// Batches waiting for the writer, at most; further requests wait to queue.
const QUEUE: usize = 1024;

/// Stores batches of readings: the ingest API and demo mode write through it.
#[derive(Clone)]
pub struct Ingest {
    models: ModelCache,
    jobs: mpsc::Sender<Job>,
}

struct Job {
    machine: Machine,
    batch: Vec<NewReading>,
    active: Option<ActiveModel>,
    answer: oneshot::Sender<Result<Ingested>>,
}

impl Ingest {
    /// Starts the writer task; it ends when the last handle is dropped.
    /// With `announce_alarms`, the alarms its writes raise go to the webhook's outbox too.
    pub fn start(
        db: Database,
        models: ModelCache,
        metrics: Metrics,
        announce_alarms: bool,
    ) -> Ingest {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let connect = move || WriterConnection::new(db.clone(), announce_alarms);
        tokio::spawn(write_groups(connect, metrics, queue));
        Ingest { models, jobs }
    }

    /// Stores a validated batch for the machine and scores its new readings with the
    /// machine's active model; the readings and their predictions are durable when this
    /// returns, and counted in the metrics.
    #[tracing::instrument(name = "Ingesting readings", skip_all, fields(machine = %machine.name, count = batch.len()))]
    pub async fn store(&self, machine: &Machine, batch: Vec<NewReading>) -> Result<Ingested> {
        let active = self.models.for_machine(machine).await?;
        let (answer, answered) = oneshot::channel();
        let job = Job {
            machine: machine.clone(),
            batch,
            active,
            answer,
        };
        // The writer is gone only while the process stops: retry elsewhere, as when busy.
        let stopping = || Error::Database(sqlx::Error::PoolTimedOut);
        self.jobs.send(job).await.map_err(|_| stopping())?;
        answered.await.map_err(|_| stopping())?
    }
}

/// `connect` makes the writer's connection: at the start, and again after a panic.
async fn write_groups(
    connect: impl Fn() -> WriterConnection,
    metrics: Metrics,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut waiting = Vec::with_capacity(MAX_GROUP);
    let mut connection = None;
    while queue.recv_many(&mut waiting, MAX_GROUP).await > 0 {
        let mut group = Vec::new();
        let mut readings = 0;
        for job in waiting.drain(..) {
            if !group.is_empty() && readings + job.batch.len() > MAX_GROUP_READINGS {
                let kept = connection.take().unwrap_or_else(&connect);
                connection = write_apart(kept, &metrics, std::mem::take(&mut group)).await;
                readings = 0;
            }
            readings += job.batch.len();
            group.push(job);
        }
        let kept = connection.take().unwrap_or_else(&connect);
        connection = write_apart(kept, &metrics, group).await;
    }
}

/// Writes a group in a task of its own: a panic there fails that group's requests (their
/// answers are dropped) instead of stopping the writer for every later one. Answers the
/// connection to keep, none after a panic.
async fn write_apart(
    mut connection: WriterConnection,
    metrics: &Metrics,
    group: Vec<Job>,
) -> Option<WriterConnection> {
    let metrics = metrics.clone();
    let written = tokio::spawn(async move {
        write_group(&mut connection, &metrics, group).await;
        connection
    });
    match written.await {
        Ok(connection) => Some(connection),
        Err(error) => {
            tracing::error!(%error, "writing a group of batches panicked");
            None
        }
    }
}

/// Writes the group in one transaction; when that fails, each batch again in its own, so a
/// batch that cannot be stored fails alone and every request gets its own answer.
async fn write_group(connection: &mut WriterConnection, metrics: &Metrics, group: Vec<Job>) {
    if group.len() > 1 {
        match stage_together(connection, metrics, &group).await {
            Ok(staged) => {
                for (job, staged) in group.into_iter().zip(staged) {
                    // A request that stopped waiting is stored all the same.
                    let _ = job.answer.send(Ok(staged.committed(metrics)));
                }
                return;
            }
            Err(error) => {
                tracing::debug!(%error, batches = group.len(), "a group was not written: writing its batches one by one");
            }
        }
    }
    for job in group {
        let written = stage_together(connection, metrics, std::slice::from_ref(&job))
            .await
            .map(|mut staged| staged.remove(0).committed(metrics));
        let _ = job.answer.send(written);
    }
}

/// Writes the jobs in one transaction, in rounds of one batch per machine (a machine's batches
/// in the order they came), so each round's statements serve all its machines at once. A
/// failure gives the connection back to the pool, which checks it.
async fn stage_together(
    connection: &mut WriterConnection,
    metrics: &Metrics,
    jobs: &[Job],
) -> Result<Vec<Staged>> {
    let staged = stage_in_rounds(connection, metrics, jobs).await;
    if staged.is_err() {
        connection.discard();
    }
    staged
}

async fn stage_in_rounds(
    connection: &mut WriterConnection,
    metrics: &Metrics,
    jobs: &[Job],
) -> Result<Vec<Staged>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        let after = rounds
            .iter()
            .rposition(|round| round.iter().any(|&j| jobs[j].machine.id == job.machine.id))
            .map_or(0, |last| last + 1);
        match rounds.get_mut(after) {
            Some(round) => round.push(index),
            None => rounds.push(vec![index]),
        }
    }
    let mut tx = connection.begin().await?;
    let mut staged: Vec<Option<Staged>> = jobs.iter().map(|_| None).collect();
    for round in rounds {
        let pending: Vec<Pending<'_>> = round
            .iter()
            .map(|&j| Pending {
                machine: &jobs[j].machine,
                batch: &jobs[j].batch,
                active: jobs[j].active.as_ref(),
            })
            .collect();
        for (j, done) in round
            .iter()
            .zip(stage_round(&mut tx, metrics, &pending).await?)
        {
            staged[*j] = Some(done);
        }
    }
    tx.commit().await?;
    Ok(staged
        .into_iter()
        .map(|done| done.expect("every job is in a round"))
        .collect())
}
