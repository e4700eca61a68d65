//! Acknowledged readings survive a crash: the real binary is killed with SIGKILL and started
//! again on the same database file.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{ai4i_json_batch, ADMIN_PASSWORD, GLOBAL_TOKEN};
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(database: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_icantkube"))
        .arg("serve")
        .env("DATABASE_URL", database)
        .env("ICANTKUBE_LISTEN", format!("127.0.0.1:{port}"))
        .env("ICANTKUBE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ICANTKUBE_INGEST_TOKEN", GLOBAL_TOKEN)
        .env_remove("ICANTKUBE_DEMO")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the icantkube binary starts")
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn acknowledged_readings_survive_a_killed_process() {
    let folder = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", folder.path().join("crash.db").display());
    let client = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    let mut server = start(&database, port);
    wait_ready(&client, &base).await;
    let created = client
        .post(format!("{base}/api/v1/machines"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&json!({"name": "mill-1", "profile": "ai4i2020"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    for batch in 0..5 {
        let response = client
            .post(format!("{base}/api/v1/machines/mill-1/readings"))
            .bearer_auth(GLOBAL_TOKEN)
            .header("content-type", "application/json")
            .body(ai4i_json_batch(100, &format!("b{batch}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start(&database, port);
    wait_ready(&client, &base).await;
    let machine: serde_json::Value = client
        .get(format!("{base}/api/v1/machines/mill-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(machine["reading_count"], 500);
}
