//! The `kubernetes` training runner against a stand-in of the Kubernetes API (no API server can
//! run here): an HTTP server that records every request and answers like the API server, with
//! Job and Pod states each test scripts, or fails and hangs when a test says so. The database
//! is a real SQLite file.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::database::{QueuedRun, TestDatabase};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::Json;
use icantkube::configuration::KubernetesSettings;
use icantkube::db::training_runs::{self, TrainingRun};
use icantkube::training::kubernetes::KubernetesRunner;
use icantkube::training::{Runner, RunnerError};
use serde_json::{json, Value};

const NAMESPACE: &str = "factory";
const IMAGE: &str = "registry.example/icantkube:1.4.0";
const JOB: &str = "icantkube-train-1";
const JOB_PATH: &str = "/apis/batch/v1/namespaces/factory/jobs/icantkube-train-1";
const POLL: Duration = Duration::from_millis(50);
const START_GRACE: Duration = Duration::from_millis(400);
const API_TIMEOUT: Duration = Duration::from_millis(500);

fn settings() -> KubernetesSettings {
    KubernetesSettings {
        namespace: NAMESPACE.to_string(),
        image: IMAGE.to_string(),
        service_account: Some("icantkube-training".to_string()),
        config_map: "icantkube".to_string(),
        secret: "icantkube-secrets".to_string(),
        cpu_request: "250m".to_string(),
        cpu_limit: "1".to_string(),
        memory_request: "256Mi".to_string(),
        memory_limit: "512Mi".to_string(),
        backoff_limit: 0,
        active_deadline_seconds: 900,
        ttl_seconds_after_finished: 3600,
        app_name: "icantkube".to_string(),
        poll_interval: POLL,
        start_grace: START_GRACE,
        api_timeout: API_TIMEOUT,
    }
}

/// A request as the stand-in received it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    query: String,
    body: Option<Value>,
}

/// What the stand-in API server knows.
#[derive(Default)]
struct Cluster {
    requests: Vec<Request>,
    jobs: BTreeMap<String, Value>,
    pods: Vec<Value>,
    /// (verb, resource) the ServiceAccount may not use.
    denied: Vec<(&'static str, &'static str)>,
    /// How every request fails, while set.
    fault: Option<Fault>,
}

/// An API server in trouble.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Answers 500, as when etcd times out.
    Errors,
    /// Never answers.
    Hangs,
}

type Shared = Arc<Mutex<Cluster>>;

/// The API server's error shape.
fn status(code: StatusCode, reason: &str, message: String) -> (StatusCode, Json<Value>) {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, Json(body))
}

fn not_found(resource: &str, name: &str) -> (StatusCode, Json<Value>) {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("{resource} \"{name}\" not found"),
    )
}

fn forbidden(verb: &str, resource: &str, group: &str) -> (StatusCode, Json<Value>) {
    status(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!(
            "{resource}.{group} is forbidden: User \"system:serviceaccount:{NAMESPACE}:icantkube\" \
             cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \
             \"{NAMESPACE}\""
        ),
    )
}

/// The `labelSelector` of a query string, decoded.
fn label_selector(query: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://stand-in/?{query}")).unwrap();
    url.query_pairs()
        .find(|(key, _)| key == "labelSelector")
        .map(|(_, value)| value.into_owned())
}

/// Whether every `key=value` of a label selector matches the object's labels.
fn selected(object: &Value, selector: &str) -> bool {
    selector.split(',').all(|pair| {
        let (key, value) = pair.split_once('=').expect("key=value selector");
        object["metadata"]["labels"][key] == value
    })
}

