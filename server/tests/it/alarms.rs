//! Alarms on a real server with a real model: a machine turning critical raises one alarm
//! (not one per reading), engineers acknowledge and clear it from the alarms page's forms
//! (viewers may not), a machine hovering at the threshold keeps its one alarm, and the alarm
//! clears itself only once the machine has been healthy for the whole period. Escalation and
//! the peak are checked on the storage functions with made-up predictions.

use icantkube::db::alarms::{self, Action, Alarm, AlarmFilter, Signal};
use icantkube::db::Database;
use reqwest::{redirect, Client, StatusCode};
use serde_json::{json, Value};

use crate::api::predictions::promote;
use crate::support::app::{
    add_user, post_form_as, spawn_app, spawn_app_with, user_session_at, TestApp,
};
use crate::support::data::milling_csv;
use crate::support::model::{register_in, train};
use icantkube::configuration::Settings;

const HEALTHY: [f64; 5] = [300.0, 310.5, 1500.0, 40.0, 20.0];
/// Deep in the heat-dissipation failure region.
pub(crate) const CRITICAL: [f64; 5] = [302.0, 309.0, 1290.0, 55.0, 80.0];
const MINUTE: i64 = 60_000;
const PASSWORD: &str = "alarm test password";

/// A mill with an active model that scores `HEALTHY` healthy and `CRITICAL` critical.
async fn mill_with_model() -> TestApp {
    mill_with_model_and(|_| {}).await
}

/// `mill_with_model` on a server whose settings `adjust` changes.
pub(crate) async fn mill_with_model_and(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let app = spawn_app_with(adjust).await;
    app.admin_post(
        "/api/v1/machines",
        json!({ "name": "mill-1", "profile": "ai4i2020", "attributes": { "type": "M" } }),
    )
    .await;
    let model = train(&milling_csv(11, 4, 1000), 30, true);
    promote(&app, "mill-1", "ai4i2020", &model).await;
    app
}

