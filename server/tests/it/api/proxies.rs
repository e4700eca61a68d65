//! Behind a proxy: the sign-in limit counts each client by the address a trusted proxy
//! reports, a client cannot pick its own address, and forwarding headers from anyone else
//! change nothing (neither the address nor `Secure` cookies and HSTS).

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::support::app::{spawn_app, spawn_app_with, TestApp, ADMIN_PASSWORD};

/// Creates a machine as admin over HTTP Basic, `forwarded_for` as the proxy's header.
async fn create_machine(
    app: &TestApp,
    name: &str,
    password: &str,
    forwarded_for: &str,
) -> StatusCode {
    app.client
        .post(app.url("/api/v1/machines"))
        .header("x-forwarded-for", forwarded_for)
        .basic_auth("admin", Some(password))
        .json(&json!({ "name": name, "profile": "ai4i2020" }))
        .send()
        .await
        .unwrap()
        .status()
}

async fn guess_five_times(app: &TestApp, forwarded_for: impl Fn(usize) -> String) {
    for i in 0..5 {
        let status = create_machine(app, &format!("guess-{i}"), "wrong", &forwarded_for(i)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
}

async fn sign_in(app: &TestApp, headers: &[(&str, &str)]) -> Response {
    let not_following = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = not_following
        .post(app.url("/login"))
        .form(&[("password", ADMIN_PASSWORD), ("next", "/")]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn cookie(response: &Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit() {
    let app = spawn_app_with(|settings| {
        settings.proxies.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    guess_five_times(&app, |_| "203.0.113.7".into()).await;
    let limited = create_machine(&app, "guess-5", "wrong", "203.0.113.7").await;
    assert_eq!(limited, StatusCode::TOO_MANY_REQUESTS);
    // A made-up hop in front of the one the proxy wrote does not open a new allowance.
    let spoofed = create_machine(&app, "guess-6", "wrong", "198.51.100.99, 203.0.113.7").await;
    assert_eq!(spoofed, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not locked out.
    let other = create_machine(&app, "mill-1", ADMIN_PASSWORD, "203.0.113.8").await;
    assert_eq!(other, StatusCode::CREATED);
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_change_nothing() {
    let app = spawn_app().await;
    // Each guess claims another address; all count against the peer's.
    guess_five_times(&app, |i| format!("203.0.113.{i}")).await;
    let limited = create_machine(&app, "guess-5", "wrong", "203.0.113.200").await;
    assert_eq!(limited, StatusCode::TOO_MANY_REQUESTS);

    let app = spawn_app().await;
    let signed_in = sign_in(&app, &[("x-forwarded-proto", "https")]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(
        !cookie(&signed_in).contains("Secure"),
        "{}",
        cookie(&signed_in)
    );
    assert!(!signed_in
        .headers()
        .contains_key("strict-transport-security"));
}

#[tokio::test]
async fn https_reported_by_a_trusted_proxy_or_set_for_the_site_makes_cookies_secure() {
    let app = spawn_app_with(|settings| {
        settings.proxies.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let plain = sign_in(&app, &[]).await;
    assert!(!cookie(&plain).contains("Secure"), "{}", cookie(&plain));
    let over_tls = sign_in(&app, &[("x-forwarded-proto", "https")]).await;
    assert!(
        cookie(&over_tls).contains("; Secure"),
        "{}",
        cookie(&over_tls)
    );
    assert_eq!(
        over_tls.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    let app = spawn_app_with(|settings| settings.proxies.https_only = true).await;
    let https_only = sign_in(&app, &[]).await;
    assert!(
        cookie(&https_only).contains("; Secure"),
        "{}",
        cookie(&https_only)
    );
    assert!(https_only
        .headers()
        .contains_key("strict-transport-security"));
}