async fn api_server(
    State(cluster): State<Shared>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let body: Option<Value> = serde_json::from_slice(&body).ok();
    let query = uri.query().unwrap_or_default().to_string();
    let fault = cluster.lock().unwrap().fault;
    match fault {
        Some(Fault::Errors) => {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "etcdserver: request timed out".to_string(),
            )
        }
        Some(Fault::Hangs) => std::future::pending().await,
        None => {}
    }
    let mut cluster = cluster.lock().unwrap();
    cluster.requests.push(Request {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: query.clone(),
        body: body.clone(),
    });
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"]) => {
            let mut review = body.expect("a review body");
            let attributes = &review["spec"]["resourceAttributes"];
            let asked = (
                attributes["verb"].as_str().unwrap_or_default(),
                attributes["resource"].as_str().unwrap_or_default(),
            );
            let allowed = !cluster.denied.contains(&asked);
            review["status"] = json!({ "allowed": allowed });
            (StatusCode::CREATED, Json(review))
        }
        ("POST", ["apis", "batch", "v1", "namespaces", namespace, "jobs"]) => {
            if cluster.denied.contains(&("create", "jobs")) {
                return forbidden("create", "jobs", "batch");
            }
            let mut job = body.expect("a Job body");
            let name = job["metadata"]["name"].as_str().unwrap().to_string();
            if cluster.jobs.contains_key(&name) {
                return status(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    format!("jobs.batch \"{name}\" already exists"),
                );
            }
            job["metadata"]["namespace"] = json!(namespace);
            job["metadata"]["uid"] = json!("0c3c8a3e-8f1e-4c59-9d43-5b2b1d0f0b11");
            job["metadata"]["resourceVersion"] = json!("1");
            job["metadata"]["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
            job["status"] = json!({});
            cluster.jobs.insert(name, job.clone());
            (StatusCode::CREATED, Json(job))
        }
        ("GET", ["apis", "batch", "v1", "namespaces", _, "jobs", name]) => {
            match cluster.jobs.get(*name) {
                Some(job) => (StatusCode::OK, Json(job.clone())),
                None => not_found("jobs.batch", name),
            }
        }
        ("DELETE", ["apis", "batch", "v1", "namespaces", _, "jobs", name]) => {
            match cluster.jobs.remove(*name) {
                Some(job) => {
                    let success = json!({
                        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                        "details": { "name": name, "group": "batch", "kind": "jobs",
                                     "uid": job["metadata"]["uid"] },
                    });
                    (StatusCode::OK, Json(success))
                }
                None => not_found("jobs.batch", name),
            }
        }
        ("GET", ["api", "v1", "namespaces", _, "pods"]) => {
            let selector = label_selector(&query).unwrap_or_default();
            let items: Vec<Value> = cluster
                .pods
                .iter()
                .filter(|pod| selector.is_empty() || selected(pod, &selector))
                .cloned()
                .collect();
            let list = json!({
                "kind": "PodList", "apiVersion": "v1",
                "metadata": { "resourceVersion": "7" }, "items": items,
            });
            (StatusCode::OK, Json(list))
        }
        _ => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".to_string(),
        ),
    }
}

/// A stand-in API server, a database with one queued run, and a runner wired to both.
struct Fixture {
    cluster: Shared,
    runner: KubernetesRunner,
    database: TestDatabase,
    run_id: i64,
}

