//! Storage faults a client can wait out: a busy, full, read-only or failing database. They
//! answer 503 with `Retry-After`, not 500, and make the instance unready until a write works.

use std::fmt;
use std::time::Duration;

/// Why the database cannot take a write now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// Another writer held the lock past the busy timeout, or no connection was free.
    Busy,
    /// The disk (or the database's size limit) is full.
    Full,
    /// The file or its file system is read-only.
    ReadOnly,
    /// The file could not be read, written or opened.
    Failing,
}

impl StorageFault {
    /// The fault behind a database error, or `None` for errors waiting will not fix.
    pub fn of(error: &sqlx::Error) -> Option<StorageFault> {
        match error {
            sqlx::Error::PoolTimedOut => Some(StorageFault::Busy),
            sqlx::Error::Io(_) => Some(StorageFault::Failing),
            sqlx::Error::Database(error) => {
                let code: i64 = error.code()?.parse().ok()?;
                // SQLite's extended result codes carry the primary code in their low byte.
                match code & 0xff {
                    5 | 6 => Some(StorageFault::Busy),
                    8 => Some(StorageFault::ReadOnly),
                    13 => Some(StorageFault::Full),
                    10 | 14 => Some(StorageFault::Failing),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// How long a client should wait before trying again.
    pub fn retry_after(self) -> Duration {
        match self {
            StorageFault::Busy => Duration::from_secs(1),
            StorageFault::Full | StorageFault::ReadOnly | StorageFault::Failing => {
                Duration::from_secs(30)
            }
        }
    }
}

impl fmt::Display for StorageFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StorageFault::Busy => "busy",
            StorageFault::Full => "full",
            StorageFault::ReadOnly => "read-only",
            StorageFault::Failing => "failing",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_out_pool_is_busy_and_soon_worth_retrying() {
        let fault = StorageFault::of(&sqlx::Error::PoolTimedOut).unwrap();
        assert_eq!(fault, StorageFault::Busy);
        assert!(fault.retry_after() < StorageFault::Full.retry_after());
    }

    #[test]
    fn errors_waiting_cannot_fix_are_not_faults() {
        assert_eq!(StorageFault::of(&sqlx::Error::RowNotFound), None);
        assert_eq!(StorageFault::of(&sqlx::Error::Protocol("bad".into())), None);
    }
}
