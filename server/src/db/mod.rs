//! Storage: one pool, migrations, and a module per table family.
//!
//! Queries go through sqlx's `Any` driver with `?` placeholders and portable SQL, so the
//! MariaDB backend needs only its own migration files, not different Rust code.

pub mod admin_sessions;
pub mod datasets;
mod fault;
pub mod machines;
pub mod model_versions;
pub mod predictions;
pub mod promotions;
pub mod readings;
pub mod tokens;
pub mod training_runs;
mod write_refusals;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};

pub use fault::StorageFault;
use write_refusals::WriteRefusals;

/// How long a write waits for another writer's lock before giving up as busy.
const BUSY_TIMEOUT_MS: u64 = 10_000;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The database behind the service.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    refusals: WriteRefusals,
}

impl Database {
    /// Connects (creating a SQLite file and its folder when missing) and configures each
    /// connection: WAL so readers never wait for the writer, foreign keys enforced, and a busy
    /// timeout so concurrent writers queue instead of failing.
    #[tracing::instrument(name = "Connecting to the database", skip_all)]
    pub async fn connect(url: &str) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        else {
            bail!("DATABASE_URL {url:?} is not supported: use sqlite://PATH");
        };
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
        let (connected, acquired, released) =
            (refusals.clone(), refusals.clone(), refusals.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(8)
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
                    // A connection still inside a transaction once its rollback has run is
                    // out of step with the database: after SQLite rolls a transaction back on
                    // its own (a full disk), sqlx's ROLLBACK fails and it goes on counting one
                    // open transaction, so the next BEGIN becomes a SAVEPOINT whose release
                    // commits nothing. Such a connection is closed, never reused.
                    if !connection.is_in_transaction() {
                        return Ok(true);
                    }
                    // A transaction dropped without COMMIT has its ROLLBACK queued: run it.
                    connection.ping().await?;
                    // A failed transaction may have failed because this connection can no
                    // longer write: it is closed then, with every older one.
                    Ok(!connection.is_in_transaction() && refusals.can_write(connection).await?)
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("Failed to open the database at {file}"))?;
        Ok(Database { pool, refusals })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations.
    #[tracing::instrument(name = "Applying migrations", skip_all)]
    pub async fn migrate(&self) -> anyhow::Result<()> {
        SQLITE_MIGRATIONS
            .run(&self.pool)
            .await
            .context("Failed to apply database migrations")
    }

    /// Whether the database answers and every migration this binary knows is applied.
    pub async fn is_ready(&self) -> anyhow::Result<bool> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await
                .context("Failed to read the migration table")?;
        Ok(applied as usize >= SQLITE_MIGRATIONS.iter().count())
    }

    /// Whether the database takes a write now: readiness rewrites one row, so an instance
    /// on a full, read-only or failing disk leaves the load balancer until writes work again.
    /// A write that waits for the lock longer than `patience` counts as taken: the database
    /// is busy, not broken.
    pub async fn takes_writes(&self, patience: Duration) -> Result<(), StorageFault> {
        let probe = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("UPDATE write_probe SET checked_at = ? WHERE id = 1")
                .bind(crate::domain::time::now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        match tokio::time::timeout(patience, probe).await {
            Err(_) | Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                tracing::warn!(%error, "the database refused the readiness write");
                let fault = match StorageFault::of(&error) {
                    Some(StorageFault::Busy) => return Ok(()),
                    Some(fault) => fault,
                    None => StorageFault::Failing,
                };
                self.refusals.note();
                Err(fault)
            }
        }
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