async fn fixture() -> Fixture {
    let cluster = Shared::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(api_server)
        .with_state(cluster.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut config = kube::Config::new(format!("http://{address}").parse().unwrap());
    config.default_namespace = NAMESPACE.to_string();
    let client = kube::Client::try_from(config).unwrap();

    let database = TestDatabase::fresh().await;
    let run_id = QueuedRun::ai4i().queue(&database.db).await;
    assert_eq!(run_id, 1, "the Job name in these tests assumes run 1");
    let runner = KubernetesRunner::with_client(client, settings(), database.db.clone());
    Fixture {
        cluster,
        runner,
        database,
        run_id,
    }
}

impl Fixture {
    async fn run(&self) -> TrainingRun {
        self.database.training_run(self.run_id).await
    }

    /// Waits until the run reaches a state.
    async fn run_in_state(&self, state: &str) -> TrainingRun {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let run = self.run().await;
            if run.state.as_str() == state {
                return run;
            }
            assert!(Instant::now() < deadline, "the run stayed {run:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the worker inside the Job does first.
    async fn worker_starts(&self) {
        training_runs::start(self.database.db.pool(), self.run_id, JOB)
            .await
            .unwrap();
    }

    fn set_fault(&self, fault: Option<Fault>) {
        self.cluster.lock().unwrap().fault = fault;
    }

    fn requests(&self) -> Vec<Request> {
        self.cluster.lock().unwrap().requests.clone()
    }

    /// Sets the Job's status; answers how many requests came before, to look at later ones.
    fn set_job_status(&self, status: Value) -> usize {
        let mut cluster = self.cluster.lock().unwrap();
        cluster.jobs.get_mut(JOB).expect("the Job exists")["status"] = status;
        cluster.requests.len()
    }

    /// Adds the Job's pod as the Job controller makes it, its training container in `state`.
    fn add_pod(&self, phase: &str, state: Value) {
        let mut cluster = self.cluster.lock().unwrap();
        let template = cluster.jobs[JOB]["spec"]["template"].clone();
        let mut labels = template["metadata"]["labels"].clone();
        labels["batch.kubernetes.io/job-name"] = json!(JOB);
        let pod = json!({
            "metadata": {
                "name": format!("{JOB}-x7k2p"), "namespace": NAMESPACE, "labels": labels,
                "uid": "5d7f6c1a-1111-4b3e-9a52-0c4a3c2e7a90",
            },
            "spec": template["spec"],
            "status": {
                "phase": phase,
                "containerStatuses": [{
                    "name": "train", "image": IMAGE, "imageID": "", "ready": false,
                    "restartCount": 0, "state": state,
                }],
            },
        });
        cluster.pods.push(pod);
    }

    /// Waits until the watcher has read the Job after request `after`, then long enough for
    /// several more polls, and answers how many times it read the Job after `after`.
    async fn job_reads_after(&self, after: usize) -> usize {
        let reads = || {
            self.requests()[after..]
                .iter()
                .filter(|r| r.method == "GET" && r.path == JOB_PATH)
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while reads() == 0 {
            assert!(Instant::now() < deadline, "the watcher never read the Job");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(POLL * 8).await;
        reads()
    }
}

fn failed_job(reason: &str, message: &str) -> Value {
    json!({
        "failed": 1,
        "startTime": "2025-01-01T00:00:01Z",
        "conditions": [
            { "type": "FailureTarget", "status": "True", "reason": reason, "message": message },
            { "type": "Failed", "status": "True", "reason": reason, "message": message },
        ],
    })
}

#[tokio::test]
async fn the_created_job_matches_the_golden_manifest_and_is_recorded_on_the_run() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();

    let created: Vec<Request> = f
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].path, "/apis/batch/v1/namespaces/factory/jobs");
    let manifest = created[0].body.clone().expect("a JSON body");
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden/training-job.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(
            &golden,
            serde_json::to_string_pretty(&manifest).unwrap() + "\n",
        )
        .unwrap();
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(&golden).expect("the golden file (UPDATE_GOLDEN=1 writes it)"),
    )
    .unwrap();
    assert_eq!(
        manifest,
        expected,
        "the Job differs from {} (UPDATE_GOLDEN=1 rewrites it):\n{}",
        golden.display(),
        serde_json::to_string_pretty(&manifest).unwrap()
    );
    assert_eq!(f.run().await.job_name.as_deref(), Some(JOB));
    // The runner watches what it launched.
    f.job_reads_after(0).await;
}

#[tokio::test]
async fn a_job_that_completes_after_the_worker_finished_leaves_the_run_completed() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.set_job_status(json!({ "active": 1, "startTime": "2025-01-01T00:00:01Z" }));
    f.add_pod(
        "Running",
        json!({ "running": { "startedAt": "2025-01-01T00:00:02Z" } }),
    );
    f.worker_starts().await;
    training_runs::complete(
        f.database.db.pool(),
        f.run_id,
        r#"{"f1": 0.9}"#,
        "random_forest",
    )
    .await
    .unwrap();

    let before = f.set_job_status(json!({
        "succeeded": 1,
        "startTime": "2025-01-01T00:00:01Z",
        "completionTime": "2025-01-01T00:01:00Z",
        "conditions": [
            { "type": "SuccessCriteriaMet", "status": "True" },
            { "type": "Complete", "status": "True" },
        ],
    }));
    assert_eq!(
        f.job_reads_after(before).await,
        1,
        "the watcher stops at the end"
    );
    let run = f.run().await;
    assert_eq!(run.state.as_str(), "completed");
    assert_eq!(run.error, None);
}

#[tokio::test]
async fn an_api_server_that_hangs_or_errors_fails_the_launch_in_bounded_time_naming_why() {
    let f = fixture().await;
    f.set_fault(Some(Fault::Hangs));
    let started = Instant::now();
    let error = f.runner.launch(f.run_id).await.unwrap_err().to_string();
    assert!(
        started.elapsed() < API_TIMEOUT * 4,
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.contains("did not answer within 500 ms") && error.contains("create the Job"),
        "{error}"
    );
    f.set_fault(Some(Fault::Errors));
    let error = f.runner.launch(f.run_id).await.unwrap_err().to_string();
    assert!(
        error.contains("refused to create the Job") && error.contains("etcdserver"),
        "{error}"
    );
}

