//! `POST /api/v1/machines/{machine}/readings`: valid batches are stored whole, every kind of
//! bad input is refused with a 4xx that names the problem and stores nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{
    ai4i_json_batch, spawn_app, TestApp, GLOBAL_TOKEN, MAX_BATCH_READINGS, MAX_BODY_BYTES,
};

const JSON: &str = "application/json";
const CSV: &str = "text/csv";

async fn app_with_mill() -> TestApp {
    let app = spawn_app().await;
    app.create_machine("mill-1", "ai4i2020").await;
    app
}

#[tokio::test]
async fn a_valid_json_batch_is_stored_and_counted() {
    let app = app_with_mill().await;
    let response = app
        .post_readings("mill-1", JSON, &ai4i_json_batch(25, "a"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["stored"], 25);
    assert_eq!(body["duplicates"], 0);
    assert_eq!(app.reading_count("mill-1").await, 25);
}

#[tokio::test]
async fn a_single_json_reading_and_a_csv_batch_are_stored() {
    let app = app_with_mill().await;
    let single = json!({
        "timestamp": "2026-11-26T12:00:00Z",
        "values": {"air_temperature": 298.1, "process_temperature": 308.6,
                   "rotational_speed": 1551, "torque": 42.8, "tool_wear": 0}
    });
    let response = app.post_readings("mill-1", JSON, &single.to_string()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let csv = "timestamp,seq,air_temperature,process_temperature,rotational_speed,torque,tool_wear,failure,failure_mode\n\
               2026-11-26T12:00:01Z,c1,298.2,308.7,1408,46.3,3,0,\n\
               2026-11-26T12:00:02Z,c2,298.1,308.5,1498,49.4,5,1,HDF\n";
    let response = app.post_readings("mill-1", CSV, csv).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.reading_count("mill-1").await, 3);

    let machine: Value = app.get_json("/api/v1/machines/mill-1").await;
    assert_eq!(machine["last_reading_at"], "2026-11-26T12:00:02Z");
    assert_eq!(machine["latest_values"]["torque"], 49.4);
}

#[tokio::test]
async fn a_retried_batch_stores_nothing_twice() {
    let app = app_with_mill().await;
    let batch = ai4i_json_batch(10, "retry");
    assert_eq!(
        app.post_readings("mill-1", JSON, &batch).await.status(),
        StatusCode::CREATED
    );
    let again = app.post_readings("mill-1", JSON, &batch).await;
    assert_eq!(again.status(), StatusCode::OK);
    let body: Value = again.json().await.unwrap();
    assert_eq!(
        (body["stored"].as_i64(), body["duplicates"].as_i64()),
        (Some(0), Some(10))
    );
    // A batch that overlaps the first stores only its new readings.
    let overlapping = ai4i_json_batch(15, "retry");
    let body: Value = app
        .post_readings("mill-1", JSON, &overlapping)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (body["stored"].as_i64(), body["duplicates"].as_i64()),
        (Some(5), Some(10))
    );
    assert_eq!(app.reading_count("mill-1").await, 15);
}

#[tokio::test]
async fn concurrent_retries_of_one_batch_store_it_once() {
    let app = app_with_mill().await;
    let batch = ai4i_json_batch(200, "race");
    let posts: Vec<_> = (0..4)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/api/v1/machines/mill-1/readings"))
                .bearer_auth(GLOBAL_TOKEN)
                .header("content-type", JSON)
                .body(batch.clone());
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for post in posts {
        let status = post.await.unwrap();
        assert!(status.is_success(), "{status}");
    }
    assert_eq!(app.reading_count("mill-1").await, 200);
}

/// Posts a bad request, checks it is refused with `status` and a message containing `names`,
/// and that nothing was stored.
async fn assert_refused(
    app: &TestApp,
    response: reqwest::Response,
    status: StatusCode,
    names: &[&str],
) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    let message = body["error"].as_str().unwrap_or_default().to_string();
    for name in names {
        assert!(
            message.contains(name),
            "{message:?} does not mention {name:?}"
        );
    }
    assert_eq!(app.reading_count("mill-1").await, 0, "after: {message}");
}

