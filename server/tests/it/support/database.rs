//! A fresh, migrated database per test (a SQLite file, or a database of its own on the
//! MariaDB server the test command starts), and builders for the rows tests start from: a
//! machine, a stored data set and a queued training run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use icantkube::db::machines::{self, Machine, NewMachine};
use icantkube::db::training_runs::{self, TrainingRun};
use icantkube::db::{datasets, Database};
use icantkube::domain::profiles::Profile;
use icantkube::domain::{MachineName, TrackingState};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection, Executor};
use tempfile::TempDir;

/// When set to a MariaDB server's URL (`mysql://USER:PASSWORD@HOST:PORT[?OPTIONS]`), every test that
/// does not choose its own database runs on a fresh database of that server instead of a
/// SQLite file. The test command sets it for its MariaDB pass.
pub const MARIADB_SERVER: &str = "ICANTKUBE_TEST_MARIADB";

/// Connections a test server's pool keeps at most.
pub const MAX_CONNECTIONS: u32 = 10;

pub fn mariadb_server() -> Option<String> {
    std::env::var(MARIADB_SERVER).ok().filter(|s| !s.is_empty())
}

/// The URL of a fresh, empty database for one test: a SQLite file in `folder`, or a new
/// database on the MariaDB server.
pub async fn fresh_url(folder: &Path) -> String {
    let Some(server) = mariadb_server() else {
        return format!("sqlite://{}", folder.join("test.db").display());
    };
    static CREATED: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "it_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros(),
        CREATED.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let mut connection = AnyConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("{MARIADB_SERVER}: cannot connect: {e}"));
    connection
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    connection.close().await.unwrap();
    // The database goes in the URL's path, before its options.
    let (address, options) = server.split_once('?').unwrap_or((&server, ""));
    let options = if options.is_empty() {
        String::new()
    } else {
        format!("?{options}")
    };
    format!("{}/{name}{options}", address.trim_end_matches('/'))
}

/// A migrated database of its own, removed with it (a SQLite file; a MariaDB database goes
/// with the test command's server).
pub struct TestDatabase {
    pub db: Database,
    /// For a server or a worker process to open the same database.
    pub url: String,
    _folder: TempDir,
}

impl TestDatabase {
    pub async fn fresh() -> TestDatabase {
        let folder = tempfile::tempdir().unwrap();
        let url = fresh_url(folder.path()).await;
        let db = Database::connect(&url, MAX_CONNECTIONS).await.unwrap();
        db.migrate().await.unwrap();
        TestDatabase {
            db,
            url,
            _folder: folder,
        }
    }

    /// Stores an AI4I 2020 CSV (its `UDI` an id) as an uploaded data set; answers its id and
    /// its content's SHA-256.
    pub async fn store_milling_dataset(&self, csv: &str) -> (i64, String) {
        let sha256 = hex::encode(Sha256::digest(csv.as_bytes()));
        let id = datasets::insert(
            self.db.pool(),
            datasets::NewDataset {
                uploaded_by: None,
                name: "mills",
                file_name: "mills.csv",
                profile: "ai4i2020",
                column_roles: r#"[{"column": "UDI", "role": "id"}]"#.into(),
                row_count: csv.lines().count() as i64 - 1,
                content_sha256: &sha256,
            },
            csv.as_bytes(),
        )
        .await
        .unwrap();
        (id, sha256)
    }

    /// Registers a monitored AI4I 2020 milling machine.
    pub async fn insert_machine(&self, name: &str) -> Machine {
        let new = NewMachine {
            name: MachineName::parse(name).unwrap(),
            display_name: name.to_string(),
            profile: "ai4i2020".to_string(),
            attributes: BTreeMap::new(),
            place: None,
            schema: Profile::Ai4i2020.schema(),
        };
        machines::insert(self.db.pool(), &new).await.unwrap()
    }

    /// A run as stored now.
    pub async fn training_run(&self, id: i64) -> TrainingRun {
        training_runs::find(self.db.pool(), id)
            .await
            .unwrap()
            .expect("the run exists")
    }
}

/// A training run to queue: AI4I's `Machine failure` with a random forest on the default
/// hyperparameters, no data set, not tracked, unless a test says otherwise.
pub struct QueuedRun {
    dataset_id: Option<i64>,
    target: &'static str,
    parameters: &'static str,
    tracking: TrackingState,
}

impl QueuedRun {
    pub fn ai4i() -> QueuedRun {
        QueuedRun {
            dataset_id: None,
            target: "Machine failure",
            parameters: "{}",
            tracking: TrackingState::Off,
        }
    }

    pub fn on_dataset(mut self, id: i64) -> QueuedRun {
        self.dataset_id = Some(id);
        self
    }

    pub fn target(mut self, target: &'static str) -> QueuedRun {
        self.target = target;
        self
    }

    /// The hyperparameters as the form sends them, a JSON object.
    pub fn parameters(mut self, json: &'static str) -> QueuedRun {
        self.parameters = json;
        self
    }

    /// Waiting to be tracked in MLflow.
    pub fn tracked(mut self) -> QueuedRun {
        self.tracking = TrackingState::Pending;
        self
    }

    /// Queues it; answers its id.
    pub async fn queue(self, db: &Database) -> i64 {
        training_runs::insert(
            db.pool(),
            training_runs::NewTrainingRun {
                started_by: None,
                machine_id: None,
                dataset_id: self.dataset_id,
                profile: "ai4i2020",
                target: self.target,
                algorithm: "random_forest",
                parameters: self.parameters.into(),
                auto_promote: false,
                tracking: self.tracking,
            },
        )
        .await
        .unwrap()
    }
}

/// The UPDATE statements of a migration file, comments left out: a test reruns a migration's
/// backfill to check it computes what the code keeps.
pub fn migration_updates(migration: &str) -> Vec<String> {
    migration
        .split(';')
        .map(|statement| {
            statement
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|statement| statement.trim_start().starts_with("UPDATE"))
        .collect()
}
