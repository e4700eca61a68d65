//! Live inference: readings of a machine with an active model are scored while they are
//! ingested, the prediction is stored and answered, and a promotion takes effect at once.

use icantkube::db::model_versions;
use ml::Model;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{spawn_app, TestApp};
use crate::support::data::{engines_csv, milling_csv};
use crate::support::model::{register_in, train};

/// Registers the model straight in the database (what a training run does), through a
/// connection of its own; answers the version id.
pub async fn register(app: &TestApp, profile: &str, model: &Model) -> i64 {
    register_file(app, profile, model, model.to_bytes()).await
}

/// `register`, with `artifact` as the model file.
async fn register_file(app: &TestApp, profile: &str, model: &Model, artifact: Vec<u8>) -> i64 {
    let db = app.database().await;
    let version = register_in(&db, profile, model, artifact).await;
    db.close().await;
    version
}

/// Registers the model and makes it the machine's active version; answers the version id.
pub async fn promote(app: &TestApp, machine: &str, profile: &str, model: &Model) -> i64 {
    let version = register(app, profile, model).await;
    let db = app.database().await;
    let machine: Value = app.get_json(&format!("/api/v1/machines/{machine}")).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM machines WHERE name = ?")
        .bind(machine["name"].as_str().unwrap())
        .fetch_one(db.pool())
        .await
        .unwrap();
    model_versions::promote(db.pool(), id, version, "test", "test")
        .await
        .unwrap();
    db.close().await;
    version
}

pub fn milling_reading(seq: &str, values: [f64; 5]) -> String {
    json!({
        "seq": seq,
        "values": {
            "air_temperature": values[0],
            "process_temperature": values[1],
            "rotational_speed": values[2],
            "torque": values[3],
            "tool_wear": values[4],
        }
    })
    .to_string()
}

