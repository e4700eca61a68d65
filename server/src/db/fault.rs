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
                if let Some(error) = error.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    return mariadb_fault(error.number());
                }
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

/// MariaDB's server error numbers that waiting can fix. A lost connection is an I/O error.
fn mariadb_fault(number: u16) -> Option<StorageFault> {
    match number {
        // Lock wait timeout, deadlock, too many connections.
        1205 | 1213 | 1040 => Some(StorageFault::Busy),
        // Disk full, table full.
        1021 | 1114 => Some(StorageFault::Full),
        // --read-only, read-only transaction, the server in read-only mode.
        1290 | 1792 | 1836 => Some(StorageFault::ReadOnly),
        // Storage engine error, shutting down, connection killed, query interrupted.
        1030 | 1053 | 1927 | 1317 => Some(StorageFault::Failing),
        _ => None,
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
    fn mariadb_errors_are_told_by_their_number() {
        assert_eq!(mariadb_fault(1213), Some(StorageFault::Busy));
        assert_eq!(mariadb_fault(1021), Some(StorageFault::Full));
        assert_eq!(mariadb_fault(1290), Some(StorageFault::ReadOnly));
        // A duplicate key is the client's problem, whatever its SQLSTATE looks like.
        assert_eq!(mariadb_fault(1062), None);
    }

    #[test]
    fn errors_waiting_cannot_fix_are_not_faults() {
        assert_eq!(StorageFault::of(&sqlx::Error::RowNotFound), None);
        assert_eq!(StorageFault::of(&sqlx::Error::Protocol("bad".into())), None);
    }
}
