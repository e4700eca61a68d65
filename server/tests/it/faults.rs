//! Faults injected under a running server: the disk filling under its SQLite file, the file
//! turning unwritable, the temporary folder too small for an upload, and its MariaDB server
//! stopping under load. What a
//! client was told was stored must be stored, refusals must say "try again later", and the
//! server must recover by itself once the fault is gone.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::app::{
    admin_session_at, ai4i_json_batch, spawn_app_with, TestApp, GLOBAL_TOKEN,
};
use crate::support::binary::ServerProcess;
use crate::support::data::milling_csv;
use crate::support::database::fresh_url;
use crate::support::own_mariadb::OwnMariaDb;
use crate::support::small_disk::SmallDisk;

const WRITERS: usize = 4;
const BATCH: usize = 500;

/// What the writers were told: readings acknowledged, and refusals.
#[derive(Default)]
struct Told {
    acknowledged: AtomicI64,
    refused: AtomicI64,
}

/// One writer posting batches until the disk refused it `refusals` times; every answer must
/// be 201 (counted as stored) or 503 with `Retry-After`.
async fn write_until_refused(app: Arc<TestApp>, writer: usize, refusals: i64, told: Arc<Told>) {
    let mut refused = 0;
    for batch in 0..1_000 {
        let body = ai4i_json_batch(BATCH, &format!("w{writer}-b{batch}"));
        let response = app.post_readings("mill-1", "application/json", &body).await;
        match response.status() {
            StatusCode::CREATED => {
                let answer: Value = response.json().await.unwrap();
                let stored = answer["stored"].as_i64().expect("stored");
                told.acknowledged.fetch_add(stored, Ordering::SeqCst);
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(
                    response.headers().contains_key("retry-after"),
                    "a 503 without Retry-After"
                );
                let answer: Value = response.json().await.unwrap();
                let error = answer["error"].as_str().unwrap_or_default().to_string();
                assert!(error.contains("storage"), "{error}");
                told.refused.fetch_add(1, Ordering::SeqCst);
                refused += 1;
                if refused == refusals {
                    return;
                }
            }
            other => panic!(
                "batch {batch} of writer {writer}: {other} {:?}",
                response.text().await
            ),
        }
    }
    panic!("writer {writer}: the disk never filled");
}

