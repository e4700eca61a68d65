//! A fresh, migrated SQLite database per test, and builders for the rows tests start from:
//! a stored data set and a queued training run.

use icantkube::db::training_runs::{self, TrainingRun};
use icantkube::db::{datasets, Database};
use icantkube::domain::TrackingState;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// A migrated database in a file of its own, removed with it.
pub struct TestDatabase {
    pub db: Database,
    /// `sqlite://...`, for a server or a worker process to open the same file.
    pub url: String,
    _folder: TempDir,
}

impl TestDatabase {
    pub async fn fresh() -> TestDatabase {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("test.db").display());
        let db = Database::connect(&url).await.unwrap();
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
                name: "mills",
                file_name: "mills.csv",
                profile: "ai4i2020",
                column_roles: r#"[{"column": "UDI", "role": "id"}]"#.into(),
                row_count: csv.lines().count() as i64 - 1,
                content_sha256: &sha256,
                content: csv.as_bytes().to_vec(),
            },
        )
        .await
        .unwrap();
        (id, sha256)
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