#[tokio::test]
async fn every_kind_of_bad_input_is_refused_and_stores_nothing() {
    let app = app_with_mill().await;
    let valid_values = r#""air_temperature":298.1,"process_temperature":308.6,"rotational_speed":1551,"torque":42.8,"tool_wear":0"#;

    // Unknown machine.
    let response = app
        .post_readings("mill-404", JSON, &ai4i_json_batch(1, "x"))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("mill-404"));

    // Missing and wrong tokens.
    let response = app
        .post_readings_with_token("mill-1", JSON, &ai4i_json_batch(1, "x"), None)
        .await;
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"icantkube\""
    );
    assert_refused(&app, response, StatusCode::UNAUTHORIZED, &["token missing"]).await;
    let response = app
        .post_readings_with_token("mill-1", JSON, &ai4i_json_batch(1, "x"), Some("guess"))
        .await;
    assert_refused(&app, response, StatusCode::UNAUTHORIZED, &["not valid"]).await;

    // Wrong content type.
    let response = app.post_readings("mill-1", "text/plain", "hello").await;
    assert_refused(
        &app,
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &["text/plain"],
    )
    .await;

    // Malformed JSON and CSV.
    let response = app.post_readings("mill-1", JSON, "[{\"values\": {").await;
    assert_refused(
        &app,
        response,
        StatusCode::BAD_REQUEST,
        &["line 1", "column"],
    )
    .await;
    let ragged =
        "air_temperature,process_temperature,rotational_speed,torque,tool_wear\n300,310,1500,40,5\n300,310\n";
    let response = app.post_readings("mill-1", CSV, ragged).await;
    assert_refused(&app, response, StatusCode::BAD_REQUEST, &["line 3"]).await;

    // Empty batch.
    let response = app.post_readings("mill-1", JSON, "[]").await;
    assert_refused(
        &app,
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["no reading"],
    )
    .await;

    // Unknown sensor, missing sensor, a value that is not a finite number: the second reading
    // is bad, so the good first one must not be stored either.
    let cases = [
        (format!(r#"{{"values":{{{valid_values},"humidity":3}}}}"#), "values.humidity"),
        (
            r#"{"values":{"air_temperature":298.1,"process_temperature":308.6,"rotational_speed":1551,"torque":42.8}}"#.to_string(),
            "values.tool_wear",
        ),
        (
            r#"{"values":{"air_temperature":298.1,"process_temperature":308.6,"rotational_speed":1551,"torque":"high","tool_wear":0}}"#.to_string(),
            "values.torque",
        ),
    ];
    for (bad, field) in cases {
        let batch = format!(r#"[{{"values":{{{valid_values}}}}}, {bad}]"#);
        let response = app.post_readings("mill-1", JSON, &batch).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["details"][0]["reading"], 2, "{body}");
        assert_eq!(body["details"][0]["field"], field, "{body}");
        assert_eq!(app.reading_count("mill-1").await, 0);
    }
    let csv_nan = "air_temperature,process_temperature,rotational_speed,torque,tool_wear\n300,310,1500,40,5\n300,310,1500,inf,5\n";
    let response = app.post_readings("mill-1", CSV, csv_nan).await;
    assert_refused(
        &app,
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["line 3, column 4 (torque)"],
    )
    .await;

    // Unparseable and absurd timestamps.
    for timestamp in [
        r#""last tuesday""#,
        r#""1969-07-20T20:17:00Z""#,
        "99999999999",
    ] {
        let reading = format!(r#"{{"timestamp":{timestamp},"values":{{{valid_values}}}}}"#);
        let response = app.post_readings("mill-1", JSON, &reading).await;
        assert_refused(
            &app,
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            &["timestamp"],
        )
        .await;
    }

    // More readings than a batch may hold, in either format, under the byte limit.
    let many = ai4i_json_batch(MAX_BATCH_READINGS + 1, "many");
    assert!(many.len() < MAX_BODY_BYTES);
    let response = app.post_readings("mill-1", JSON, &many).await;
    assert_refused(
        &app,
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        &[&format!("at most {MAX_BATCH_READINGS} readings")],
    )
    .await;
    let many_rows = format!(
        "air_temperature,process_temperature,rotational_speed,torque,tool_wear\n{}",
        "298.1,308.6,1551,42.8,0\n".repeat(MAX_BATCH_READINGS + 1)
    );
    let response = app.post_readings("mill-1", "text/csv", &many_rows).await;
    assert_refused(
        &app,
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        &[&format!("at most {MAX_BATCH_READINGS} readings")],
    )
    .await;

    // Body over the limit.
    let huge = ai4i_json_batch(MAX_BODY_BYTES / 100, "big");
    assert!(huge.len() > MAX_BODY_BYTES);
    let response = app.post_readings("mill-1", JSON, &huge).await;
    assert_refused(
        &app,
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["larger than"],
    )
    .await;
}

#[tokio::test]
async fn a_batch_of_exactly_the_reading_limit_is_stored() {
    let app = app_with_mill().await;
    let batch = ai4i_json_batch(MAX_BATCH_READINGS, "full");
    let response = app.post_readings("mill-1", JSON, &batch).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.reading_count("mill-1").await, MAX_BATCH_READINGS as i64);
}

#[tokio::test]
async fn a_machine_token_works_for_its_machine_only() {
    let app = app_with_mill().await;
    app.create_machine("mill-2", "ai4i2020").await;
    let token: Value = app
        .admin_post(
            "/api/v1/machines/mill-1/tokens",
            json!({"label": "gateway"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let ok = app
        .post_readings_with_token("mill-1", JSON, &ai4i_json_batch(1, "t"), Some(&token))
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let other = app
        .post_readings_with_token("mill-2", JSON, &ai4i_json_batch(1, "t"), Some(&token))
        .await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.reading_count("mill-2").await, 0);
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once_and_only_admins_see_or_revoke_tokens() {
    let app = app_with_mill().await;
    app.create_machine("mill-2", "ai4i2020").await;
    let created: Value = app
        .admin_post(
            "/api/v1/machines/mill-1/tokens",
            json!({"label": "gateway"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (id, token) = (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap(),
    );
    let app = &app;
    let post = |seq: &'static str| async move {
        let batch = ai4i_json_batch(1, seq);
        app.post_readings_with_token("mill-1", JSON, &batch, Some(token))
            .await
    };
    assert_eq!(post("before").await.status(), StatusCode::CREATED);

    let tokens = |admin: bool| {
        let request = app.client.get(app.url("/api/v1/machines/mill-1/tokens"));
        let request = if admin {
            request.basic_auth("admin", Some(crate::support::app::ADMIN_PASSWORD))
        } else {
            request
        };
        request.send()
    };
    assert_eq!(
        tokens(false).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let listed: Value = tokens(true).await.unwrap().json().await.unwrap();
    assert_eq!(listed["tokens"][0]["id"], id);
    assert_eq!(listed["tokens"][0]["label"], "gateway");
    assert!(listed["tokens"][0]["revoked_at"].is_null());
    assert!(
        !listed.to_string().contains(token),
        "the list shows the secret"
    );

    let revoke = |machine: &str, admin: bool| {
        let request = app
            .client
            .delete(app.url(&format!("/api/v1/machines/{machine}/tokens/{id}")));
        let request = if admin {
            request.basic_auth("admin", Some(crate::support::app::ADMIN_PASSWORD))
        } else {
            request.bearer_auth(token)
        };
        request.send()
    };
    // The token itself cannot revoke anything, and another machine has no such token.
    assert_eq!(
        revoke("mill-1", false).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        revoke("mill-2", true).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(post("still").await.status(), StatusCode::CREATED);
    assert_eq!(
        revoke("mill-1", true).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(post("after").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        revoke("mill-1", true).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let listed: Value = tokens(true).await.unwrap().json().await.unwrap();
    assert!(listed["tokens"][0]["revoked_at"].is_i64());
    assert_eq!(app.reading_count("mill-1").await, 2);
}

#[tokio::test]
async fn values_beyond_a_sensors_range_are_refused_and_stored_extremes_still_draw_the_page() {
    let app = app_with_mill().await;
    let reading = |speed: &str, torque: &str| {
        format!(
            r#"{{"values":{{"air_temperature":300,"process_temperature":310,"rotational_speed":{speed},"torque":{torque},"tool_wear":1}}}}"#
        )
    };
    for (body, field, words) in [
        (
            reading("1e308", "40"),
            "values.rotational_speed",
            "beyond any physical reading",
        ),
        (
            reading("1500", "-3"),
            "values.torque",
            "range, 0 to 1000 Nm",
        ),
    ] {
        let response = app.post_readings("mill-1", JSON, &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let refusal: Value = response.json().await.unwrap();
        assert_eq!(refusal["details"][0]["field"], field, "{refusal}");
        assert!(
            refusal["error"].as_str().unwrap().contains(words),
            "{refusal}"
        );
    }
    assert_eq!(app.reading_count("mill-1").await, 0);

    // Readings stored before values were bounded: the page must still draw, in bounded time.
    let batch = format!("[{}, {}]", reading("1500", "40"), reading("1501", "41"));
    let response = app.post_readings("mill-1", JSON, &batch).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let db = app.database().await;
    for (id, speed) in [(1, "1e308"), (2, "-1e308")] {
        sqlx::query("UPDATE readings SET sensor_values = ? WHERE id = ?")
            .bind(format!("[300.0,310.0,{speed},40.0,1.0]"))
            .bind(id)
            .execute(db.pool())
            .await
            .unwrap();
    }
    let page = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        app.page("/machines/mill-1"),
    )
    .await
    .expect("the machine page answers in time");
    assert!(page.contains("<svg"), "the page draws its charts");
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// Sends request headers and the first bytes of a body that never completes; answers the status
/// line, if the server answers within `seconds`.
fn status_before_the_body_ends(address: &str, headers: &str, seconds: u64) -> Option<String> {
    use std::io::{BufRead, BufReader, Write};
    let port = address.rsplit(':').next().unwrap();
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(seconds)))
        .unwrap();
    stream
        .write_all(format!("{headers}\r\n[{{\"values\":").as_bytes())
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    Some(line.trim_end().to_string())
}

#[tokio::test]
async fn the_machine_the_token_and_a_declared_length_are_checked_before_the_body_is_read() {
    let app = app_with_mill().await;
    let post = |machine: &str, auth: &str, length: usize| {
        format!(
            "POST /api/v1/machines/{machine}/readings HTTP/1.1\r\nHost: x\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {length}\r\n"
        )
    };
    let bearer = format!("Authorization: Bearer {GLOBAL_TOKEN}\r\n");
    let cases = [
        (post("mill-1", "", 100_000), "401"),
        (
            post("mill-1", "Authorization: Bearer nope\r\n", 100_000),
            "401",
        ),
        (post("nope", &bearer, 100_000), "404"),
        (post("mill-1", &bearer, MAX_BODY_BYTES + 1), "413"),
    ];
    for (headers, status) in cases {
        let address = app.address.clone();
        let request = headers.clone();
        let answered =
            tokio::task::spawn_blocking(move || status_before_the_body_ends(&address, &request, 5))
                .await
                .unwrap();
        let line = answered.unwrap_or_else(|| panic!("no answer before the body ended: {headers}"));
        assert!(
            line.starts_with(&format!("HTTP/1.1 {status}")),
            "{line} for {headers}"
        );
    }
    assert_eq!(app.reading_count("mill-1").await, 0);
}