#[tokio::test]
async fn each_reading_is_scored_and_the_answer_carries_the_prediction() {
    let app = spawn_app().await;
    app.admin_post(
        "/api/v1/machines",
        json!({ "name": "mill-1", "profile": "ai4i2020", "attributes": { "type": "M" } }),
    )
    .await;
    // Without a model, readings are stored but not scored.
    let response = app
        .post_readings(
            "mill-1",
            "application/json",
            &milling_reading("a", [300.0, 310.5, 1500.0, 40.0, 20.0]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scored"], 0);
    assert!(body.get("prediction").is_none(), "{body}");

    let csv = milling_csv(11, 4, 1000);
    let model = train(&csv, 30, true);
    let version = promote(&app, "mill-1", "ai4i2020", &model).await;

    // Deep in the heat-dissipation failure region.
    let response = app
        .post_readings(
            "mill-1",
            "application/json",
            &milling_reading("b", [302.0, 309.0, 1290.0, 55.0, 80.0]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scored"], 1, "{body}");
    let prediction = &body["prediction"];
    assert_eq!(prediction["model_version_id"], version);
    assert_eq!(prediction["status"], "critical", "{body}");
    assert_eq!(prediction["failure"], true);
    assert_eq!(prediction["failure_mode"], "HDF");
    assert!(prediction["failure_probability"].as_f64().unwrap() > 0.5);
    assert!(
        !prediction["drivers"].as_array().unwrap().is_empty(),
        "{body}"
    );

    let machine: Value = app.get_json("/api/v1/machines/mill-1").await;
    assert_eq!(machine["status"], "critical");
    assert_eq!(machine["failure_mode"], "HDF");
    assert_eq!(machine["active_model_version_id"], version);

    // The speed chart shows where the model's status changes along the speed, the other
    // inputs as now: a limit below the speed near the 1380 rpm of the heat-dissipation rule
    // the simulated data follows (with a temperature difference under 8.6 K, as here).
    let page = app.page("/machines/mill-1").await;
    let limit = number_after(&page, "critical below ", " rpm")
        .unwrap_or_else(|| panic!("no speed limit on the page: {page}"));
    assert!(
        (1330.0..=1440.0).contains(&limit),
        "critical below {limit} rpm"
    );

    // A calm reading brings it back; a batch is scored reading by reading.
    let batch = format!(
        "[{},{}]",
        milling_reading("c", [300.0, 310.5, 1500.0, 40.0, 21.0]),
        milling_reading("d", [300.1, 310.6, 1510.0, 39.0, 22.0])
    );
    let body: Value = app
        .post_readings("mill-1", "application/json", &batch)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scored"], 2);
    assert_eq!(body["prediction"]["status"], "healthy", "{body}");
    let db = app.database().await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM predictions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 3, "one prediction per scored reading");

    // The machine page shows the prediction and its history chart.
    let page = app.page("/machines/mill-1").await;
    assert!(
        page.contains("Failure probability"),
        "prediction section missing"
    );
    assert!(
        page.contains(&format!("ai4i2020 v{}", 1)),
        "model version missing"
    );
}

#[tokio::test]
async fn a_series_model_scores_remaining_life_from_the_machine_history() {
    let app = spawn_app().await;
    app.create_machine("engine-1", "turbofan").await;
    let csv = engines_csv(12, 12);
    let model = train(&csv, 20, false);
    promote(&app, "engine-1", "turbofan", &model).await;

    // One engine's life from the same simulation, posted one cycle per request for the first
    // forty cycles, then the rest as one batch.
    let engine_csv = engines_csv(99, 1);
    let mut lines = engine_csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Value> = lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let values: serde_json::Map<String, Value> = header[2..]
                .iter()
                .zip(&fields[2..])
                .map(|(k, v)| (k.to_string(), json!(v.parse::<f64>().unwrap())))
                .collect();
            json!({ "seq": fields[1], "values": values })
        })
        .collect();
    let mut last = Value::Null;
    for row in rows.iter().take(40) {
        last = app
            .post_readings("engine-1", "application/json", &row.to_string())
            .await
            .json()
            .await
            .unwrap();
    }
    let early = last["prediction"]["remaining_life"].as_f64().unwrap();
    let body: Value = app
        .post_readings(
            "engine-1",
            "application/json",
            &Value::Array(rows[40..].to_vec()).to_string(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scored"].as_u64().unwrap() as usize, rows.len() - 40);
    let end = &body["prediction"];
    let late = end["remaining_life"].as_f64().unwrap();
    assert!(
        late < early,
        "life left falls as the engine wears: {early} then {late}"
    );
    assert!(
        late < 40.0,
        "at its last cycle the engine has little life left: {late}"
    );
    assert_eq!(end["status"], "critical", "{body}");
    assert!(end["remaining_life_low"].as_f64().unwrap() <= late);
    assert!(end["remaining_life_high"].as_f64().unwrap() >= late);
    let machine: Value = app.get_json("/api/v1/machines/engine-1").await;
    assert_eq!(machine["life_unit"], "cycles");
}

#[tokio::test]
async fn promotion_through_the_api_checks_the_credential_and_the_schema() {
    let app = spawn_app().await;
    app.admin_post(
        "/api/v1/machines",
        json!({ "name": "mill-2", "profile": "ai4i2020", "attributes": { "type": "L" } }),
    )
    .await;
    app.create_machine("engine-2", "turbofan").await;
    let csv = milling_csv(13, 2, 800);
    let model = train(&csv, 10, true);
    // Registered for the mill, then offered to both machines through the API.
    let version = promote(&app, "mill-2", "ai4i2020", &model).await;
    let put = |machine: &str, admin: bool, body: Value| {
        let request = app
            .client
            .put(app.url(&format!("/api/v1/machines/{machine}/model")))
            .json(&body);
        let request = if admin {
            request.basic_auth("admin", Some(crate::support::app::ADMIN_PASSWORD))
        } else {
            request
        };
        request.send()
    };
    let refused = put("mill-2", false, json!({ "model_version_id": version }))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let mismatch = put("engine-2", true, json!({ "model_version_id": version }))
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = mismatch.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("machine engine-2") && error.contains("the sensor air_temperature"),
        "{error}"
    );
    let engine: Value = app.get_json("/api/v1/machines/engine-2").await;
    assert!(
        engine["active_model_version_id"].is_null(),
        "nothing changed on refusal"
    );

    let missing = put("mill-2", true, json!({ "model_version_id": 999 }))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let accepted = put(
        "mill-2",
        true,
        json!({ "model_version_id": version, "reason": "better F1" }),
    )
    .await
    .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let body: Value = accepted.json().await.unwrap();
    assert_eq!(body["version"], 1);
    let db = app.database().await;
    let latest = icantkube::db::promotions::history(db.pool(), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(latest.promoted_by, "admin (API)");
    assert_eq!(latest.reason.as_deref(), Some("better F1"));
}

/// A model file whose card (its second line, JSON) `change` edited.
fn with_card(file: &[u8], change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let first = file.iter().position(|b| *b == b'\n').unwrap() + 1;
    let second = first + file[first..].iter().position(|b| *b == b'\n').unwrap();
    let mut card: Value = serde_json::from_slice(&file[first..second]).unwrap();
    change(&mut card);
    let mut edited = file[..first].to_vec();
    edited.extend(serde_json::to_vec(&card).unwrap());
    edited.extend(&file[second..]);
    edited
}

#[tokio::test]
async fn a_damaged_model_file_is_refused_at_promotion_and_the_server_stays_healthy() {
    let app = spawn_app().await;
    app.create_machine("mill-1", "ai4i2020").await;
    let model = train(&milling_csv(13, 2, 400), 5, true);
    // Fewer reference values than features: drivers would index past the end.
    let damaged = with_card(&model.to_bytes(), |card| card["reference"] = json!([]));
    let version = register_file(&app, "ai4i2020", &model, damaged).await;
    let response = app
        .client
        .put(app.url("/api/v1/machines/mill-1/model"))
        .basic_auth("admin", Some(crate::support::app::ADMIN_PASSWORD))
        .json(&json!({ "model_version_id": version }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("damaged model file") && error.contains("reference values"),
        "{error}"
    );
    let machine: Value = app.get_json("/api/v1/machines/mill-1").await;
    assert!(machine["active_model_version_id"].is_null());
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// The number between `before` and `after` in `text`, at their first occurrence together.
fn number_after(text: &str, before: &str, after: &str) -> Option<f64> {
    text.match_indices(before).find_map(|(at, _)| {
        let rest = &text[at + before.len()..];
        let end = rest.find(after)?;
        rest[..end].parse().ok()
    })
}
