//! The rollups a machine's charts over a window read: readings fold into buckets of every
//! width with their count, minimum, mean and maximum, later readings merge into stored
//! buckets, unsettled readings wait, and the machine page draws a window from them. Then the
//! retention that deletes old raw readings once they are summarised.

use icantkube::db::readings;
use icantkube::db::rollups::{self, Rollup};
use icantkube::domain::time::now_ms;
use icantkube::history::retention::prune;
use icantkube::history::rollups::roll_up;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::app::{spawn_app, TestApp};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// Posts a milling reading at `at` (ms) with this torque; the other sensors hold still.
async fn post(app: &TestApp, at: i64, torque: f64) {
    post_labelled(app, at, torque, None).await;
}

async fn post_labelled(app: &TestApp, at: i64, torque: f64, failure: Option<i64>) {
    let body = json!([{
        "timestamp": at as f64 / 1000.0,
        "failure": failure,
        "values": {
            "air_temperature": 300.0,
            "process_temperature": 310.0,
            "rotational_speed": 1500.0,
            "torque": torque,
            "tool_wear": 10.0,
        },
    }])
    .to_string();
    let response = app
        .post_readings("mill-01", "application/json", &body)
        .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

/// The torque (fourth sensor) of a rollup: readings, min, mean, max.
fn torque(rollup: &Rollup) -> (i64, f64, f64, f64) {
    (
        rollup.readings,
        rollup.mins[3],
        rollup.means[3],
        rollup.maxs[3],
    )
}

#[tokio::test]
async fn readings_roll_up_into_buckets_that_merge_and_feed_the_window_charts() {
    let app = spawn_app().await;
    app.create_machine("mill-01", "ai4i2020").await;
    let base = (now_ms() - 3 * HOUR).div_euclid(HOUR) * HOUR;
    for (offset, value) in [
        (0, 40.0),
        (10_000, 44.0),
        (70_000, 50.0),
        (HOUR + 5_000, 60.0),
    ] {
        post(&app, base + offset, value).await;
    }
    let db = app.database().await;
    let pool = db.pool();
    let machine: i64 = sqlx::query_scalar("SELECT id FROM machines WHERE name = 'mill-01'")
        .fetch_one(pool)
        .await
        .unwrap();

    // A reading received within the settling time waits.
    assert_eq!(roll_up(&db, now_ms() - MINUTE).await.unwrap(), 0);
    assert_eq!(roll_up(&db, now_ms() + 1).await.unwrap(), 4);
    assert_eq!(
        roll_up(&db, now_ms() + 1).await.unwrap(),
        0,
        "the position moved past them"
    );

    let minutes = rollups::machine_since(pool, machine, MINUTE, 0)
        .await
        .unwrap();
    let starts: Vec<i64> = minutes.iter().map(|r| r.bucket_start - base).collect();
    assert_eq!(starts, [0, MINUTE, HOUR]);
    assert_eq!(torque(&minutes[0]), (2, 40.0, 42.0, 44.0));
    let hours = rollups::machine_since(pool, machine, HOUR, 0)
        .await
        .unwrap();
    assert_eq!(torque(&hours[0]), (3, 40.0, 134.0 / 3.0, 50.0));
    assert_eq!(torque(&hours[1]), (1, 60.0, 60.0, 60.0));
    assert_eq!(hours[0].means[0], 300.0, "every sensor is summarised");

    // A late reading merges into its stored bucket.
    post(&app, base + 20_000, 30.0).await;
    assert_eq!(roll_up(&db, now_ms() + 1).await.unwrap(), 1);
    let minutes = rollups::machine_since(pool, machine, MINUTE, base)
        .await
        .unwrap();
    assert_eq!(torque(&minutes[0]), (3, 30.0, 38.0, 44.0));
    let days = rollups::machine_since(pool, machine, 24 * HOUR, 0)
        .await
        .unwrap();
    assert_eq!(days.iter().map(|r| r.readings).sum::<i64>(), 5);
    db.close().await;

    let page = app.page("/machines/mill-01?window=24h").await;
    assert!(
        page.contains("Torque (Nm), last 24h"),
        "a chart per sensor over the window"
    );
    assert!(
        page.contains("lowest reading 30.00, highest 60.00 Nm"),
        "the window's extremes"
    );
    assert!(
        page.contains(r#"aria-current="page">24h</a>"#),
        "the window is marked"
    );
    let response = app
        .client
        .get(app.url("/machines/mill-01?window=2w"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains(r#"window: "2w" is not a window"#));
}

#[tokio::test]
async fn retention_deletes_old_summarised_unlabelled_readings_and_keeps_the_rest() {
    let app = spawn_app().await;
    app.create_machine("mill-01", "ai4i2020").await;
    let old = now_ms() - 10 * 24 * HOUR;
    // Readings 1 to 12 ten days old, reading 6 labelled; 13 and 14 recent.
    for i in 1..=12 {
        let label = (i == 6).then_some(0);
        post_labelled(&app, old + i * MINUTE, 40.0 + i as f64, label).await;
    }
    for i in 13..=14 {
        post(&app, now_ms() - (15 - i) * 1_000, 40.0).await;
    }
    let db = app.database().await;
    let pool = db.pool();
    let cutoff = now_ms() - 24 * HOUR;
    assert_eq!(
        prune(&db, cutoff, 3).await.unwrap(),
        0,
        "nothing goes before it is summarised"
    );
    assert_eq!(roll_up(&db, now_ms() + 1).await.unwrap(), 14);

    assert_eq!(prune(&db, cutoff, 3).await.unwrap(), 7);
    let left: Vec<f64> = readings::recent(pool, 1, 100)
        .await
        .unwrap()
        .iter()
        .map(|reading| reading.values[3])
        .collect();
    // The run's first three, the labelled one, the last three.
    assert_eq!(left, [41.0, 42.0, 43.0, 46.0, 52.0, 40.0, 40.0]);
    assert_eq!(
        app.reading_count("mill-01").await,
        7,
        "the kept count follows"
    );
    assert_eq!(prune(&db, cutoff, 3).await.unwrap(), 0);
    let days = rollups::machine_since(pool, 1, 24 * HOUR, 0).await.unwrap();
    assert_eq!(
        days.iter().map(|r| r.readings).sum::<i64>(),
        14,
        "the rollups keep them all"
    );
    db.close().await;
}
