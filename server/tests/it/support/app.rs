//! Starting a test server and talking to it.

use std::time::Duration;

use icantkube::auth::AdminCredential;
use icantkube::configuration::{
    ConnectionSettings, DemoSettings, ProxySettings, Secret, Settings, TrainingSettings, Viewing,
};
use icantkube::startup::Application;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

use super::database::{fresh_url, MAX_CONNECTIONS};

pub const ADMIN_PASSWORD: &str = "admin-secret";
pub const GLOBAL_TOKEN: &str = "global-ingest-token";
/// Small, so the over-the-limit test needs no big body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Small, for the same reason.
pub const MAX_BATCH_READINGS: usize = 1_000;

/// A running server with its own database file.
pub struct TestApp {
    pub address: String,
    /// The metrics listener's base URL.
    pub metrics_address: String,
    pub client: reqwest::Client,
    /// Where its data lives, so a second server can open the same database.
    pub database_url: String,
    _folder: TempDir,
}

/// Test settings on a fresh SQLite file (`spawn_app_with` puts the database the run uses in
/// place of it); `adjust` changes what a test needs.
pub fn settings(folder: &TempDir) -> Settings {
    // Logs only when asked: `TEST_LOG=1 cargo test`.
    if std::env::var_os("TEST_LOG").is_some() {
        icantkube::telemetry::init();
    }
    Settings {
        database_url: format!("sqlite://{}", folder.path().join("test.db").display()),
        database_max_connections: MAX_CONNECTIONS,
        database_wait: Duration::from_secs(30),
        listen: "127.0.0.1:0".parse().unwrap(),
        admin: AdminCredential::Plain(Secret::new(ADMIN_PASSWORD)),
        ingest_token: Some(Secret::new(GLOBAL_TOKEN)),
        demo: DemoSettings {
            enabled: false,
            interval: Duration::from_secs(2),
        },
        max_body_bytes: MAX_BODY_BYTES,
        max_batch_readings: MAX_BATCH_READINGS,
        tracking: None,
        max_upload_bytes: 8 * 1024 * 1024,
        grafana_url: None,
        // The server runs inside the test binary: its local runner must start the real one.
        training: TrainingSettings {
            local_executable: Some(env!("CARGO_BIN_EXE_icantkube").into()),
            ..TrainingSettings::default()
        },
        metrics_listen: "127.0.0.1:0".parse().unwrap(),
        metrics_machine_cap: 200,
        shutdown_drain: Duration::from_secs(5),
        shutdown_delay: Duration::ZERO,
        background_lease: Duration::from_secs(30),
        raw_retention: None,
        connections: ConnectionSettings {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
        },
        proxies: ProxySettings {
            trusted_proxies: Vec::new(),
            https_only: false,
        },
        viewing: Viewing::Open,
        alarm_clear_after: Duration::from_secs(600),
        alarm_webhook: None,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let folder = tempfile::tempdir().unwrap();
    let mut settings = settings(&folder);
    settings.database_url = fresh_url(folder.path()).await;
    adjust(&mut settings);
    let database_url = settings.database_url.clone();
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = format!("http://127.0.0.1:{}", app.metrics_port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        database_url,
        _folder: folder,
    }
}

impl TestApp {
    /// A connection pool of its own to the server's database.
    pub async fn database(&self) -> icantkube::db::Database {
        icantkube::db::Database::connect(&self.database_url, MAX_CONNECTIONS)
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Registers a machine of a built-in profile as admin; panics unless it is created.
    pub async fn create_machine(&self, name: &str, profile: &str) -> Value {
        let response = self
            .admin_post(
                "/api/v1/machines",
                json!({ "name": name, "profile": profile }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {name}");
        response.json().await.unwrap()
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a readings body with the global token.
    pub async fn post_readings(&self, machine: &str, content_type: &str, body: &str) -> Response {
        self.post_readings_with_token(machine, content_type, body, Some(GLOBAL_TOKEN))
            .await
    }

    pub async fn post_readings_with_token(
        &self,
        machine: &str,
        content_type: &str,
        body: &str,
        token: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(&format!("/api/v1/machines/{machine}/readings")))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// GETs a JSON document.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A page's HTML, as a browser gets it before hydration.
    pub async fn page(&self, path: &str) -> String {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// Readings stored for a machine, as the API reports them.
    pub async fn reading_count(&self, machine: &str) -> i64 {
        let machine: Value = self.get_json(&format!("/api/v1/machines/{machine}")).await;
        machine["reading_count"].as_i64().expect("reading_count")
    }
}

/// `n` valid AI4I readings as a JSON array, with sequence ids `prefix-0 ...`.
pub fn ai4i_json_batch(n: usize, prefix: &str) -> String {
    let readings: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "seq": format!("{prefix}-{i}"),
                "values": {
                    "air_temperature": 298.0 + i as f64 * 0.01,
                    "process_temperature": 308.6,
                    "rotational_speed": 1551.0,
                    "torque": 42.8,
                    "tool_wear": i as f64,
                },
            })
        })
        .collect();
    serde_json::to_string(&readings).unwrap()
}

/// Signs in through the form with `client` (which must not follow redirects), then reads a
/// signed-in page: answers the session cookie (`name=value`) and the session's CSRF token.
pub async fn admin_session(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    admin_session_at(&app.address, client).await
}

/// `admin_session` on the server at `base` (`http://HOST:PORT`).
pub async fn admin_session_at(base: &str, client: &reqwest::Client) -> (String, String) {
    session_with(base, client, &[("password", ADMIN_PASSWORD)], "admin").await
}

/// Signs in through the form with `fields` (and `next=/`), then reads a signed-in page:
/// answers the session cookie and the CSRF token of the header's sign-out form, which every
/// signed-in user's page carries.
async fn session_with(
    base: &str,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
    who: &str,
) -> (String, String) {
    let response = client
        .post(format!("{base}/login"))
        .form(&[fields, &[("next", "/")]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "signing in as {who}"
    );
    assert_eq!(
        response.headers()[reqwest::header::LOCATION],
        "/",
        "signing in as {who}"
    );
    let cookie = session_cookie(&response);
    let page = client
        .get(format!("{base}/"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (cookie, csrf_token(&page))
}

/// Adds a user through the users page's form, signed in as the bootstrap admin with `client`
/// (which must not follow redirects); fails unless the page reports the user added.
pub async fn add_user(
    base: &str,
    client: &reqwest::Client,
    name: &str,
    role: &str,
    password: &str,
) {
    let (cookie, csrf) = admin_session_at(base, client).await;
    let response = client
        .post(format!("{base}/users"))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("role", role),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "adding {name}");
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    assert!(
        location.starts_with("/users?done="),
        "adding {name}: {location}"
    );
}

/// Signs in as a named user through the form with `client` (which must not follow
/// redirects): answers the session cookie and the CSRF token.
pub async fn user_session_at(
    base: &str,
    client: &reqwest::Client,
    name: &str,
    password: &str,
) -> (String, String) {
    session_with(
        base,
        client,
        &[("user", name), ("password", password)],
        name,
    )
    .await
}

/// Posts a form with a session (`(cookie, csrf)`), the token as its `csrf` field; answers the
/// status and where it led (`Location`, empty when none).
pub async fn post_form_as(
    app: &TestApp,
    path: &str,
    session: &(String, String),
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(path))
        .header(reqwest::header::COOKIE, &session.0)
        .form(&[&[("csrf", session.1.as_str())], fields].concat())
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status(), location)
}

/// The query of a redirect's location, decoded: `error=there is no user named x`.
pub fn decoded_query(location: &str) -> String {
    form_urlencoded::parse(location.split_once('?').map_or("", |(_, q)| q).as_bytes())
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `name=value` of a sign-in answer's `Set-Cookie`.
fn session_cookie(response: &Response) -> String {
    response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The CSRF token a signed-in page carries in its forms.
pub fn csrf_token(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a signed-in page carries the CSRF token")
        .to_string()
}