/// Posts one reading at `at` (ms); answers the status it was scored with.
pub(crate) async fn post(app: &TestApp, seq: &str, at: i64, values: [f64; 5]) -> String {
    let at = icantkube::domain::time::to_rfc3339(at);
    let body = json!({
        "seq": seq,
        "timestamp": at,
        "values": {
            "air_temperature": values[0],
            "process_temperature": values[1],
            "rotational_speed": values[2],
            "torque": values[3],
            "tool_wear": values[4],
        }
    });
    let response = app
        .post_readings("mill-1", "application/json", &body.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    answer["prediction"]["status"].as_str().unwrap().to_string()
}

async fn all_alarms(db: &Database) -> Vec<Alarm> {
    alarms::list(db.pool(), &AlarmFilter::default(), 100)
        .await
        .unwrap()
}

fn browser() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_machine_turning_critical_raises_one_alarm_that_engineers_acknowledge_and_clear() {
    let app = mill_with_model().await;
    let db = app.database().await;
    let start = icantkube::domain::time::now_ms() - 60 * MINUTE;
    assert_eq!(post(&app, "h1", start, HEALTHY).await, "healthy");
    assert!(
        all_alarms(&db).await.is_empty(),
        "a healthy machine has no alarm"
    );

    assert_eq!(post(&app, "c1", start + MINUTE, CRITICAL).await, "critical");
    assert_eq!(
        post(&app, "c2", start + 2 * MINUTE, CRITICAL).await,
        "critical"
    );
    let raised = all_alarms(&db).await;
    assert_eq!(
        raised.len(),
        1,
        "one alarm for the episode, not one per reading"
    );
    let alarm = &raised[0];
    assert_eq!(
        (alarm.state.as_str(), alarm.severity.as_str()),
        ("open", "critical")
    );
    assert_eq!(alarm.raised_at, start + MINUTE);
    assert_eq!(alarm.failure_mode.as_deref(), Some("HDF"));
    assert!(alarm.failure_probability.unwrap() > 0.5);
    assert!(
        alarm
            .drivers
            .as_deref()
            .is_some_and(|d| d.contains("feature")),
        "{alarm:?}"
    );

    let page = app.page("/alarms").await;
    assert!(
        page.contains("mill-1") && page.contains("failure risk"),
        "{page}"
    );

    let metrics = reqwest::get(format!("{}/metrics", app.metrics_address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "icantkube_alarms{state=\"open\",severity=\"critical\"} 1",
        "icantkube_alarms{state=\"acknowledged\",severity=\"critical\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    let waited = metrics
        .lines()
        .find_map(|l| l.strip_prefix("icantkube_alarm_oldest_open_age_seconds "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("the oldest open alarm's age");
    assert!(
        (3_400.0..3_700.0).contains(&waited),
        "raised 59 min ago: {waited}"
    );
    assert!(
        !page.contains("/acknowledge"),
        "no forms for someone not signed in"
    );

    let admin = browser();
    add_user(&app.address, &admin, "vic", "viewer", PASSWORD).await;
    add_user(&app.address, &admin, "eng", "engineer", PASSWORD).await;
    let viewer = user_session_at(&app.address, &browser(), "vic", PASSWORD).await;
    let engineer = user_session_at(&app.address, &browser(), "eng", PASSWORD).await;
    let acknowledge = format!("/alarms/{}/acknowledge", alarm.id);
    let (status, _) = post_form_as(&app, &acknowledge, &viewer, &[("note", "mine")]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer may not acknowledge"
    );

    let (status, location) =
        post_form_as(&app, &acknowledge, &engineer, &[("note", "on my way")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/alarms?done="), "{location}");
    let (_, location) = post_form_as(&app, &acknowledge, &engineer, &[("note", "again")]).await;
    assert!(location.contains("is%20acknowledged"), "{location}");
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(alarm.state, "acknowledged");
    assert_eq!(alarm.acknowledged_by.as_deref(), Some("eng"));
    assert_eq!(alarm.acknowledged_note.as_deref(), Some("on my way"));

    let (_, location) = post_form_as(
        &app,
        &format!("/alarms/{}/clear", alarm.id),
        &engineer,
        &[("note", "")],
    )
    .await;
    assert!(location.starts_with("/alarms?done="), "{location}");
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(alarm.state, "cleared");
    assert_eq!(alarm.cleared_by.as_deref(), Some("eng"));
    assert_eq!(alarm.cleared_note, None, "an empty note is no note");
    let (_, location) = post_form_as(&app, "/alarms/999/clear", &engineer, &[("note", "")]).await;
    assert!(location.contains("no%20alarm%20999"), "{location}");

    // Critical again after clearing: a new episode, a new alarm.
    post(&app, "c3", start + 3 * MINUTE, CRITICAL).await;
    let states: Vec<String> = all_alarms(&db).await.into_iter().map(|a| a.state).collect();
    assert_eq!(states, ["open", "cleared"]);
    db.close().await;
}

#[tokio::test]
async fn an_alarm_clears_itself_only_once_its_machine_has_been_healthy_for_the_period() {
    let app = mill_with_model().await;
    let db = app.database().await;
    let period = 10 * MINUTE;
    let t = icantkube::domain::time::now_ms() - 60 * MINUTE;
    post(&app, "c1", t, CRITICAL).await;
    post(&app, "h1", t + 5 * MINUTE, HEALTHY).await;
    // Hovering: critical again within the period keeps the one alarm.
    post(&app, "c2", t + 6 * MINUTE, CRITICAL).await;
    post(&app, "h2", t + 12 * MINUTE, HEALTHY).await;
    assert_eq!(
        alarms::clear_recovered(db.pool(), period, false)
            .await
            .unwrap(),
        0
    );
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(
        (all_alarms(&db).await.len(), alarm.state.as_str()),
        (1, "open")
    );

    post(&app, "h3", t + 16 * MINUTE + 1, HEALTHY).await;
    assert_eq!(
        alarms::clear_recovered(db.pool(), period, false)
            .await
            .unwrap(),
        1
    );
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(alarm.state, "cleared");
    assert_eq!(alarm.cleared_by, None, "cleared by the machine's recovery");
    let page = app.page("/alarms?state=cleared").await;
    assert!(page.contains("the machine recovered"), "{page}");
    db.close().await;
}

#[tokio::test]
async fn escalation_reopens_an_acknowledged_alarm_and_the_peak_keeps_the_riskiest_prediction() {
    let app = spawn_app().await;
    app.create_machine("mill-1", "ai4i2020").await;
    let db = app.database().await;
    let model = train(&milling_csv(11, 4, 300), 5, true);
    let version = register_in(&db, "ai4i2020", &model, model.to_bytes()).await;
    let machine_id: i64 = sqlx::query_scalar("SELECT id FROM machines WHERE name = 'mill-1'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let signal = |at: i64, severity: &'static str, risk_order: f64, p: f64| Signal {
        machine_id,
        recorded_at: at,
        severity,
        risk_order,
        failure_probability: Some(p),
        remaining_life: None,
        life_unit: None,
        failure_mode: Some(if p > 0.6 { "OSF" } else { "TWF" }),
        drivers: None,
        model_version_id: version,
    };
    let record = |signals: Vec<Signal<'static>>| {
        let db = db.clone();
        async move {
            let mut tx = db.pool().begin().await.unwrap();
            let raised = alarms::record(&mut tx, &signals, false).await.unwrap();
            tx.commit().await.unwrap();
            raised
        }
    };
    assert_eq!(record(vec![signal(1_000, "warning", 4.5, 0.5)]).await, 1);
    let id = all_alarms(&db).await[0].id;
    alarms::act(db.pool(), id, Action::Acknowledge, "eng", "seen", false)
        .await
        .unwrap();
    assert_eq!(record(vec![signal(2_000, "warning", 4.2, 0.8)]).await, 0);
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(
        (alarm.state.as_str(), alarm.peak_at),
        ("acknowledged", 2_000)
    );
    assert_eq!(alarm.failure_mode.as_deref(), Some("OSF"));

    assert_eq!(record(vec![signal(3_000, "critical", 1.3, 0.7)]).await, 0);
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(
        (alarm.state.as_str(), alarm.severity.as_str()),
        ("open", "critical")
    );
    assert_eq!(alarm.escalated_at, Some(3_000));
    assert_eq!(
        (alarm.peak_at, alarm.failure_probability),
        (3_000, Some(0.7))
    );

    // Less risky than the peak: the peak stays, the episode goes on.
    record(vec![signal(4_000, "critical", 1.9, 0.1)]).await;
    let alarm = &all_alarms(&db).await[0];
    assert_eq!(
        (alarm.peak_at, alarm.failure_mode.as_deref()),
        (3_000, Some("OSF"))
    );
    assert_eq!(alarm.raised_at, 1_000);
    assert_eq!(all_alarms(&db).await.len(), 1);
    db.close().await;
}
