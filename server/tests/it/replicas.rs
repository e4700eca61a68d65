//! Replicas on one database: real `icantkube serve` processes sharing it, as a scaled
//! deployment runs them (on the MariaDB pass, on MariaDB).

use std::time::{Duration, Instant};

use icantkube::background::LEASE;
use icantkube::db::leases;
use icantkube::domain::time::now_ms;
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;

use crate::support::app::{
    admin_session_at, ai4i_json_batch, csrf_token, ADMIN_PASSWORD, GLOBAL_TOKEN,
};
use crate::support::binary::ServerProcess;
use crate::support::data::milling_csv;
use crate::support::database::{fresh_url, MAX_CONNECTIONS};
use crate::support::model::{register_in, train};

const LIFETIME: &str = "1500ms";

/// The process id in the background lease's holder, while someone holds it.
async fn lease_holder_pid(db: &icantkube::db::Database) -> Option<u32> {
    let holder = leases::holder(db.pool(), LEASE, now_ms()).await.unwrap()?;
    // `HOST-PID-RANDOM`
    let mut parts = holder.rsplitn(3, '-');
    parts.next();
    parts.next().and_then(|pid| pid.parse().ok())
}

async fn wait_for_holder(db: &icantkube::db::Database, wanted: u32, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let holder = lease_holder_pid(db).await;
        if holder == Some(wanted) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "the lease went to process {wanted} within {within:?}; its holder is {holder:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_at_a_time_does_the_background_work_and_another_takes_it_over() {
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    let environment = [("ICANTKUBE_BACKGROUND_LEASE", LIFETIME)];
    let first = ServerProcess::start_with(&url, &environment).await;
    let second = ServerProcess::start_with(&url, &environment).await;
    let db = icantkube::db::Database::connect(&url, MAX_CONNECTIONS)
        .await
        .unwrap();

    // The first took the lease at start and keeps it through several renewals.
    wait_for_holder(&db, first.pid(), Duration::from_secs(5)).await;
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(
            lease_holder_pid(&db).await,
            Some(first.pid()),
            "no flapping"
        );
    }

    // Stopped with SIGTERM, it lets go: the second takes over within a renewal period.
    let (first_pid, second_pid) = (first.pid(), second.pid());
    first
        .terminate(Duration::from_secs(30))
        .await
        .expect("it stops");
    let took = wait_for_holder(&db, second_pid, Duration::from_secs(3)).await;
    println!("after SIGTERM of {first_pid}, {second_pid} held the lease in {took:?}");

    // Killed without a word, the holder's lease runs out and a third takes over.
    let third = ServerProcess::start_with(&url, &environment).await;
    second.kill();
    let took = wait_for_holder(&db, third.pid(), Duration::from_secs(5)).await;
    println!(
        "after SIGKILL of {second_pid}, {} held the lease in {took:?}",
        third.pid()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_and_a_retried_batch_hold_across_replicas() {
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    let a = ServerProcess::start(&url).await;
    let b = ServerProcess::start(&url).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Signed in through one replica, the session and its CSRF token work on the other.
    let (cookie, csrf) = admin_session_at(&a.base, &client).await;
    let page = client
        .get(format!("{}/training/new", b.base))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the session is known to B");
    assert_eq!(csrf_token(&page.text().await.unwrap()), csrf);

    a.create_machine("mill-1", "ai4i2020", json!({})).await;

    // The same batch through both replicas, twice each, all at once: stored once.
    let batch = ai4i_json_batch(200, "batch");
    let mut posts = tokio::task::JoinSet::new();
    for replica in [&a.base, &b.base, &a.base, &b.base] {
        let request = client
            .post(format!("{replica}/api/v1/machines/mill-1/readings"))
            .bearer_auth(GLOBAL_TOKEN)
            .header("content-type", "application/json")
            .body(batch.clone());
        posts.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap())
        });
    }
    // Each answer accounts for the whole batch; only one stored it.
    let mut stored = 0;
    while let Some(answer) = posts.join_next().await {
        let (status, body) = answer.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        assert_eq!(
            body["stored"].as_i64().unwrap() + body["duplicates"].as_i64().unwrap(),
            200,
            "{body}"
        );
        stored += body["stored"].as_i64().unwrap();
    }
    assert_eq!(stored, 200);
    assert_eq!(b.reading_count("mill-1").await, 200);

    // Wrong passwords count against the address on both replicas together.
    let guess = |base: &str| {
        client
            .get(format!("{base}/api/v1/machines/mill-1/tokens"))
            .basic_auth("admin", Some("guess"))
            .send()
    };
    for replica in [&a.base, &b.base, &a.base, &b.base, &a.base] {
        assert_eq!(
            guess(replica).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for replica in [&b.base, &a.base] {
        assert_eq!(
            guess(replica).await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the sixth guess, through either replica"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_replica_turns_unready_at_once_and_drops_no_request() {
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    let a = ServerProcess::start_with(&url, &[("ICANTKUBE_SHUTDOWN_DELAY", "2s")]).await;
    let b = ServerProcess::start(&url).await;
    let client = reqwest::Client::new();
    a.create_machine("mill-1", "ai4i2020", json!({})).await;

    // Steady load on A, sent to B only when A refuses the connection, as a load balancer
    // that has not yet seen A's readiness would.
    let load = {
        let (client, a, b) = (client.clone(), a.base.clone(), b.base.clone());
        tokio::spawn(async move {
            let (mut on_a, mut on_b, mut failed) = (0, 0, Vec::new());
            for i in 0..150 {
                let body = ai4i_json_batch(1, &format!("load-{i}"));
                let post = |base: &str| {
                    client
                        .post(format!("{base}/api/v1/machines/mill-1/readings"))
                        .bearer_auth(GLOBAL_TOKEN)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                };
                let answer = match post(&a).await {
                    Err(error) if error.is_connect() => {
                        on_b += 1;
                        post(&b).await
                    }
                    other => {
                        on_a += 1;
                        other
                    }
                };
                match answer {
                    Ok(response) if response.status() == StatusCode::CREATED => {}
                    Ok(response) => failed.push(format!("{i}: {}", response.status())),
                    Err(error) => failed.push(format!("{i}: {error}")),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            (on_a, on_b, failed)
        })
    };

    tokio::time::sleep(Duration::from_millis(500)).await;
    a.send_terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = client
        .get(format!("{}/readyz", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "stopping");
    let alive = client
        .get(format!("{}/healthz", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), StatusCode::OK, "it serves on while unready");

    let exited = a
        .wait_exit(Duration::from_secs(30))
        .await
        .expect("it stops");
    assert!(
        exited >= Duration::from_millis(1200),
        "after its delay: {exited:?}"
    );
    let (on_a, on_b, failed) = load.await.unwrap();
    assert_eq!(failed, Vec::<String>::new(), "{on_a} on A, {on_b} on B");
    assert!(
        on_a > 20 && on_b > 20,
        "both served: {on_a} on A, {on_b} on B"
    );
    assert_eq!(b.reading_count("mill-1").await, 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_through_one_replica_scores_the_next_reading_on_the_other() {
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    let a = ServerProcess::start(&url).await;
    let b = ServerProcess::start(&url).await;
    let client = reqwest::Client::new();
    a.create_machine("mill-1", "ai4i2020", json!({"type": "M"}))
        .await;
    let db = icantkube::db::Database::connect(&url, MAX_CONNECTIONS)
        .await
        .unwrap();
    let model = train(&milling_csv(11, 4, 600), 5, true);
    let versions = [
        register_in(&db, "ai4i2020", &model, model.to_bytes()).await,
        register_in(&db, "ai4i2020", &model, model.to_bytes()).await,
    ];

    for (i, version) in versions.into_iter().enumerate() {
        let promoted = client
            .put(format!("{}/api/v1/machines/mill-1/model", a.base))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(&json!({ "model_version_id": version }))
            .send()
            .await
            .unwrap();
        let status = promoted.status();
        assert_eq!(status, StatusCode::OK, "{}", promoted.text().await.unwrap());
        let scored: serde_json::Value = client
            .post(format!("{}/api/v1/machines/mill-1/readings", b.base))
            .bearer_auth(GLOBAL_TOKEN)
            .header("content-type", "application/json")
            .body(ai4i_json_batch(1, &format!("after-{i}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            scored["prediction"]["model_version_id"], version,
            "B scores with the version promoted through A: {scored}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_starting_together_on_a_fresh_database_both_become_ready() {
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    // Both apply the migrations at once: one waits for the other's lock.
    let (a, b) = tokio::join!(ServerProcess::start(&url), ServerProcess::start(&url));
    a.create_machine("mill-1", "ai4i2020", json!({})).await;
    assert_eq!(b.reading_count("mill-1").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_stops_a_replica_at_once() {
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    let environment = [
        ("ICANTKUBE_SHUTDOWN_DELAY", "60s"),
        ("ICANTKUBE_SHUTDOWN_DRAIN", "60s"),
        ("ICANTKUBE_BODY_TIMEOUT", "60s"),
    ];
    let replica = ServerProcess::start_with(&url, &environment).await;
    replica
        .create_machine("mill-1", "ai4i2020", json!({}))
        .await;
    // A request in flight that would hold the drain to its end: its body never comes.
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", replica.port()))
        .await
        .unwrap();
    stalled
        .write_all(
            b"POST /api/v1/machines/mill-1/readings HTTP/1.1\r\nHost: x\r\n\
              Authorization: Bearer global-ingest-token\r\nContent-Type: text/csv\r\n\
              Content-Length: 100\r\n\r\nair_",
        )
        .await
        .unwrap();
    replica.send_terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ready = reqwest::get(format!("{}/readyz", replica.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "stopping");
    replica.send_terminate();
    let exited = replica.wait_exit(Duration::from_secs(10)).await;
    assert!(
        exited.is_some(),
        "still running 10 s after the second SIGTERM"
    );
}
