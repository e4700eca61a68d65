//! Slow and idle clients on raw TCP: a half-sent request, an idle kept-alive connection and a
//! stalled body are cut off on time, and a full connection cap neither refuses the probes on
//! the metrics port nor keeps clients out once slots free.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::app::{spawn_app_with, TestApp, GLOBAL_TOKEN};

const HEADER_TIMEOUT: Duration = Duration::from_millis(800);
const BODY_TIMEOUT: Duration = Duration::from_millis(800);

async fn app_with_limits(max_connections: usize) -> TestApp {
    spawn_app_with(|settings| {
        settings.connections.max_connections = max_connections;
        settings.connections.header_timeout = HEADER_TIMEOUT;
        settings.connections.body_timeout = BODY_TIMEOUT;
    })
    .await
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; answers what it sent and when it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(
            within.saturating_sub(start.elapsed()),
            stream.read(&mut buffer),
        )
        .await
        .unwrap_or_else(|_| panic!("the server kept the connection open past {within:?}"));
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        start.elapsed(),
    )
}

#[tokio::test]
async fn a_half_sent_request_is_cut_off_after_the_header_timeout() {
    let app = app_with_limits(64).await;
    let mut stream = connect(&app.address).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let (_, closed_after) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed_after >= HEADER_TIMEOUT / 2, "{closed_after:?}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let app = app_with_limits(64).await;
    let mut stream = connect(&app.address).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed_after) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed_after >= HEADER_TIMEOUT / 2, "{closed_after:?}");
}

#[tokio::test]
async fn a_stalled_ingest_body_gets_408_and_stores_nothing() {
    let app = app_with_limits(64).await;
    app.create_machine("mill-1", "ai4i2020").await;
    let mut stream = connect(&app.address).await;
    let head = format!(
        "POST /api/v1/machines/mill-1/readings HTTP/1.1\r\nHost: test\r\n\
         Authorization: Bearer {GLOBAL_TOKEN}\r\nContent-Type: application/json\r\n\
         Content-Length: 400\r\n\r\n[{{\"values\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    assert_eq!(app.reading_count("mill-1").await, 0);
}

#[tokio::test]
async fn at_the_connection_cap_new_clients_wait_for_a_slot_and_probes_answer_on_the_metrics_port() {
    let app = app_with_limits(4).await;
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(connect(&app.address).await);
    }
    // Let the server take all four before the fifth arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let fifth = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/healthz");
        async move { client.get(url).send().await.map(|r| r.status()) }
    });
    let probe = app
        .client
        .get(format!("{}/healthz", app.metrics_address))
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .expect("the metrics port answers while the app's port is full");
    assert_eq!(probe.status(), 200);
    let ready = app
        .client
        .get(format!("{}/readyz", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let status = tokio::time::timeout(Duration::from_secs(5), fifth)
        .await
        .expect("the fifth client was served once the silent ones were cut off")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= HEADER_TIMEOUT / 2,
        "the fifth client was served before a slot freed: {:?}",
        started.elapsed()
    );
    drop(silent);
}
