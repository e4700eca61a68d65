//! Alarms that clear themselves: the replica holding the background lease clears, every
//! `every`, the alarms whose machine is healthy and has had no warning or critical prediction
//! for the healthy period (`ICANTKUBE_ALARM_CLEAR_AFTER`). With the alarm raised once per
//! episode (`db::alarms::record`), that period is the hysteresis: a machine hovering at a
//! threshold keeps one alarm instead of raising one per crossing.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::db::{alarms, Database};

pub mod webhook;

/// Clears recovered machines' alarms every `every`, announcing each with `announce`.
pub fn keep_clearing(
    db: Database,
    healthy_for: Duration,
    every: Duration,
    announce: bool,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let healthy_for = i64::try_from(healthy_for.as_millis()).unwrap_or(i64::MAX);
        loop {
            match alarms::clear_recovered(db.pool(), healthy_for, announce).await {
                Ok(0) => {}
                Ok(cleared) => tracing::info!(cleared, "alarms of recovered machines cleared"),
                Err(error) => {
                    tracing::warn!(%error, "clearing recovered alarms failed; trying again later")
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}
