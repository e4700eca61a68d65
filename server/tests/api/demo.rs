//! Demo mode: a mixed fleet with history on first start, streaming, never seeded twice.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{spawn_app_with, TestApp};

async fn demo_app(database_url: Option<String>) -> TestApp {
    spawn_app_with(|settings| {
        settings.demo.enabled = true;
        settings.demo.interval = Duration::from_millis(100);
        if let Some(url) = database_url {
            settings.database_url = url;
        }
    })
    .await
}

#[tokio::test]
async fn demo_mode_seeds_a_mixed_fleet_with_history_and_keeps_it_streaming() {
    let app = demo_app(None).await;
    let machines: Vec<Value> = app.get_json("/api/v1/machines").await;
    assert_eq!(machines.len(), 12);
    let profiles: HashSet<&str> = machines
        .iter()
        .filter_map(|m| m["profile"].as_str())
        .collect();
    assert_eq!(profiles, HashSet::from(["ai4i2020", "turbofan"]));
    let variants: HashSet<&str> = machines
        .iter()
        .filter_map(|m| m["attributes"]["type"].as_str())
        .collect();
    assert_eq!(variants, HashSet::from(["L", "M", "H"]));

    let seeded = app.reading_count("engine-02").await;
    assert!(seeded >= 120, "{seeded} readings of history");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = app.reading_count("engine-02").await;
    assert!(later > seeded, "no new readings after 600 ms: {later}");
}

#[tokio::test]
async fn a_restart_in_demo_mode_does_not_seed_again() {
    let first = demo_app(None).await;
    let second = demo_app(Some(first.database_url.clone())).await;
    let machines: Vec<Value> = second.get_json("/api/v1/machines").await;
    assert_eq!(machines.len(), 12);
}