/// Waits until the server at `base` answers `/readyz` with `wanted`; answers how long that took.
async fn wait_for_readiness(base: &str, wanted: StatusCode, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let answered = reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status();
        if answered == wanted {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "/readyz did not answer {wanted} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_reading_and_the_server_recovers_when_space_returns() {
    let test = "a_full_disk_loses_no_acknowledged_reading";
    let Some(disk) = SmallDisk::tmpfs(6, test) else {
        return;
    };
    let app =
        Arc::new(spawn_app_with(|settings| settings.database_url = disk.database_url()).await);
    app.create_machine("mill-1", "ai4i2020").await;

    let told = Arc::new(Told::default());
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| tokio::spawn(write_until_refused(app.clone(), writer, 3, told.clone())))
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = told.acknowledged.load(Ordering::SeqCst);
    eprintln!(
        "full disk: {acknowledged} readings acknowledged, {} batches refused",
        told.refused.load(Ordering::SeqCst)
    );
    assert!(
        acknowledged > 0,
        "nothing was stored before the disk filled"
    );

    // Reads still work on a full disk: every acknowledged reading is there, none more.
    assert_eq!(app.reading_count("mill-1").await, acknowledged);
    wait_for_readiness(
        &app.address,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(5),
    )
    .await;

    disk.resize(64);
    wait_for_readiness(&app.address, StatusCode::OK, Duration::from_secs(10)).await;
    let response = app
        .post_readings(
            "mill-1",
            "application/json",
            &ai4i_json_batch(BATCH, "after"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        app.reading_count("mill-1").await,
        acknowledged + BATCH as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_database_file_makes_the_server_unready_and_it_recovers_without_a_restart() {
    let test = "an_unwritable_database_file_makes_the_server_unready";
    let Some(disk) = SmallDisk::ext4(32, test) else {
        return;
    };
    let app = spawn_app_with(|settings| settings.database_url = disk.database_url()).await;
    app.create_machine("mill-1", "ai4i2020").await;
    let before = app
        .post_readings(
            "mill-1",
            "application/json",
            &ai4i_json_batch(BATCH, "before"),
        )
        .await;
    assert_eq!(before.status(), StatusCode::CREATED);

    // Not the -shm file: SQLite maps it into memory, and the process would die on SIGBUS.
    let files = ["icantkube.db", "icantkube.db-wal"];
    disk.set_writable(&files, false);
    let refused = app
        .post_readings(
            "mill-1",
            "application/json",
            &ai4i_json_batch(BATCH, "during"),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(retry_after.parse::<u64>().unwrap() >= 1, "{retry_after}");
    let answer: Value = refused.json().await.unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("storage failing"),
        "{answer}"
    );
    wait_for_readiness(
        &app.address,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(app.reading_count("mill-1").await, BATCH as i64);

    disk.set_writable(&files, true);
    wait_for_readiness(&app.address, StatusCode::OK, Duration::from_secs(10)).await;
    let after = app
        .post_readings(
            "mill-1",
            "application/json",
            &ai4i_json_batch(BATCH, "during"),
        )
        .await;
    let status = after.status();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        after.text().await.unwrap()
    );
    assert_eq!(app.reading_count("mill-1").await, 2 * BATCH as i64);
}

/// Posts `BATCH`-reading batches to `base` one after another until `stop`, each retried
/// (with the same sequence ids) until a 2xx, as a client following `Retry-After` would;
/// answers the batches sent, the refusals (all 503 with `Retry-After`), and anything else.
async fn steady_retrying_load(
    base: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> (usize, usize, Vec<String>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let (mut batches, mut refused, mut unexpected) = (0, 0, Vec::new());
    while !*stop.borrow() {
        let body = ai4i_json_batch(BATCH, &format!("steady-{batches}"));
        loop {
            let answer = client
                .post(format!("{base}/api/v1/machines/mill-1/readings"))
                .bearer_auth(GLOBAL_TOKEN)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match answer {
                Ok(response) if response.status().is_success() => break,
                Ok(response)
                    if response.status() == StatusCode::SERVICE_UNAVAILABLE
                        && response.headers().contains_key("retry-after") =>
                {
                    refused += 1
                }
                Ok(response) => unexpected.push(format!("batch {batches}: {}", response.status())),
                Err(error) => unexpected.push(format!("batch {batches}: {error}")),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        batches += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (batches, refused, unexpected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_stopped_under_load_is_refused_with_503_and_the_replica_recovers_without_a_restart(
) {
    let test = "a_mariadb_stopped_under_load";
    let Some(mut mariadb) = OwnMariaDb::start(test) else {
        return;
    };
    let server = ServerProcess::start(&mariadb.url()).await;
    let client = reqwest::Client::new();
    server.create_machine("mill-1", "ai4i2020", json!({})).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(steady_retrying_load(server.base.clone(), stopped));
    tokio::time::sleep(Duration::from_millis(500)).await;

    mariadb.stop();
    let unready = wait_for_readiness(
        &server.base,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(30),
    )
    .await;
    let page = client
        .get(format!("{}/machines/mill-1", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = page.text().await.unwrap();
    assert!(page.contains("database is unavailable"), "{page}");

    mariadb.restart();
    let ready = wait_for_readiness(&server.base, StatusCode::OK, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(true).unwrap();
    let (batches, refused, unexpected) = load.await.unwrap();
    println!(
        "MariaDB stopped: unready after {unready:?}, ready again {ready:?} after its restart; \
         {batches} batches, {refused} refusals with 503 and Retry-After"
    );
    assert_eq!(unexpected, Vec::<String>::new());
    assert!(refused > 0, "the load met the stopped database");
    assert_eq!(
        server.reading_count("mill-1").await,
        (batches * BATCH) as i64,
        "every acknowledged batch stored, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_the_temporary_folder_cannot_hold_gets_503_and_stores_nothing() {
    let test = "an_upload_the_temporary_folder_cannot_hold";
    let Some(disk) = SmallDisk::tmpfs(1, test) else {
        return;
    };
    let folder = TempDir::new().unwrap();
    let url = fresh_url(folder.path()).await;
    let scratch = disk.file("");
    let server = ServerProcess::start_with(&url, &[("TMPDIR", scratch.to_str().unwrap())]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (cookie, csrf) = admin_session_at(&server.base, &client).await;
    let upload = |csv: String| {
        let form = Form::new()
            .text("csrf", csrf.clone())
            .part("file", Part::text(csv).file_name("mills.csv"));
        client
            .post(format!("{}/datasets", server.base))
            .header(reqwest::header::COOKIE, &cookie)
            .multipart(form)
            .send()
    };
    let db = icantkube::db::Database::connect(&url, 2).await.unwrap();
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM datasets")
            .fetch_one(db.pool())
            .await
            .unwrap()
    };

    let big = milling_csv(11, 2, 30_000);
    assert!(big.len() > 2 << 20, "{} bytes fit in 1 MiB", big.len());
    let response = upload(big).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "30");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("nothing was changed"));
    assert_eq!(stored().await, 0);

    // The refused upload's scratch file gave its space back: one of 600 KiB fits.
    let fits = milling_csv(11, 2, 6_000);
    assert!(fits.len() > 600 << 10, "{} bytes", fits.len());
    let response = upload(fits).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let form_page = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        form_page.starts_with("/training/new?dataset="),
        "{form_page}"
    );
    assert_eq!(stored().await, 1);
}
