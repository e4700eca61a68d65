//! Connections that stop writing for good. SQLite opens a file it may not write read-only,
//! silently, and a connection that met an I/O error can go on refusing writes after the file
//! is writable again. Once the database refuses a write, every connection opened until then
//! is closed instead of reused, so the pool recovers with the file instead of at a restart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Executor};

use super::sqlite::BUSY_TIMEOUT_MS;
use super::StorageFault;

#[derive(Debug, Clone)]
pub(super) struct WriteRefusals {
    start: Instant,
    /// When a write was last refused, in microseconds after `start`; 0: never.
    last: Arc<AtomicU64>,
}

impl WriteRefusals {
    pub(super) fn new() -> WriteRefusals {
        WriteRefusals {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Notes that the database refused a write now.
    pub(super) fn note(&self) {
        self.last
            .store(self.micros_since_start(), Ordering::Relaxed);
    }

    /// Whether a connection of this age was opened no later than the last refusal.
    pub(super) fn outdated(&self, age: Duration) -> bool {
        let last = self.last.load(Ordering::Relaxed);
        last != 0
            && self
                .micros_since_start()
                .saturating_sub(duration_micros(age))
                <= last
    }

    /// Whether the connection can write, found by a write that changes nothing, tried
    /// without waiting for the lock: a writer holding it proves the file writable. A refusal
    /// is noted.
    pub(super) async fn can_write(&self, connection: &mut AnyConnection) -> sqlx::Result<bool> {
        connection.execute("PRAGMA busy_timeout = 0").await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *connection)
            .await?;
        let write = connection
            .execute(format!("PRAGMA user_version = {version}").as_str())
            .await;
        connection
            .execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str())
            .await?;
        match write {
            Ok(_) => Ok(true),
            Err(error) => match StorageFault::of(&error) {
                Some(StorageFault::Busy) => Ok(true),
                Some(fault) => {
                    tracing::warn!(%error, "storage {fault}: a connection cannot write");
                    self.note();
                    Ok(false)
                }
                None => Err(error),
            },
        }
    }

    fn micros_since_start(&self) -> u64 {
        duration_micros(self.start.elapsed()).max(1)
    }
}

fn duration_micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_opened_before_a_refusal_are_outdated_and_later_ones_are_not() {
        let refusals = WriteRefusals::new();
        let old = Duration::from_secs(3600);
        assert!(!refusals.outdated(old), "nothing was refused yet");
        std::thread::sleep(Duration::from_millis(5));
        refusals.note();
        assert!(refusals.outdated(old));
        assert!(refusals.outdated(Duration::from_millis(2)));
        std::thread::sleep(Duration::from_millis(5));
        assert!(!refusals.outdated(Duration::from_millis(1)));
    }
}
