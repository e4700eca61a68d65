//! Storage: one pool, migrations, and a module per table family.
//!
//! Queries go through sqlx's `Any` driver with `?` placeholders and portable SQL, so the
//! MariaDB backend needs only its own migration files and connection set-up (`sqlite`,
//! `mariadb`), not different Rust code.

pub mod admin_sessions;
pub mod alarm_events;
pub mod alarm_outcomes;
pub mod alarms;
pub mod datasets;
mod fault;
pub mod leases;
pub mod machines;
pub mod maintenance;
mod mariadb;
pub mod model_versions;
pub mod predictions;
pub mod promotions;
pub mod readings;
pub mod rollups;
pub mod sign_in_attempts;
mod sqlite;
mod text;
pub mod tokens;
pub mod training_runs;
mod url;
pub mod users;
mod write_refusals;
pub mod writer_connection;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection};

pub use fault::StorageFault;
use url::{redacted, Backend};
use write_refusals::WriteRefusals;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static MARIADB_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/mysql");

/// The database behind the service.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// The URL with its password hidden, for messages.
    shown_as: String,
    /// SQLite's connections that stopped writing (see `write_refusals`).
    refusals: Option<WriteRefusals>,
    /// SQLite's database file, whose migrations one process applies at a time.
    sqlite_file: Option<PathBuf>,
}

/// Runs after each use of a connection: the ROLLBACK a transaction dropped without COMMIT
/// queued is run, and a connection still inside a transaction after it is closed, never
/// reused. That happens: SQLite rolls a transaction back on its own when the disk fills, sqlx's
/// ROLLBACK then fails and it goes on counting one open transaction, so the next BEGIN would
/// become a SAVEPOINT whose release commits nothing.
async fn settled(connection: &mut AnyConnection) -> sqlx::Result<bool> {
    if !connection.is_in_transaction() {
        return Ok(true);
    }
    connection.ping().await?;
    Ok(!connection.is_in_transaction())
}

impl Database {
    /// Connects to the database the URL names: `sqlite://PATH` or
    /// `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (MariaDB).
    #[tracing::instrument(name = "Connecting to the database", skip_all)]
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        match Backend::of(url) {
            Some(Backend::Sqlite) => {
                let opened = sqlite::connect(url, max_connections).await?;
                Ok(Database {
                    pool: opened.pool,
                    backend: Backend::Sqlite,
                    shown_as: redacted(url),
                    refusals: Some(opened.refusals),
                    sqlite_file: Some(opened.file),
                })
            }
            Some(Backend::MariaDb) => Ok(Database {
                pool: mariadb::connect(url, max_connections)?,
                backend: Backend::MariaDb,
                shown_as: redacted(url),
                refusals: None,
                sqlite_file: None,
            }),
            None => bail!(
                "DATABASE_URL {} is not supported: use sqlite://PATH or \
                 mysql://USER:PASSWORD@HOST:PORT/DATABASE",
                redacted(url)
            ),
        }
    }

    /// Waits until the database answers, trying again with growing pauses and saying what
    /// it waits for: a pod often starts before its database. SQLite answers at once or never.
    pub async fn wait_until_answering(&self, patience: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            match sqlx::query("SELECT 1").execute(&self.pool).await {
                Ok(_) => return Ok(()),
                Err(error)
                    if self.backend == Backend::MariaDb && start.elapsed() + pause < patience =>
                {
                    tracing::warn!(
                        database = %self.shown_as,
                        %error,
                        "waiting for the database to answer"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(error) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "the {} database at {} does not answer",
                        self.backend.name(),
                        self.shown_as
                    )))
                }
            }
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations.
    #[tracing::instrument(name = "Applying migrations", skip_all)]
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let _sqlite_turn = match &self.sqlite_file {
            Some(file) => Some(sqlite::migration_turn(file).await?),
            None => None,
        };
        let mut connection = self.pool.acquire().await?;
        // Replicas starting together take turns: sqlx's own migration lock does not hold
        // through the Any driver (a second replica failed while the first was migrating).
        if self.backend == Backend::MariaDb {
            let locked: Option<i64> =
                sqlx::query_scalar("SELECT GET_LOCK('icantkube_migrations', 300)")
                    .fetch_one(&mut *connection)
                    .await?;
            if locked != Some(1) {
                bail!("another replica held the migration lock for 5 minutes");
            }
        }
        let migrated = self
            .migrations()
            .run(&mut *connection)
            .await
            .context("Failed to apply database migrations");
        if self.backend == Backend::MariaDb {
            sqlx::query("SELECT RELEASE_LOCK('icantkube_migrations')")
                .execute(&mut *connection)
                .await?;
        }
        migrated
    }

    fn migrations(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::MariaDb => &MARIADB_MIGRATIONS,
        }
    }

    /// Whether the database answers and every migration this binary knows is applied.
    pub async fn is_ready(&self) -> anyhow::Result<bool> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await
                .context("Failed to read the migration table")?;
        Ok(applied as usize >= self.migrations().iter().count())
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
                if let Some(refusals) = &self.refusals {
                    refusals.note();
                }
                Err(fault)
            }
        }
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
