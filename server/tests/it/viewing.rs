//! `ICANTKUBE_VIEWING=signed-in`, as the Kubernetes deployment runs: pages send visitors to
//! sign in and back, the read-only API answers 401 unless a user's session or the admin's
//! password comes with it, and what machines and probes need keeps working without a session.

use std::time::Duration;

use icantkube::configuration::Viewing;
use reqwest::header::{COOKIE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{redirect, Client, StatusCode};

use crate::support::app::{
    add_user, ai4i_json_batch, spawn_app_with, user_session_at, ADMIN_PASSWORD, GLOBAL_TOKEN,
};

#[tokio::test]
async fn with_sign_in_required_visitors_are_sent_to_sign_in_and_users_see_everything() {
    let app = spawn_app_with(|settings| settings.viewing = Viewing::SignedIn).await;
    app.create_machine("mill-1", "ai4i2020").await;
    let browser = Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    for (path, back) in [
        ("/", "%2F"),
        (
            "/machines/mill-1?window=24h",
            "%2Fmachines%2Fmill-1%3Fwindow%3D24h",
        ),
        ("/models", "%2Fmodels"),
        ("/users", "%2Fusers"),
    ] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            response.headers()[LOCATION],
            format!("/login?next={back}"),
            "{path}"
        );
    }
    let response = browser
        .get(app.url("/api/v1/machines"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(WWW_AUTHENTICATE));
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("sign in to view"),
        "{body}"
    );
    let response = browser
        .get(app.url("/api/v1/machines/mill-1"))
        .basic_auth("admin", Some("a wrong guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Open as before: signing in, the probes, and machines posting with their token.
    for path in ["/login", "/healthz", "/readyz"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = app
        .post_readings("mill-1", "application/json", &ai4i_json_batch(3, "v"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // A viewer's session sees pages and data; so does the admin's password on the API.
    add_user(
        &app.address,
        &browser,
        "vic",
        "viewer",
        "a viewer's password",
    )
    .await;
    let (cookie, _) = user_session_at(&app.address, &browser, "vic", "a viewer's password").await;
    let response = browser
        .get(app.url("/machines/mill-1"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("mill-1"));
    let response = browser
        .get(app.url("/api/v1/machines/mill-1"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let machine: serde_json::Value = response.json().await.unwrap();
    assert_eq!(machine["reading_count"], 3);
    let response = browser
        .get(app.url("/api/v1/machines"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A machine's ingest token is not a way to read the fleet.
    let response = browser
        .get(app.url("/api/v1/machines"))
        .bearer_auth(GLOBAL_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
