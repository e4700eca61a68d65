//! MLflow tracking against a real `mlflow server` (installed by scripts/mlflow-venv.sh) on
//! loopback with a SQLite backend and a local artifact store: what a training run logs, as
//! MLflow's own REST API reports it, and a run trained while MLflow was down being tracked by
//! the later retry.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use icantkube::configuration::TrackingSettings;
use icantkube::db::Database;
use icantkube::training::tracking;
use ml::evaluation::Evaluation;
use serde_json::Value;
use tempfile::TempDir;

use crate::support::binary::{free_port, icantkube};
use crate::support::data::milling_csv;
use crate::support::database::{QueuedRun, TestDatabase};

/// A tracking server in its own process group, killed with everything it started on drop.
struct MlflowServer {
    child: Child,
    uri: String,
    _folder: TempDir,
}

impl MlflowServer {
    async fn start() -> MlflowServer {
        let mlflow = std::env::var_os("ICANTKUBE_MLFLOW")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var("HOME").unwrap_or_default())
                    .join(".cache/icantkube/mlflow-venv/bin/mlflow")
            });
        assert!(
            mlflow.exists(),
            "no MLflow at {}: run scripts/mlflow-venv.sh (scripts/test.sh does) or set \
             ICANTKUBE_MLFLOW to an `mlflow` executable",
            mlflow.display()
        );
        let folder = tempfile::tempdir().unwrap();
        let port = free_port();
        let log_path = folder.path().join("server.log");
        let log = File::create(&log_path).unwrap();
        let child = Command::new(&mlflow)
            .arg("server")
            .arg("--backend-store-uri")
            .arg(format!(
                "sqlite:///{}",
                folder.path().join("mlflow.db").display()
            ))
            .arg("--artifacts-destination")
            .arg(folder.path().join("artifacts"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--workers", "1"])
            // Its background job runner is not needed here and keeps running after a TERM.
            .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", mlflow.display()));
        let mut server = MlflowServer {
            child,
            uri: format!("http://127.0.0.1:{port}"),
            _folder: folder,
        };
        let health = format!("{}/health", server.uri);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = reqwest::get(&health).await {
                if response.status().is_success() {
                    return server;
                }
            }
            let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("mlflow server exited with {status}:\n{}", log());
            }
            assert!(
                Instant::now() < deadline,
                "mlflow server did not answer /health within 120 s:\n{}",
                log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn settings(&self) -> TrackingSettings {
        TrackingSettings {
            uri: self.uri.clone(),
            username: None,
            password: None,
        }
    }

    async fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Value {
        let response = reqwest::Client::new()
            .get(format!("{}/api/2.0/mlflow/{endpoint}", self.uri))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{endpoint}: {status} {body}");
        body
    }

    async fn post(&self, endpoint: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/api/2.0/mlflow/{endpoint}", self.uri))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{endpoint}: {status} {body}");
        body
    }

    /// The files of the run's artifact folder `path`, as (path, size).
    async fn artifacts(&self, run_id: &str, path: &str) -> Vec<(String, Option<u64>)> {
        let listed = self
            .get("artifacts/list", &[("run_id", run_id), ("path", path)])
            .await;
        listed["files"]
            .as_array()
            .map(|files| {
                files
                    .iter()
                    .map(|f| {
                        (
                            f["path"].as_str().unwrap().to_string(),
                            f["file_size"].as_u64(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        // The server runs uvicorn workers; the whole group goes.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// A fresh database holding a simulated milling data set; answers it, the data set's id and
/// its SHA-256.
async fn database() -> (TestDatabase, i64, String) {
    let test_db = TestDatabase::fresh().await;
    let (dataset, sha256) = test_db
        .store_milling_dataset(&milling_csv(11, 2, 500))
        .await;
    (test_db, dataset, sha256)
}

async fn queue(db: &Database, dataset: i64, target: &'static str) -> i64 {
    QueuedRun::ai4i()
        .on_dataset(dataset)
        .target(target)
        .parameters(r#"{"trees": 20}"#)
        .tracked()
        .queue(db)
        .await
}

/// `icantkube train --run-id N` with MLflow at `tracking_uri`; answers whether it succeeded.
fn train(url: &str, run_id: i64, tracking_uri: &str) -> (bool, String) {
    let output = Command::new(icantkube())
        .args(["train", "--run-id", &run_id.to_string()])
        .args(["--database-url", url, "--runner", "local"])
        .env("MLFLOW_TRACKING_URI", tracking_uri)
        .env_remove("MLFLOW_TRACKING_USERNAME")
        .env_remove("MLFLOW_TRACKING_PASSWORD")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The value of a key in MLflow's `[{key, value}]` lists.
fn entry<'a>(list: &'a Value, key: &str) -> Option<&'a Value> {
    list.as_array()?
        .iter()
        .find(|e| e["key"] == key)
        .map(|e| &e["value"])
}

#[tokio::test]
async fn a_training_run_is_tracked_with_params_metrics_artifacts_and_a_registered_version() {
    let server = MlflowServer::start().await;
    let (test_db, dataset, sha256) = database().await;
    let (db, url) = (&test_db.db, test_db.url.as_str());
    let run_id = queue(db, dataset, "Machine failure").await;

    let (ok, stderr) = train(url, run_id, &server.uri);
    assert!(ok, "{stderr}");
    let run = test_db.training_run(run_id).await;
    assert_eq!(run.state.as_str(), "completed");
    assert_eq!(
        (run.tracking.as_str(), run.tracking_error.as_deref()),
        ("tracked", None)
    );
    let mlflow_run_id = run
        .mlflow_run_id
        .clone()
        .expect("the MLflow run id is stored");
    let evaluation: Evaluation = serde_json::from_str(run.metrics.as_deref().unwrap()).unwrap();
    let classification = evaluation.classification.as_ref().unwrap();

    let experiment = server
        .get(
            "experiments/get-by-name",
            &[("experiment_name", "icantkube/ai4i2020")],
        )
        .await;
    assert_eq!(
        experiment["experiment"]["experiment_id"].as_str(),
        run.mlflow_experiment_id.as_deref()
    );

    let found = server.get("runs/get", &[("run_id", &mlflow_run_id)]).await;
    let info = &found["run"]["info"];
    assert_eq!(info["status"], "FINISHED");
    assert_eq!(info["run_name"], format!("training-run-{run_id}"));
    let data = &found["run"]["data"];
    for (key, value) in [
        ("trees", "20"),
        ("algorithm", "random_forest"),
        ("target", "Machine failure"),
        ("profile", "ai4i2020"),
        ("dataset", "mills"),
        ("rows", "1000"),
        ("sha256", sha256.as_str()),
        ("runner", "local"),
    ] {
        assert_eq!(
            entry(&data["params"], key).and_then(Value::as_str),
            Some(value),
            "param {key}"
        );
    }
    // Defaults the run did not choose are logged too.
    assert_eq!(
        entry(&data["params"], "max_depth").and_then(Value::as_str),
        Some("12")
    );
    assert_eq!(
        entry(&data["metrics"], "f1").and_then(Value::as_f64),
        Some(classification.f1)
    );
    assert_eq!(
        entry(&data["metrics"], "roc_auc").and_then(Value::as_f64),
        Some(classification.roc_auc)
    );
    assert_eq!(
        entry(&data["tags"], "icantkube.training_run_id").and_then(Value::as_str),
        Some(run_id.to_string().as_str())
    );
    assert_eq!(
        entry(&data["tags"], "icantkube.dataset_sha256").and_then(Value::as_str),
        Some(sha256.as_str())
    );

    let history = server
        .get(
            "metrics/get-history",
            &[("run_id", &mlflow_run_id), ("metric_key", "fold_f1")],
        )
        .await;
    let mut folds: Vec<(i64, f64)> = history["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["step"].as_i64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    folds.sort_by_key(|(step, _)| *step);
    let expected: Vec<(i64, f64)> = evaluation
        .per_fold
        .iter()
        .enumerate()
        .map(|(fold, value)| (fold as i64, *value))
        .collect();
    assert_eq!(evaluation.per_fold.len(), evaluation.folds);
    assert_eq!(folds, expected);

    let model_file: Vec<u8> =
        sqlx::query_scalar("SELECT artifact FROM model_versions WHERE training_run_id = ?")
            .bind(run_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    let model_files = server.artifacts(&mlflow_run_id, "model").await;
    assert!(
        model_files.contains(&(
            "model/model.icantkube".to_string(),
            Some(model_file.len() as u64)
        )),
        "{model_files:?}"
    );
    assert!(
        model_files
            .iter()
            .any(|(path, _)| path == "model/card.json"),
        "{model_files:?}"
    );
    let dataset_files = server.artifacts(&mlflow_run_id, "dataset").await;
    assert!(
        dataset_files
            .iter()
            .any(|(path, _)| path == "dataset/fingerprint.json"),
        "{dataset_files:?}"
    );
    let plots = server.artifacts(&mlflow_run_id, "plots").await;
    assert!(
        !plots.is_empty() && plots.iter().all(|(path, _)| path.ends_with(".svg")),
        "{plots:?}"
    );
    let artifact_uri = info["artifact_uri"].as_str().unwrap();
    let location = artifact_uri.strip_prefix("mlflow-artifacts:/").unwrap();
    let fingerprint: Value = reqwest::get(format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{location}/dataset/fingerprint.json",
        server.uri
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(fingerprint["sha256"], sha256.as_str());
    assert_eq!(fingerprint["column_roles"][0]["role"], "id");

    let challenger = server
        .get(
            "registered-models/alias",
            &[("name", "icantkube-ai4i2020"), ("alias", "challenger")],
        )
        .await;
    let version = &challenger["model_version"];
    assert_eq!(version["version"], "1");
    assert_eq!(version["run_id"], mlflow_run_id.as_str());
    assert_eq!(version["source"], format!("{artifact_uri}/model"));
    let mlflow_version: Option<String> =
        sqlx::query_scalar("SELECT mlflow_version FROM model_versions WHERE training_run_id = ?")
            .bind(run_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(mlflow_version.as_deref(), Some("1"));

    db.close().await;
}

/// A loopback port that accepts connections and never answers, as a hung MLflow does.
async fn hung_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_run_trained_while_mlflow_hangs_completes_and_says_why_it_is_not_tracked() {
    let (test_db, dataset, _) = database().await;
    let (db, url) = (&test_db.db, test_db.url.as_str());
    let run_id = queue(db, dataset, "Machine failure").await;
    let hung = hung_server().await;
    let started = Instant::now();
    let (ok, stderr) = tokio::task::spawn_blocking({
        let url = url.to_string();
        move || train(&url, run_id, &hung)
    })
    .await
    .unwrap();
    assert!(ok, "tracking must not fail training: {stderr}");
    // One request's timeout, not the whole tracking budget, and far from forever.
    assert!(
        started.elapsed() < tracking::TRACKING_TIMEOUT,
        "{:?}",
        started.elapsed()
    );
    let run = test_db.training_run(run_id).await;
    assert_eq!(
        (run.state.as_str(), run.tracking.as_str()),
        ("completed", "failed")
    );
    let reason = run.tracking_error.unwrap();
    assert!(reason.contains("no answer"), "{reason}");
}

#[tokio::test]
async fn runs_trained_while_mlflow_is_down_complete_and_are_tracked_by_the_retry() {
    let (test_db, dataset, _) = database().await;
    let (db, url) = (&test_db.db, test_db.url.as_str());
    let good = queue(db, dataset, "Machine failure").await;
    let bad = queue(db, dataset, "nope").await;
    let nobody_listens = format!("http://127.0.0.1:{}", free_port());

    let (ok, stderr) = train(url, good, &nobody_listens);
    assert!(ok, "tracking must not fail training: {stderr}");
    let run = test_db.training_run(good).await;
    assert_eq!(run.state.as_str(), "completed");
    let versions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM model_versions WHERE training_run_id = ?")
            .bind(good)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(versions, 1);
    assert_eq!(run.tracking.as_str(), "failed");
    let reason = run.tracking_error.unwrap();
    assert!(
        reason.contains("no answer") && reason.contains("Connection refused"),
        "{reason}"
    );
    assert_eq!(run.mlflow_run_id, None);

    let (ok, _) = train(url, bad, &nobody_listens);
    assert!(!ok, "the run with an unknown target fails");
    let failed = test_db.training_run(bad).await;
    assert_eq!(
        (failed.state.as_str(), failed.tracking.as_str()),
        ("failed", "failed")
    );

    let server = MlflowServer::start().await;
    tracking::retry_untracked(db, &server.settings()).await;
    let run = test_db.training_run(good).await;
    assert_eq!(
        (run.tracking.as_str(), run.tracking_error.as_deref()),
        ("tracked", None)
    );
    let mlflow_run_id = run.mlflow_run_id.clone().unwrap();
    let found = server.get("runs/get", &[("run_id", &mlflow_run_id)]).await;
    assert_eq!(found["run"]["info"]["status"], "FINISHED");
    let challenger = server
        .get(
            "registered-models/alias",
            &[("name", "icantkube-ai4i2020"), ("alias", "challenger")],
        )
        .await;
    assert_eq!(
        challenger["model_version"]["run_id"],
        mlflow_run_id.as_str()
    );

    // The failed run is a FAILED MLflow run with its error and no model.
    let failed = test_db.training_run(bad).await;
    assert_eq!(failed.tracking.as_str(), "tracked");
    let failed_run_id = failed.mlflow_run_id.unwrap();
    let found = server.get("runs/get", &[("run_id", &failed_run_id)]).await;
    assert_eq!(found["run"]["info"]["status"], "FAILED");
    let error = entry(&found["run"]["data"]["tags"], "icantkube.error")
        .and_then(Value::as_str)
        .unwrap();
    assert!(error.contains("nope"), "{error}");
    assert!(server.artifacts(&failed_run_id, "model").await.is_empty());

    // Tracking again reuses the MLflow run and the model version.
    tracking::track(db, &server.settings(), good).await.unwrap();
    assert_eq!(
        test_db.training_run(good).await.mlflow_run_id.as_deref(),
        Some(mlflow_run_id.as_str())
    );
    let experiment_id = run.mlflow_experiment_id.unwrap();
    let runs = server
        .post(
            "runs/search",
            serde_json::json!({ "experiment_ids": [experiment_id] }),
        )
        .await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2, "{runs}");
    let versions = server
        .get(
            "model-versions/search",
            &[("filter", "name='icantkube-ai4i2020'")],
        )
        .await;
    assert_eq!(
        versions["model_versions"].as_array().unwrap().len(),
        1,
        "{versions}"
    );

    db.close().await;
}
