//! The SQLite backend: one file, the embedded default.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

use super::write_refusals::WriteRefusals;

/// How long a write waits for another writer's lock before giving up as busy.
pub(super) const BUSY_TIMEOUT_MS: u64 = 10_000;

/// Connects (creating the file and its folder when missing) and configures each
/// connection: WAL so readers never wait for the writer, foreign keys enforced, and a busy
/// timeout so concurrent writers queue instead of failing.
pub(super) async fn connect(
    url: &str,
    max_connections: u32,
) -> anyhow::Result<(AnyPool, WriteRefusals)> {
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
    Ok((pool, refusals))
}
