//! Maintenance records from the machine page's form: a repair or a part replaced labels the
//! run up to it (its last reading the failure, the rest not failed), the machine history data
//! set carries those labels, and a model trained on it learns them; a false alarm settles its
//! alarm. Viewers may not record, and bad input is refused naming the field.

use icantkube::db::alarms::{self, AlarmFilter, Signal};
use icantkube::db::{datasets, Database};
use icantkube::domain::time::to_rfc3339;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::{redirect, Client, StatusCode};
use serde_json::{json, Value};

use crate::support::app::{
    add_user, admin_session_at, decoded_query, post_form_as, spawn_app, user_session_at, TestApp,
};
use crate::support::data::{dataset, milling_csv};
use crate::support::model::{register_in, train};

/// 2023-11-14T22:14:00Z, in seconds: readings come a minute apart from here.
const START: i64 = 1_700_000_040;
const READINGS: i64 = 300;
const PASSWORD: &str = "maintenance password";

fn browser() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The form's time field for reading `i`: its minute, in UTC.
fn minute_of(i: i64) -> String {
    to_rfc3339((START + 60 * i) * 1000)
        .chars()
        .take(16)
        .collect()
}

/// Torque is high on every 50th reading: the failures the engineers will record.
fn fails(i: i64) -> bool {
    i % 50 == 49
}

/// Posts the maintenance form; answers the status and the decoded query it led to.
async fn record(
    app: &TestApp,
    session: &(String, String),
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let (status, location) =
        post_form_as(app, "/machines/mill-1/maintenance", session, fields).await;
    (status, decoded_query(&location))
}

