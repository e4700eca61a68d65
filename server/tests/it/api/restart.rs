//! The real binary as its own process: acknowledged readings survive a crash (it is killed
//! with SIGKILL and started again on the same database file), SIGTERM stops it within its
//! drain time even with a request half sent, and it starts while another icantkube holds the
//! default ports, as when a user runs the app and the tests side by side.

use std::net::TcpListener;

use serde_json::json;

use crate::support::app::{ai4i_json_batch, ADMIN_PASSWORD, GLOBAL_TOKEN};
use crate::support::binary::ServerProcess;

#[tokio::test]
async fn acknowledged_readings_survive_a_killed_process() {
    let folder = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", folder.path().join("crash.db").display());
    let client = reqwest::Client::new();

    let server = ServerProcess::start(&database).await;
    let base = server.base.clone();
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
    server.kill();

    let server = ServerProcess::start(&database).await;
    let count = server.reading_count("mill-1").await;
    server.kill();
    assert_eq!(count, 500);
}

#[tokio::test]
async fn the_binary_serves_while_the_default_app_and_metrics_ports_are_taken() {
    // Held here unless something (an icantkube the user runs) holds them already.
    let defaults = ["127.0.0.1:3000", "127.0.0.1:9464"];
    let _held: Vec<TcpListener> = defaults
        .iter()
        .filter_map(|address| TcpListener::bind(address).ok())
        .collect();
    for address in defaults {
        assert!(
            TcpListener::bind(address).is_err(),
            "{address} should be taken for this test"
        );
    }
    let folder = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", folder.path().join("ports.db").display());

    let server = ServerProcess::start(&database).await;

    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert!(health.status().is_success());
}

#[tokio::test]
async fn sigterm_stops_the_server_within_its_drain_even_with_a_request_half_sent() {
    use std::io::Write;
    use std::time::Duration;

    let folder = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", folder.path().join("drain.db").display());
    let server = ServerProcess::start_with(&database, &[("ICANTKUBE_SHUTDOWN_DRAIN", "1s")]).await;
    // Headers announce a body that never comes: the handler waits on it.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stalled
        .write_all(
            b"POST /api/v1/machines/mill-1/readings HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"values\"",
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let took = server.terminate(Duration::from_secs(15)).await;

    let took = took.expect("the server exited after SIGTERM");
    assert!(
        took < Duration::from_secs(6),
        "took {took:?} with a 1 s drain"
    );
    drop(stalled);
}
