//! Admin sign-in, data-set upload and training runs through the web forms, against a real
//! server whose local runner starts the real `icantkube` binary.

use std::time::{Duration, Instant};

use icantkube::auth::AdminCredential;
use icantkube::configuration::Secret;
use icantkube::db::{datasets, Database};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use reqwest::{redirect, Client, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::app::{csrf_token, spawn_app, spawn_app_with, TestApp, ADMIN_PASSWORD};

/// A signed-in admin: the session cookie and the CSRF token its pages carry.
struct Admin {
    cookie: String,
    csrf: String,
}

/// A client that shows redirects instead of following them.
fn browser() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(app: &TestApp) -> Admin {
    let response = browser()
        .post(app.url("/login"))
        .form(&[("password", ADMIN_PASSWORD), ("next", "/training")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/training");
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let page = get_page(app, "/training/new", Some(&cookie)).await;
    Admin {
        cookie,
        csrf: csrf_token(&page),
    }
}

async fn get_page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut request = browser().get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap()
}

async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser().post(app.url(path)).form(form);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

async fn upload(app: &TestApp, admin: &Admin, file_name: &str, csv: String) -> reqwest::Response {
    let form = Form::new()
        .text("csrf", admin.csrf.clone())
        .text("name", "generated mills")
        .part("file", Part::text(csv).file_name(file_name.to_string()));
    browser()
        .post(app.url("/datasets"))
        .header(COOKIE, &admin.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The ids of the training processes of the run at `run_path` of this app (tests run side by
/// side, each with its own database and run numbers): found by their command line, then by
/// the database in their environment. The command line must not carry the database URL, which
/// holds a password on MariaDB and is readable by every user of the machine.
fn worker_processes(app: &TestApp, run_path: &str) -> Vec<String> {
    let id = run_path.rsplit('/').next().unwrap();
    let output = std::process::Command::new("pgrep")
        .args(["-f", &format!("train --run-id {id} --runner local$")])
        .output()
        .unwrap();
    let wanted = format!("DATABASE_URL={}", app.database_url);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|pid| {
            let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&command).contains(&app.database_url),
                "the database URL is on the command line"
            );
            let environment = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            environment
                .split(|byte| *byte == 0)
                .any(|variable| variable == wanted.as_bytes())
        })
        .map(str::to_string)
        .collect()
}

/// Sends the form that makes a data set of the machine's history; answers where it redirects.
async fn history_as_dataset(app: &TestApp, admin: &Admin, machine: &str) -> String {
    let form = [("csrf", admin.csrf.as_str()), ("machine", machine)];
    let response = post_form(app, "/datasets/from-machine", Some(&admin.cookie), &form).await;
    location(&response)
}

/// Posts JSON readings to the machine; they must be stored.
async fn post_json(app: &TestApp, machine: &str, readings: Vec<Value>) {
    let body = Value::Array(readings).to_string();
    let response = app.post_readings(machine, "application/json", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{machine}");
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

fn milling_csv(processes: usize) -> String {
    crate::support::data::milling_csv(11, 2, processes)
}

/// Polls the run's JSON-free page state through the database-backed page until it ends.
async fn wait_for_run(app: &TestApp, run_path: &str, cookie: &str) -> String {
    let started = Instant::now();
    loop {
        let page = get_page(app, run_path, Some(cookie)).await;
        for state in ["completed", "failed", "cancelled"] {
            if page.contains(&format!("data-state=\"{state}\"")) {
                return page;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run did not end in time; last page:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_guesses_are_rate_limited() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let response = post_form(&app, "/login", None, &[("password", "guess")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&response).contains("wrong%20user%20name%20or%20password"),
            "{}",
            location(&response)
        );
        assert!(response.headers().get(SET_COOKIE).is_none());
    }
    // Even the right password is refused while the address is blocked.
    let response = post_form(&app, "/login", None, &[("password", ADMIN_PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert!(response.headers().get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn every_admin_form_refuses_without_a_session_and_without_the_csrf_token() {
    let app = spawn_app().await;
    let admin = sign_in(&app).await;
    let forms: [(&str, Vec<(&str, &str)>); 6] = [
        ("/datasets/from-machine", vec![("machine", "mill-1")]),
        ("/logout", vec![]),
        (
            "/training",
            vec![
                ("dataset_id", "1"),
                ("target", "x"),
                ("algorithm", "linear"),
            ],
        ),
        ("/training/1/cancel", vec![]),
        ("/models/1/promote", vec![("machine", "")]),
        ("/datasets", vec![]),
    ];
    for (path, fields) in &forms {
        let response = post_form(&app, path, None, fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{path} without a session"
        );
        let response = post_form(&app, path, Some(&admin.cookie), fields).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{path} without the token"
        );
        let mut wrong = fields.clone();
        wrong.push(("csrf", "not-the-token"));
        let response = post_form(&app, path, Some(&admin.cookie), &wrong).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
    }
    // A multipart upload without the token, or with a wrong one.
    let form = Form::new().part("file", Part::text(milling_csv(50)).file_name("a.csv"));
    let response = browser()
        .post(app.url("/datasets"))
        .header(COOKIE, &admin.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let forged = Admin {
        cookie: admin.cookie.clone(),
        csrf: "forged".into(),
    };
    let response = upload(&app, &forged, "a.csv", milling_csv(50)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nothing was stored by any of them: the form lists no data set.
    let page = get_page(&app, "/training/new", Some(&admin.cookie)).await;
    assert!(
        !page.contains("?dataset="),
        "a refused upload stored a data set"
    );

    // Signing out ends the session everywhere.
    let response = post_form(
        &app,
        "/logout",
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let response = post_form(
        &app,
        "/training/1/cancel",
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let page = get_page(&app, "/training/new", Some(&admin.cookie)).await;
    assert!(page.contains("Sign in"), "{page}");
}

#[tokio::test]
async fn a_broken_upload_names_the_line_and_column_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = sign_in(&app).await;
    let mut csv = milling_csv(50);
    // Line 4 of the file (header is line 1) gets a word in a numeric column.
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let torque = header.iter().position(|h| h.starts_with("Torque")).unwrap();
    let mut cells: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    cells[torque] = "lots".into();
    lines[3] = cells.join(",");
    csv = lines.join("\n");
    let response = upload(&app, &admin, "broken.csv", csv).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.starts_with("/training/new?error="), "{back}");
    assert!(
        back.contains("line%204") && back.contains("Torque"),
        "{back}"
    );
    let page = get_page(&app, "/training/new", Some(&admin.cookie)).await;
    assert!(!page.contains("?dataset="), "the broken file was stored");

    // Following the redirect from this site, the page says what was wrong.
    let followed = browser()
        .get(app.url(&back))
        .header(COOKIE, &admin.cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), StatusCode::OK);
    assert!(followed.text().await.unwrap().contains("line 4"));
    // The same address from a link elsewhere goes to the page without the message, so no one
    // can make the page say what they like.
    for site in [Some("cross-site"), Some("none"), None] {
        let mut request = browser().get(app.url("/training/new?error=Call%20555-0100%20now"));
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let response = request.header(COOKIE, &admin.cookie).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{site:?}");
        assert_eq!(location(&response), "/training/new");
    }
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused() {
    let app = spawn_app_with(|settings| settings.max_upload_bytes = 64 * 1024).await;
    let admin = sign_in(&app).await;
    let response = upload(&app, &admin, "big.csv", milling_csv(3000)).await;
    let back = reqwest::Url::parse(&app.url(&location(&response))).unwrap();
    let error = back.query_pairs().find(|(key, _)| key == "error");
    assert!(
        error.is_some_and(|(_, message)| message.contains("upload limit of 64 KiB (65536 bytes")),
        "{back}"
    );
}

#[tokio::test]
async fn a_large_upload_is_stored_in_parts_and_reads_back_byte_for_byte() {
    let app = spawn_app().await;
    let admin = sign_in(&app).await;
    let csv = milling_csv(30_000);
    let part = datasets::PART_BYTES as usize;
    assert!(csv.len() > 2 * part, "{} bytes is too small", csv.len());

    let response = upload(&app, &admin, "mills.csv", csv.clone()).await;
    let form_page = location(&response);
    let id: i64 = form_page
        .strip_prefix("/training/new?dataset=")
        .unwrap_or_else(|| panic!("{form_page}"))
        .parse()
        .unwrap();
    let db = Database::connect(&app.database_url, 2).await.unwrap();
    let sizes: Vec<i64> = sqlx::query_scalar(
        "SELECT LENGTH(bytes) FROM dataset_parts WHERE dataset_id = ? ORDER BY position",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(sizes.len(), csv.len().div_ceil(part), "{sizes:?}");
    assert!(sizes[..sizes.len() - 1].iter().all(|s| *s as usize == part));
    assert_eq!(
        datasets::content(db.pool(), id).await.unwrap(),
        csv.as_bytes()
    );
    let stored = datasets::find(db.pool(), id).await.unwrap().unwrap();
    assert_eq!(
        stored.content_sha256,
        hex::encode(Sha256::digest(csv.as_bytes()))
    );
    assert_eq!(stored.row_count as usize, csv.lines().count() - 1);

    // The form shows the first values, read back from the parts.
    let first_row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let torque = first_row[5].parse::<f64>().unwrap().to_string();
    let page = get_page(&app, &form_page, Some(&admin.cookie)).await;
    assert!(
        page.contains(&torque),
        "the first torque, {torque}, is shown"
    );
}

#[tokio::test]
async fn an_admin_uploads_data_trains_and_the_better_model_scores_the_next_reading() {
    let app = spawn_app().await;
    let response = app
        .admin_post(
            "/api/v1/machines",
            serde_json::json!({"name": "mill-1", "profile": "ai4i2020", "attributes": {"type": "M"}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let admin = sign_in(&app).await;

    let response = upload(&app, &admin, "mills.csv", milling_csv(600)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let form_page = location(&response);
    assert!(
        form_page.starts_with("/training/new?dataset="),
        "{form_page}"
    );
    let dataset_id = form_page.rsplit('=').next().unwrap().to_string();

    // The preview shows the detected roles: the failure flag is the target, mode flags labels.
    let page = get_page(&app, &form_page, Some(&admin.cookie)).await;
    assert!(page.contains("recognised as ai4i2020"), "{page}");
    let role_of = |page: &str, column: &str| -> String {
        let row = page.split(&format!(">{column}</label>")).nth(1).unwrap();
        row.split("selected")
            .next()
            .unwrap()
            .rsplit("value=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(role_of(&page, "Machine failure"), "target");
    assert_eq!(role_of(&page, "HDF"), "label");
    assert_eq!(role_of(&page, "UDI"), "id");

    // A wrong choice is refused on the form, naming the field, and starts nothing.
    let response = post_form(
        &app,
        "/training",
        Some(&admin.cookie),
        &[
            ("csrf", &admin.csrf),
            ("dataset_id", &dataset_id),
            ("target", "Machine failure"),
            ("algorithm", "random_forest"),
            ("trees", "0"),
        ],
    )
    .await;
    assert!(
        location(&response).contains("trees"),
        "{}",
        location(&response)
    );
    let runs = get_page(&app, "/training", None).await;
    assert!(
        runs.contains("No training runs yet"),
        "a refused form started a run"
    );

    let response = post_form(
        &app,
        "/training",
        Some(&admin.cookie),
        &[
            ("csrf", &admin.csrf),
            ("dataset_id", &dataset_id),
            ("target", "Machine failure"),
            ("algorithm", "random_forest"),
            ("trees", "20"),
            ("machine", "mill-1"),
            ("auto_promote", "1"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let run_path = location(&response);
    assert!(run_path.starts_with("/training/"), "{run_path}");
    let page = wait_for_run(&app, &run_path, &admin.cookie).await;
    assert!(page.contains("data-state=\"completed\""), "{page}");
    assert!(
        page.contains("ai4i2020 v1"),
        "the run names its model version: {page}"
    );
    assert!(
        page.contains(">local<"),
        "the run says where it ran: {page}"
    );

    // Promoted automatically (there was no active version), and the next reading is scored.
    let machine: Value = app.get_json("/api/v1/machines/mill-1").await;
    assert!(machine["active_model_version_id"].is_i64(), "{machine}");
    let response = app
        .post_readings(
            "mill-1",
            "application/json",
            &crate::support::app::ai4i_json_batch(1, "after"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scored"], 1, "{body}");
    assert_eq!(
        body["prediction"]["model_version_id"], machine["active_model_version_id"],
        "{body}"
    );

    // The models page shows the version, active on the machine, with its plots.
    let models = get_page(&app, "/models", None).await;
    assert!(models.contains("active on mill-1"), "{models}");
    assert!(models.contains("<svg"), "the version's plots are drawn");
}

#[tokio::test]
async fn a_killed_worker_fails_its_run_and_the_queue_goes_on() {
    let app = spawn_app().await;
    let admin = sign_in(&app).await;
    let response = upload(&app, &admin, "mills.csv", milling_csv(2000)).await;
    let dataset_id = location(&response).rsplit('=').next().unwrap().to_string();
    let start = |trees: &'static str| {
        let (app, admin, dataset_id) = (&app, &admin, dataset_id.clone());
        async move {
            let response = post_form(
                app,
                "/training",
                Some(&admin.cookie),
                &[
                    ("csrf", &admin.csrf),
                    ("dataset_id", &dataset_id),
                    ("target", "Machine failure"),
                    ("algorithm", "random_forest"),
                    ("trees", trees),
                ],
            )
            .await;
            location(&response)
        }
    };
    let doomed = start("400").await;
    let next = start("10").await;
    // Kill the first run's training process once it is running.
    let started = Instant::now();
    let pid = loop {
        if let Some(pid) = worker_processes(&app, &doomed).into_iter().next() {
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let page = wait_for_run(&app, &doomed, &admin.cookie).await;
    assert!(page.contains("data-state=\"failed\""), "{page}");
    assert!(page.contains("killed by signal 9"), "{page}");
    let page = wait_for_run(&app, &next, &admin.cookie).await;
    assert!(
        page.contains("data-state=\"completed\""),
        "the queue stopped: {page}"
    );
}

#[tokio::test]
async fn a_queued_or_running_run_can_be_cancelled() {
    let app = spawn_app().await;
    let admin = sign_in(&app).await;
    let response = upload(&app, &admin, "mills.csv", milling_csv(2000)).await;
    let dataset_id = location(&response).rsplit('=').next().unwrap().to_string();
    let response = post_form(
        &app,
        "/training",
        Some(&admin.cookie),
        &[
            ("csrf", &admin.csrf),
            ("dataset_id", &dataset_id),
            ("target", "Machine failure"),
            ("algorithm", "random_forest"),
            ("trees", "400"),
        ],
    )
    .await;
    let run = location(&response);
    let response = post_form(
        &app,
        &format!("{run}/cancel"),
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        !location(&response).contains("error="),
        "{}",
        location(&response)
    );
    let page = wait_for_run(&app, &run, &admin.cookie).await;
    assert!(page.contains("data-state=\"cancelled\""), "{page}");
    assert!(
        page.contains("Cancelled by</dt><dd>admin"),
        "who cancelled it: {page}"
    );
    // An ended run, or one that does not exist, is not "cancelled" again: the form says why.
    for (path, words) in [
        (format!("{run}/cancel"), "has already ended (cancelled)"),
        (
            "/training/999/cancel".to_string(),
            "there is no training run 999",
        ),
    ] {
        let response = post_form(&app, &path, Some(&admin.cookie), &[("csrf", &admin.csrf)]).await;
        let to = reqwest::Url::parse(&app.url(&location(&response))).unwrap();
        let error = to.query_pairs().find(|(key, _)| key == "error");
        assert!(
            error.is_some_and(|(_, message)| message.contains(words)),
            "{to}"
        );
    }
    // No training process is left behind.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        worker_processes(&app, &run).is_empty(),
        "the worker still runs"
    );
}

#[tokio::test]
async fn a_machines_labelled_history_becomes_a_data_set() {
    let app = spawn_app().await;
    for name in ["mill-h", "mill-new"] {
        let response = app
            .admin_post(
                "/api/v1/machines",
                serde_json::json!({"name": name, "profile": "ai4i2020", "attributes": {"type": "L"}}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let readings: Vec<Value> = (0..30)
        .map(|i| {
            let failed = i % 10 == 9;
            serde_json::json!({
                "seq": i,
                "values": {"air_temperature": 300.0, "process_temperature": 310.0,
                           "rotational_speed": 1500.0, "torque": 40.0, "tool_wear": i},
                "failure": u8::from(failed),
                "failure_mode": if failed { Some("HDF") } else { None },
            })
        })
        .collect();
    post_json(&app, "mill-h", readings).await;
    // Unlabelled readings are not training data.
    let response = app
        .post_readings(
            "mill-new",
            "application/json",
            &crate::support::app::ai4i_json_batch(5, "u"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let admin = sign_in(&app).await;
    let refused = history_as_dataset(&app, &admin, "mill-new").await;
    assert!(refused.contains("no%20readings%20labelled"), "{refused}");

    let preview = history_as_dataset(&app, &admin, "mill-h").await;
    assert!(preview.starts_with("/training/new?dataset="), "{preview}");
    let page = get_page(&app, &preview, Some(&admin.cookie)).await;
    assert!(page.contains("mill-h history"), "{page}");
    assert!(page.contains("30 rows, recognised as ai4i2020"), "{page}");

    // A longer history is exported a page of 10,000 readings at a time, in the order they were
    // recorded: 3,000 readings at each instant, so pages end among readings of one instant.
    let response = app
        .admin_post(
            "/api/v1/machines",
            serde_json::json!({"name": "mill-long", "profile": "ai4i2020", "attributes": {"type": "M"}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for batch in 0..24 {
        let readings: Vec<Value> = (0..1_000)
            .map(|i| {
                let wear = batch * 1_000 + i;
                serde_json::json!({
                    "timestamp": 1_700_000_000 + wear / 3_000,
                    "values": {"air_temperature": 300.0, "process_temperature": 310.0,
                               "rotational_speed": 1500.0, "torque": 40.0,
                               "tool_wear": f64::from(wear) / 10.0},
                    "failure": u8::from(wear % 100 == 99),
                })
            })
            .collect();
        post_json(&app, "mill-long", readings).await;
    }
    let preview = history_as_dataset(&app, &admin, "mill-long").await;
    let id: i64 = preview
        .strip_prefix("/training/new?dataset=")
        .unwrap_or_else(|| panic!("{preview}"))
        .parse()
        .unwrap();
    let db = Database::connect(&app.database_url, 2).await.unwrap();
    let csv = String::from_utf8(datasets::content(db.pool(), id).await.unwrap()).unwrap();
    let wear: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(6).unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..24_000)
        .map(|w: i32| (f64::from(w) / 10.0).to_string())
        .collect();
    assert!(
        wear == expected,
        "every reading once, in the order recorded"
    );
}

#[tokio::test]
async fn a_session_ends_when_the_admin_password_changes_or_admin_is_turned_off() {
    let first = spawn_app().await;
    let admin = sign_in(&first).await;
    let signed_in = |app: &TestApp| {
        let (app_url, cookie, csrf) =
            (app.url("/logout"), admin.cookie.clone(), admin.csrf.clone());
        async move {
            // Signing out is an admin form: without a live session it answers 401. Only the
            // last check, on a replica that knows the session, really signs out.
            browser()
                .post(app_url)
                .header(COOKIE, cookie)
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let replica = |adjust: fn(&mut icantkube::configuration::Settings)| {
        let database_url = first.database_url.clone();
        spawn_app_with(move |settings| {
            settings.database_url = database_url;
            adjust(settings);
        })
    };
    let changed = replica(|settings| {
        settings.admin = AdminCredential::Plain(Secret::new("a-new-password"));
    })
    .await;
    assert_eq!(signed_in(&changed).await, StatusCode::UNAUTHORIZED);
    let disabled = replica(|settings| settings.admin = AdminCredential::Disabled).await;
    assert_eq!(signed_in(&disabled).await, StatusCode::UNAUTHORIZED);
    // A replica with the same password still knows the session.
    let same = replica(|_| {}).await;
    assert_eq!(signed_in(&same).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signing_in_forgets_expired_sessions() {
    let app = spawn_app().await;
    let db = app.database().await;
    let now = icantkube::domain::time::now_ms();
    icantkube::db::admin_sessions::insert(db.pool(), "expired", None, "csrf", now - 1)
        .await
        .unwrap();
    sign_in(&app).await;
    let left: Vec<String> = sqlx::query_scalar("SELECT id_sha256 FROM admin_sessions")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], "expired");
}
