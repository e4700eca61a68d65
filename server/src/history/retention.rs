//! Retention of raw readings: those older than the setting are deleted once the rollups hold
//! them, so a year of history costs its rollups, not its readings. Kept whatever their age:
//! labelled readings (training learns from them), and each machine's first readings of its
//! current run and its latest readings (`KEPT_RUN_ENDS` each: a run's series features read
//! them). A reading's prediction goes with it.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::{readings, rollups, Database};
use crate::domain::time::now_ms;
use crate::error::Result;
use crate::history::rollups::JOB as ROLLUP_JOB;

/// Readings kept at each end of a machine's current run: more than any model's window.
pub const KEPT_RUN_ENDS: usize = 1_000;
/// Readings deleted per transaction: short enough not to hold ingest back.
const STEP: usize = 5_000;

/// Deletes the readings the retention lets go of, recorded before `cutoff` (ms), keeping
/// `kept_ends` at each end; answers how many.
pub async fn prune(db: &Database, cutoff: i64, kept_ends: usize) -> Result<u64> {
    let pool = db.pool();
    let rolled_up = rollups::position(pool, ROLLUP_JOB).await?;
    let mut deleted = 0;
    for machine in readings::run_starts(pool).await? {
        let kept = readings::run_ends(pool, &machine, kept_ends).await?;
        loop {
            let ids = readings::expired(pool, &machine, &kept, cutoff, rolled_up, STEP).await?;
            if ids.is_empty() {
                break;
            }
            deleted += readings::delete(pool, machine.machine_id, &ids).await?;
            if ids.len() < STEP {
                break;
            }
        }
    }
    Ok(deleted)
}

/// Prunes every `every`, keeping readings for `retention`.
pub fn keep_pruning(db: Database, retention: Duration, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let retention = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        loop {
            match prune(&db, now_ms().saturating_sub(retention), KEPT_RUN_ENDS).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "raw readings past their retention deleted"),
                Err(error) => {
                    tracing::warn!(%error, "pruning raw readings failed; trying again later")
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}