#[tokio::test]
async fn a_run_outlives_an_api_server_that_hangs_or_errors_and_its_watch_resumes() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.worker_starts().await;
    for fault in [Fault::Hangs, Fault::Errors] {
        f.set_fault(Some(fault));
        tokio::time::sleep(API_TIMEOUT * 3).await;
        assert_eq!(f.run().await.state.as_str(), "running", "{fault:?}");
        f.set_fault(None);
    }
    // The watcher still follows the Job: its failure reaches the run.
    f.set_job_status(failed_job(
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ));
    let run = f.run_in_state("failed").await;
    assert!(run.error.unwrap().contains("BackoffLimitExceeded"));
}

#[tokio::test]
async fn a_job_that_completes_without_the_run_finished_fails_the_run() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.worker_starts().await;
    f.set_job_status(json!({
        "succeeded": 1,
        "conditions": [{ "type": "Complete", "status": "True" }],
    }));
    let run = f.run_in_state("failed").await;
    let error = run.error.unwrap();
    assert!(error.contains("never recorded the run's end"), "{error}");
}

#[tokio::test]
async fn an_out_of_memory_kill_fails_the_run_naming_oomkilled_and_the_memory_limit() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.worker_starts().await;
    f.add_pod(
        "Failed",
        json!({ "terminated": { "exitCode": 137, "reason": "OOMKilled",
                                "startedAt": "2025-01-01T00:00:02Z",
                                "finishedAt": "2025-01-01T00:00:40Z" } }),
    );
    f.set_job_status(failed_job(
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ));

    let run = f.run_in_state("failed").await;
    let error = run.error.unwrap();
    assert!(error.contains("OOMKilled"), "{error}");
    assert!(error.contains("512Mi"), "{error}");
    let pod_lists: Vec<Request> = f
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/namespaces/factory/pods")
        .collect();
    assert!(!pod_lists.is_empty());
    assert!(
        pod_lists.iter().all(|r| label_selector(&r.query).as_deref()
            == Some("app.kubernetes.io/name=icantkube,icantkube.io/training-run=1")),
        "{pod_lists:?}"
    );
}

#[tokio::test]
async fn a_failure_the_worker_recorded_keeps_its_own_reason() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.worker_starts().await;
    training_runs::fail(
        f.database.db.pool(),
        f.run_id,
        "column nope: no such column",
    )
    .await
    .unwrap();
    f.add_pod(
        "Failed",
        json!({ "terminated": { "exitCode": 1, "reason": "Error" } }),
    );
    let before = f.set_job_status(failed_job(
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ));
    assert_eq!(f.job_reads_after(before).await, 1);
    let run = f.run().await;
    assert_eq!(run.state.as_str(), "failed");
    assert_eq!(run.error.as_deref(), Some("column nope: no such column"));
}

#[tokio::test]
async fn a_job_past_its_deadline_fails_the_run_with_the_deadline() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.worker_starts().await;
    f.set_job_status(failed_job(
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    ));
    let run = f.run_in_state("failed").await;
    assert_eq!(
        run.error.as_deref(),
        Some("the training Job ran past its deadline of 900 s (ICANTKUBE_JOB_DEADLINE_SECONDS)")
    );
}

#[tokio::test]
async fn a_pod_that_cannot_pull_its_image_fails_the_run_naming_the_image_and_deletes_the_job() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.set_job_status(json!({ "active": 1, "startTime": "2025-01-01T00:00:01Z" }));
    let stuck_at = Instant::now();
    f.add_pod(
        "Pending",
        json!({ "waiting": { "reason": "ImagePullBackOff",
                             "message": format!("Back-off pulling image \"{IMAGE}\"") } }),
    );

    let run = f.run_in_state("failed").await;
    assert!(
        stuck_at.elapsed() >= START_GRACE,
        "failed before the grace period"
    );
    let error = run.error.unwrap();
    assert!(error.contains(IMAGE), "{error}");
    assert!(error.contains("ImagePullBackOff"), "{error}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.cluster.lock().unwrap().jobs.contains_key(JOB) {
        assert!(Instant::now() < deadline, "the Job was not deleted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let deletes: Vec<Request> = f
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].path, JOB_PATH);
    assert_eq!(
        deletes[0].body.as_ref().unwrap()["propagationPolicy"],
        "Background"
    );
}