async fn count(db: &Database, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn repairs_label_the_run_before_them_and_a_model_trained_on_the_history_learns_them() {
    let app = spawn_app().await;
    app.admin_post(
        "/api/v1/machines",
        json!({ "name": "mill-1", "profile": "ai4i2020", "attributes": { "type": "M" } }),
    )
    .await;
    let readings: Vec<Value> = (0..READINGS)
        .map(|i| {
            json!({
                "seq": i,
                "timestamp": START + 60 * i,
                "values": {"air_temperature": 300.0 + (i % 7) as f64 * 0.1,
                           "process_temperature": 310.0 + (i % 4) as f64 * 0.1,
                           "rotational_speed": 1500.0 + (i % 5) as f64,
                           "torque": if fails(i) { 70.0 } else { 40.0 + (i % 3) as f64 },
                           "tool_wear": i % 200},
            })
        })
        .collect();
    let response = app
        .post_readings(
            "mill-1",
            "application/json",
            &Value::Array(readings).to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let admin = browser();
    add_user(&app.address, &admin, "eng", "engineer", PASSWORD).await;
    add_user(&app.address, &admin, "vic", "viewer", PASSWORD).await;
    let engineer = user_session_at(&app.address, &browser(), "eng", PASSWORD).await;
    let viewer = user_session_at(&app.address, &browser(), "vic", PASSWORD).await;
    let when = minute_of(49);
    let repair = [
        ("kind", "repair"),
        ("failure_mode", "OSF"),
        ("done_at", when.as_str()),
    ];
    let (status, _) = record(&app, &viewer, &repair).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer may not record maintenance"
    );

    // Bad input names its field and labels nothing.
    let db = app.database().await;
    for (fields, field) in [
        (
            vec![("kind", "oiled"), ("done_at", when.as_str())],
            "error=kind:",
        ),
        (
            vec![
                ("kind", "repair"),
                ("failure_mode", "XYZ"),
                ("done_at", when.as_str()),
            ],
            "error=failure_mode:",
        ),
        (
            vec![("kind", "repair"), ("done_at", "yesterday")],
            "error=when:",
        ),
        (
            vec![("kind", "false_alarm"), ("done_at", when.as_str())],
            "error=alarm: a false alarm needs",
        ),
        (
            vec![("kind", "repair"), ("done_at", "2000-01-01T00:00")],
            "error=when: the machine has no reading",
        ),
        (
            vec![
                ("kind", "repair"),
                ("done_at", when.as_str()),
                ("alarm", "77"),
            ],
            "error=alarm: alarm 77 is not",
        ),
    ] {
        let (status, query) = record(&app, &engineer, &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(query.starts_with(field), "{fields:?}: {query}");
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM readings WHERE failure IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM maintenance").await, 0);

    // Six failures: repairs with their mode, and parts replaced without one.
    for (k, i) in (0..READINGS).filter(|i| fails(*i)).enumerate() {
        let when = minute_of(i);
        let fields: Vec<(&str, &str)> = if k % 2 == 0 {
            vec![
                ("kind", "repair"),
                ("failure_mode", "OSF"),
                ("done_at", &when),
                ("note", "bearing"),
            ]
        } else {
            vec![("kind", "part_replaced"), ("done_at", &when)]
        };
        let (_, query) = record(&app, &engineer, &fields).await;
        assert!(
            query.starts_with("done=Recorded; 50 readings are now labelled"),
            "{when}: {query}"
        );
    }
    let (_, query) = record(
        &app,
        &engineer,
        &[("kind", "inspection"), ("done_at", &minute_of(299))],
    )
    .await;
    assert_eq!(query, "done=Recorded.");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM readings WHERE failure = 1").await,
        6
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM readings WHERE failure = 0").await,
        294
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM readings WHERE failure = 1 AND failure_mode = 'OSF'"
        )
        .await,
        3
    );
    let (run_start, run_count): (i64, i64) = sqlx::query_as(
        "SELECT run_started_after, run_reading_count FROM machines WHERE name = 'mill-1'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let last_id: i64 = count(&db, "SELECT MAX(id) FROM readings").await;
    assert_eq!(
        (run_start, run_count),
        (last_id, 0),
        "the run starts again after the last failure"
    );
    let page = app.page("/machines/mill-1").await;
    assert!(
        page.contains("Repair (OSF)") && page.contains("by eng: “bearing”"),
        "{page}"
    );

    // The machine's history as a data set carries exactly those labels.
    let (cookie, csrf) = admin_session_at(&app.address, &admin).await;
    let response = admin
        .post(app.url("/datasets/from-machine"))
        .header(COOKIE, cookie)
        .form(&[("csrf", csrf.as_str()), ("machine", "mill-1")])
        .send()
        .await
        .unwrap();
    let preview = response.headers()[LOCATION].to_str().unwrap().to_string();
    let id: i64 = preview
        .strip_prefix("/training/new?dataset=")
        .unwrap_or_else(|| panic!("{preview}"))
        .parse()
        .unwrap();
    let csv = String::from_utf8(datasets::content(db.pool(), id).await.unwrap()).unwrap();
    let exported_by: Option<String> =
        sqlx::query_scalar("SELECT uploaded_by FROM datasets WHERE id = ?")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        exported_by.as_deref(),
        Some("admin"),
        "who made the data set"
    );
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (failure, osf) = (column("Machine failure"), column("OSF"));
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), READINGS as usize);
    for (i, row) in rows.iter().enumerate() {
        let i = i as i64;
        assert_eq!(row[failure], if fails(i) { "1" } else { "0" }, "row {i}");
        let repaired = fails(i) && (i / 50) % 2 == 0;
        assert_eq!(row[osf], if repaired { "1" } else { "0" }, "row {i}");
    }

    // A training run on it, started from the form, completes with a model version.
    let (cookie, csrf) = admin_session_at(&app.address, &admin).await;
    let dataset_id = id.to_string();
    let response = admin
        .post(app.url("/training"))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("dataset_id", &dataset_id),
            ("target", "Machine failure"),
            ("algorithm", "random_forest"),
            ("trees", "20"),
            ("machine", "mill-1"),
        ])
        .send()
        .await
        .unwrap();
    let run = response.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(run.starts_with("/training/"), "{run}");
    let started = std::time::Instant::now();
    let page = loop {
        let page = admin
            .get(app.url(&run))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if ["completed", "failed", "cancelled"]
            .iter()
            .any(|state| page.contains(&format!("data-state=\"{state}\"")))
        {
            break page;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "the run did not end: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    };
    assert!(page.contains("data-state=\"completed\""), "{page}");
    assert!(
        page.contains("ai4i2020 v1"),
        "the run registered a version: {page}"
    );
    assert!(
        page.contains("Started by</dt><dd>admin"),
        "who started it: {page}"
    );

    // A model trained on it learns what the records said.
    let model = train(&csv, 30, true);
    let predictions = ml::training::predict_dataset(&model, &dataset(&csv)).unwrap();
    let mean = |failed: bool| {
        let picked: Vec<f64> = predictions
            .iter()
            .enumerate()
            .filter(|(i, _)| fails(*i as i64) == failed)
            .map(|(_, p)| p.failure_probability.unwrap())
            .collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    assert!(
        mean(true) > 0.5 && mean(false) < 0.1,
        "{} vs {}",
        mean(true),
        mean(false)
    );
    db.close().await;
}

#[tokio::test]
async fn a_false_alarm_settles_its_alarm() {
    let app = spawn_app().await;
    app.create_machine("mill-1", "ai4i2020").await;
    let response = app
        .post_readings(
            "mill-1",
            "application/json",
            &crate::support::app::ai4i_json_batch(3, "r"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let db = app.database().await;
    let model = train(&milling_csv(11, 4, 300), 5, true);
    let version = register_in(&db, "ai4i2020", &model, model.to_bytes()).await;
    let machine_id: i64 = count(&db, "SELECT id FROM machines WHERE name = 'mill-1'").await;
    let mut tx = db.pool().begin().await.unwrap();
    let signal = Signal {
        machine_id,
        recorded_at: 1_000,
        severity: "critical",
        risk_order: 0.2,
        failure_probability: Some(0.8),
        remaining_life: None,
        life_unit: None,
        failure_mode: Some("PWF"),
        drivers: None,
        model_version_id: version,
    };
    alarms::record(&mut tx, std::slice::from_ref(&signal), false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let alarm = alarms::list(db.pool(), &AlarmFilter::default(), 10)
        .await
        .unwrap()[0]
        .clone();

    add_user(&app.address, &browser(), "eng", "engineer", PASSWORD).await;
    let engineer = user_session_at(&app.address, &browser(), "eng", PASSWORD).await;
    let id = alarm.id.to_string();
    let now = to_rfc3339(icantkube::domain::time::now_ms())
        .chars()
        .take(16)
        .collect::<String>();
    let (_, query) = record(
        &app,
        &engineer,
        &[
            ("kind", "false_alarm"),
            ("done_at", &now),
            ("alarm", &id),
            ("note", "sensor cable"),
        ],
    )
    .await;
    assert_eq!(query, "done=Recorded.");
    let alarm = alarms::list(db.pool(), &AlarmFilter::default(), 10)
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(alarm.state, "cleared");
    assert_eq!(alarm.cleared_by.as_deref(), Some("eng"));
    let outcome: Option<String> = sqlx::query_scalar("SELECT outcome FROM alarms WHERE id = ?")
        .bind(alarm.id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(outcome.as_deref(), Some("false"));
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM readings WHERE failure IS NOT NULL"
        )
        .await,
        0
    );

    // A second alarm, raised two hours ago, confirmed by a repair now.
    let two_hours_ago = icantkube::domain::time::now_ms() - 2 * 3_600_000;
    let mut tx = db.pool().begin().await.unwrap();
    let signal = Signal {
        recorded_at: two_hours_ago,
        ..signal
    };
    alarms::record(&mut tx, &[signal], false).await.unwrap();
    tx.commit().await.unwrap();
    let second = alarms::list(db.pool(), &AlarmFilter::default(), 10)
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(second.state, "open");
    let id = second.id.to_string();
    // The readings came this minute: the repair is dated the next, so they are before it.
    let next_minute = to_rfc3339(icantkube::domain::time::now_ms() + 60_000)
        .chars()
        .take(16)
        .collect::<String>();
    let (_, query) = record(
        &app,
        &engineer,
        &[
            ("kind", "repair"),
            ("failure_mode", "PWF"),
            ("done_at", &next_minute),
            ("alarm", &id),
        ],
    )
    .await;
    assert!(query.starts_with("done=Recorded; 3 readings"), "{query}");
    let models = app.page("/models").await;
    assert!(
        models.contains(
            "Alarms in service: 2 raised; 1 confirmed by a repair or a replacement, 1 false, 0 \
             not settled; 50 % of the settled ones were right; median lead time from alarm to \
             repair 2 h"
        ),
        "{models}"
    );
    db.close().await;
}
