//! The alarm webhook against a real local HTTP receiver: each transition is POSTed once
//! committed, signed with HMAC-SHA256 of the body, tried again after the receiver fails, and
//! not sent again once it took it; a receiver that keeps failing shows on the alarms page.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use icantkube::alarms::webhook::signature;
use icantkube::configuration::{Secret, WebhookFormat, WebhookSettings};
use reqwest::header::COOKIE;
use serde_json::Value;

use crate::alarms::{mill_with_model_and, post as post_reading, CRITICAL};
use crate::support::app::{add_user, user_session_at, TestApp};

const SECRET: &str = "webhook-test-secret";

/// What the receiver got: each request's headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver on a free loopback port that answers `failures` requests with 500, then 200.
async fn receiver(failures: usize) -> (String, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let mut log = log.lock().unwrap();
                log.push((headers, body.to_vec()));
                if log.len() <= failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook?token=not-for-logs",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn app_announcing_to(url: &str) -> TestApp {
    let url = url.to_string();
    mill_with_model_and(move |settings| {
        settings.alarm_webhook = Some(WebhookSettings {
            url,
            secret: Some(Secret::new(SECRET)),
            format: WebhookFormat::Json,
        })
    })
    .await
}

async fn post_critical(app: &TestApp, seq: &str) {
    let now = icantkube::domain::time::now_ms();
    assert_eq!(post_reading(app, seq, now, CRITICAL).await, "critical");
}

/// Waits until the receiver has `count` requests, for at most `seconds`.
async fn until_received(received: &Received, count: usize, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while received.lock().unwrap().len() < count {
        assert!(
            Instant::now() < deadline,
            "the receiver got {} of {count} requests in {seconds} s",
            received.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn each_transition_is_posted_signed_tried_again_after_a_failure_and_sent_once() {
    let (url, received) = receiver(1).await;
    let app = app_announcing_to(&url).await;
    post_critical(&app, "c1").await;
    post_critical(&app, "c2").await;
    // The first try fails; the second, 2 s later, is taken.
    until_received(&received, 2, 15).await;

    let admin = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    add_user(
        &app.address,
        &admin,
        "eng",
        "engineer",
        "an engineer's password",
    )
    .await;
    let (cookie, csrf) =
        user_session_at(&app.address, &admin, "eng", "an engineer's password").await;
    let response = admin
        .post(app.url("/alarms/1/acknowledge"))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str()), ("note", "on my way")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    until_received(&received, 3, 10).await;
    // Nothing is sent twice once taken.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = received.lock().unwrap().clone();
    assert_eq!(
        received.len(),
        3,
        "one raise (tried twice) and one acknowledgement"
    );

    let delivery = |i: usize| {
        received[i].0["x-icantkube-delivery"]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(delivery(0), delivery(1), "the retry is the same delivery");
    assert_ne!(delivery(1), delivery(2));
    for (headers, body) in &received {
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            headers["x-icantkube-signature"].to_str().unwrap(),
            signature(SECRET, body),
            "signed with the secret"
        );
        assert_ne!(
            headers["x-icantkube-signature"].to_str().unwrap(),
            signature("other", body)
        );
    }
    let raised: Value = serde_json::from_slice(&received[1].1).unwrap();
    assert_eq!(raised["event"], "alarm.raised");
    assert_eq!(received[1].0["x-icantkube-event"], "alarm.raised");
    assert_eq!(raised["alarm"]["machine"], "mill-1");
    assert_eq!(raised["alarm"]["severity"], "critical");
    assert_eq!(raised["alarm"]["failure_mode"], "HDF");
    let acknowledged: Value = serde_json::from_slice(&received[2].1).unwrap();
    assert_eq!(acknowledged["event"], "alarm.acknowledged");
    assert_eq!(acknowledged["by"], "eng");
    assert_eq!(acknowledged["note"], "on my way");
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_shows_on_the_alarms_page() {
    let (url, received) = receiver(usize::MAX).await;
    let app = app_announcing_to(&url).await;
    post_critical(&app, "c1").await;
    until_received(&received, 1, 10).await;
    // The failure is noted just after the answer.
    let deadline = Instant::now() + Duration::from_secs(5);
    let page = loop {
        let page = app.page("/alarms").await;
        if page.contains("The alarm webhook failed") || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        page.contains("1 transitions are waiting to be sent again"),
        "{page}"
    );
    assert!(page.contains("answered 500"), "{page}");
    assert!(
        !page.contains("not-for-logs"),
        "the URL's query stays out of the page"
    );
}