#[tokio::test]
async fn a_service_account_without_the_job_verbs_is_refused_naming_them() {
    let f = fixture().await;
    f.runner.check_permissions().await.unwrap();
    let reviews: Vec<Value> = f
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .map(|r| r.body.unwrap()["spec"]["resourceAttributes"].clone())
        .collect();
    let asked: Vec<(&str, &str, &str, &str)> = reviews
        .iter()
        .map(|a| {
            (
                a["verb"].as_str().unwrap(),
                a["group"].as_str().unwrap(),
                a["resource"].as_str().unwrap(),
                a["namespace"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        asked,
        [
            ("create", "batch", "jobs", NAMESPACE),
            ("get", "batch", "jobs", NAMESPACE),
            ("delete", "batch", "jobs", NAMESPACE),
            ("list", "", "pods", NAMESPACE),
        ]
    );

    f.cluster.lock().unwrap().denied = vec![("create", "jobs"), ("delete", "jobs")];
    let Err(RunnerError::Unavailable(message)) = f.runner.check_permissions().await else {
        panic!("missing permissions were not reported");
    };
    assert!(
        message.contains("may not create jobs, delete jobs."),
        "{message}"
    );
    assert!(message.contains("namespace factory"), "{message}");
    assert!(message.contains("Role"), "{message}");

    let Err(RunnerError::Unavailable(message)) = f.runner.launch(f.run_id).await else {
        panic!("a refused Job was launched");
    };
    assert!(
        message.contains("create the Job icantkube-train-1"),
        "{message}"
    );
    assert!(
        message.contains("cannot create resource \"jobs\""),
        "{message}"
    );
    assert_eq!(f.run().await.job_name, None);
}

#[tokio::test]
async fn cancelling_deletes_the_job_and_marks_the_run_cancelled() {
    let f = fixture().await;
    f.runner.launch(f.run_id).await.unwrap();
    f.set_job_status(json!({ "active": 1 }));
    f.worker_starts().await;

    f.runner.cancel(f.run_id).await.unwrap();
    let requests = f.requests();
    let deletes: Vec<usize> = (0..requests.len())
        .filter(|&i| requests[i].method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "{requests:?}");
    let delete = &requests[deletes[0]];
    assert_eq!(delete.path, JOB_PATH);
    assert_eq!(
        delete.body.as_ref().unwrap()["propagationPolicy"],
        "Background"
    );
    // The watcher then finds the Job gone, stops, and leaves the run cancelled.
    assert_eq!(f.job_reads_after(deletes[0] + 1).await, 1);
    let run = f.run().await;
    assert_eq!(run.state.as_str(), "cancelled");
    assert_eq!(run.error, None);
}

#[tokio::test]
async fn after_a_restart_the_jobs_of_unfinished_runs_are_watched_again() {
    let f = fixture().await;
    // An earlier process of the app launched the Job; this runner never saw it.
    f.cluster.lock().unwrap().jobs.insert(
        JOB.to_string(),
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": { "name": JOB, "namespace": NAMESPACE },
            "spec": icantkube::training::kubernetes::job_manifest(&settings(), f.run_id).spec,
            "status": { "active": 1 },
        }),
    );
    training_runs::set_job_name(f.database.db.pool(), f.run_id, JOB)
        .await
        .unwrap();
    f.worker_starts().await;

    assert_eq!(f.runner.resume_watching().await.unwrap(), 1);
    f.add_pod(
        "Failed",
        json!({ "terminated": { "exitCode": 2, "reason": "Error" } }),
    );
    f.set_job_status(failed_job(
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ));
    let run = f.run_in_state("failed").await;
    assert_eq!(
        run.error.as_deref(),
        Some("the training process exited with code 2 (Error)")
    );
}

#[tokio::test]
async fn only_the_replica_holding_the_lease_follows_jobs_and_it_adopts_those_launched_elsewhere() {
    let f = fixture().await;
    // This replica lost the background lease: its follower task is gone.
    let follower = f
        .runner
        .follow_jobs()
        .expect("the Kubernetes runner follows Jobs");
    tokio::time::sleep(POLL * 2).await;
    follower.abort();
    let _ = follower.await;

    // A Job it launches now is left to the holder: its failure does not reach the run.
    f.runner.launch(f.run_id).await.unwrap();
    f.worker_starts().await;
    f.set_job_status(failed_job(
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ));
    tokio::time::sleep(POLL * 10).await;
    assert_eq!(f.run().await.state.as_str(), "running");

    // Holding the lease again, it adopts every unfinished run's Job.
    let _follower = f.runner.follow_jobs().unwrap();
    let run = f.run_in_state("failed").await;
    assert!(run.error.unwrap().contains("BackoffLimitExceeded"));
}
