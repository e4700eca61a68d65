//! The MariaDB backend, shared by any number of replicas.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use super::url::redacted;

/// Connects lazily (the first query opens the first connection, so a database that starts
/// after the app is waited for, not a start-up error) with every session in UTC and strict
/// SQL: a value that does not fit is an error, never silently cut.
pub(super) fn connect(url: &str, max_connections: u32) -> anyhow::Result<AnyPool> {
    let options = AnyConnectOptions::from_str(url)
        .with_context(|| format!("Failed to parse DATABASE_URL {}", redacted(url)))?;
    Ok(AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query(
                    "SET time_zone = '+00:00', \
                     sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION', \
                     NAMES utf8mb4 COLLATE utf8mb4_nopad_bin",
                )
                .execute(&mut *connection)
                .await?;
                Ok(())
            })
        })
        .after_release(|connection, _| Box::pin(super::settled(connection)))
        .connect_lazy_with(options))
}
