//! Work one replica does for the whole fleet: streaming the demo fleet and training its
//! models, rolling up readings for the charts, offering MLflow the runs it missed, and
//! following the training Jobs on Kubernetes. The replica holding the `background` lease
//! does it. It renews the lease every third of its lifetime and stops the work when it cannot.
//! It lets go of the lease when it stops, so another replica takes the work over at its next
//! try (within a third of a lifetime), or within one lifetime when the holder dies silently.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::db::{leases, Database};
use crate::domain::time::now_ms;

/// The lease's name in the `leases` table.
pub const LEASE: &str = "background";

/// Starts the work; answers its tasks, which are aborted when the lease is lost.
pub type StartWork =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<JoinHandle<()>>> + Send>> + Send + Sync>;

type Work = Arc<Mutex<Vec<JoinHandle<()>>>>;

/// The lease's keeper, running until `stop`.
pub struct Background {
    keeper: JoinHandle<()>,
    work: Work,
    db: Database,
    holder: String,
}

/// A name for this process among the replicas: the host (a pod's name), the process id and
/// a random part, so a restarted pod is a new holder.
pub fn holder_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "icantkube".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl Background {
    /// Tries to take the lease at once (a single replica has its demo fleet before it serves),
    /// then keeps trying every third of `lifetime`, running the work while it holds it.
    pub async fn keep(
        db: Database,
        holder: String,
        lifetime: Duration,
        start: StartWork,
    ) -> Background {
        let work = Work::default();
        let mut keeper = Keeper {
            db: db.clone(),
            holder: holder.clone(),
            lifetime,
            start,
            work: work.clone(),
            working: false,
            renewed_at: None,
        };
        keeper.round().await;
        let keeper = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lifetime / 3).await;
                keeper.round().await;
            }
        });
        Background {
            keeper,
            work,
            db,
            holder,
        }
    }

    /// Stops the work and lets go of the lease.
    pub async fn stop(self) {
        self.keeper.abort();
        abort(&self.work);
        if let Err(error) = leases::release(self.db.pool(), LEASE, &self.holder).await {
            tracing::warn!(%error, "the background lease was not released; it runs out instead");
        }
    }
}

fn abort(work: &Mutex<Vec<JoinHandle<()>>>) {
    for task in work.lock().expect("never poisoned").drain(..) {
        task.abort();
    }
}

struct Keeper {
    db: Database,
    holder: String,
    lifetime: Duration,
    start: StartWork,
    work: Work,
    working: bool,
    renewed_at: Option<Instant>,
}

impl Keeper {
    /// Takes or renews the lease, and starts or stops the work to match.
    async fn round(&mut self) {
        let now = now_ms();
        let lifetime_ms = i64::try_from(self.lifetime.as_millis()).unwrap_or(i64::MAX);
        let renewal =
            leases::take_or_renew(self.db.pool(), LEASE, &self.holder, now, now + lifetime_ms);
        let held = match renewal.await {
            Ok(true) => {
                self.renewed_at = Some(Instant::now());
                true
            }
            Ok(false) => false,
            Err(error) => {
                // The lease is still ours until it runs out; past that, another replica may
                // have taken it, and the work must stop.
                tracing::warn!(%error, "the background lease could not be renewed");
                self.renewed_at
                    .is_some_and(|at| at.elapsed() < self.lifetime)
            }
        };
        if held && !self.working {
            tracing::info!(holder = %self.holder, "this replica holds the background lease: it runs the fleet's background work");
            let started = (self.start)().await;
            self.work.lock().expect("never poisoned").extend(started);
            self.working = true;
        } else if !held && self.working {
            tracing::warn!(holder = %self.holder, "this replica lost the background lease: its background work stops");
            abort(&self.work);
            self.working = false;
            self.renewed_at = None;
        }
    }
}
