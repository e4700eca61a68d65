//! The SQLite backend: one file, the embedded default.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

use super::write_refusals::WriteRefusals;

/// How long a write waits for another writer's lock before giving up as busy.
pub(super) const BUSY_TIMEOUT_MS: u64 = 10_000;

/// An open SQLite database.
pub(super) struct Opened {
    pub pool: AnyPool,
    pub refusals: WriteRefusals,
    /// The database file.
    pub file: PathBuf,
}

/// Connects (creating the file and its folder when missing) and configures each
/// connection: WAL so readers never wait for the writer, foreign keys enforced, and a busy
/// timeout so concurrent writers queue instead of failing.
pub(super) async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Opened> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .expect("a sqlite URL");
    let file = path.split('?').next().unwrap_or_default();
    if file.is_empty() || file == ":memory:" {
        bail!("DATABASE_URL {url:?}: give a file path, data must survive a restart");
    }
    if let Some(folder) = Path::new(file)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("Failed to create the folder {}", folder.display()))?;
    }
    let url = if path.contains("mode=") {
        url.to_string()
    } else if path.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    };
    let options = AnyConnectOptions::from_str(&url)
        .with_context(|| format!("Failed to parse DATABASE_URL {url:?}"))?;
    let refusals = WriteRefusals::new();
    let (connected, acquired, released) = (refusals.clone(), refusals.clone(), refusals.clone());
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A file does not drop a connection as a network does: the ping before each acquire
        // was a round trip to the connection's thread for nothing.
        .test_before_acquire(false)
        .after_connect(move |connection, _| {
            let refusals = connected.clone();
            Box::pin(async move {
                // A connection opened read-only is kept only for the request that asked
                // for it: the refusal it notes makes it outdated.
                refusals.can_write(connection).await?;
                // NORMAL is durable against a crash of the process (what a 2xx promises)
                // in WAL mode; only a power loss could lose the last commits.
                connection
                    .execute(
                        format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"
                        )
                        .as_str(),
                    )
                    .await?;
                Ok(())
            })
        })
        .before_acquire(move |_, metadata| {
            let outdated = acquired.outdated(metadata.age);
            Box::pin(async move { Ok(!outdated) })
        })
        .after_release(move |connection, metadata| {
            let refusals = released.clone();
            Box::pin(async move {
                if refusals.outdated(metadata.age) {
                    return Ok(false);
                }
                let had_transaction = connection.is_in_transaction();
                if !super::settled(connection).await? {
                    return Ok(false);
                }
                if !had_transaction {
                    return Ok(true);
                }
                // A failed transaction may have failed because this connection can no longer
                // write: it is closed then, with every older one.
                refusals.can_write(connection).await
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("Failed to open the database at {file}"))?;
    Ok(Opened {
        pool,
        refusals,
        file: PathBuf::from(file),
    })
}

/// Waits for this file's migration turn, held until the returned file is dropped. sqlx
/// takes no lock for SQLite, so two processes starting together on a fresh file both
/// applied the first migration and one failed; a lock on a file beside the database makes
/// the second wait and then find nothing left to apply.
pub(super) async fn migration_turn(database: &Path) -> anyhow::Result<File> {
    let mut name = database.as_os_str().to_owned();
    name.push(".migrations.lock");
    let path = PathBuf::from(name);
    tokio::task::spawn_blocking(move || {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("Failed to open the migration lock {}", path.display()))?;
        file.lock()
            .with_context(|| format!("Failed to lock {}", path.display()))?;
        Ok(file)
    })
    .await?
}
