//! Demo mode: a mixed fleet with history on first start, streaming, never seeded twice; its
//! models trained by a child process.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::support::app::{spawn_app_with, TestApp};
use crate::support::binary::icantkube;

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

    let seeded = app.reading_count("mill-01").await;
    assert!(seeded >= 120, "{seeded} readings of history");
    // An engine half-way through its life has its whole life so far as history.
    let engine = app.reading_count("engine-02").await;
    assert!(
        (64..=181).contains(&engine),
        "{engine} cycles of history at half life"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = app.reading_count("engine-02").await;
    assert!(later > engine, "no new readings after 600 ms: {later}");
}

#[tokio::test]
async fn demo_mode_trains_its_models_in_a_child_process_and_scores_the_fleet() {
    // The training program: a script that records who started it and how, then runs the real
    // binary. The server runs in this test process, so its children name it as their parent.
    let folder = tempfile::tempdir().unwrap();
    let started = folder.path().join("started");
    let program = folder.path().join("icantkube");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho \"$PPID $*\" >> '{}'\nexec '{}' \"$@\"\n",
            started.display(),
            icantkube()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let app = spawn_app_with(|settings| {
        settings.demo.enabled = true;
        settings.demo.interval = Duration::from_millis(100);
        settings.training.local_executable = Some(program.clone());
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let machines: Vec<Value> = app.get_json("/api/v1/machines").await;
        let scored = machines
            .iter()
            .filter(|m| {
                m["active_model_version_id"].is_i64()
                    && ["healthy", "warning", "critical"]
                        .contains(&m["status"].as_str().unwrap_or(""))
            })
            .count();
        if scored == machines.len() {
            let engines = machines.iter().filter(|m| m["profile"] == "turbofan");
            assert!(engines.clone().all(|m| m["remaining_life"].is_f64()));
            let mills = machines.iter().filter(|m| m["profile"] == "ai4i2020");
            assert!(mills.clone().all(|m| m["failure_probability"].is_f64()));
            // Once, or again after an attempt a busy database refused.
            let started = std::fs::read_to_string(&started).unwrap_or_default();
            let by_the_server = format!("{} train --demo", std::process::id());
            assert!(
                !started.is_empty() && started.lines().all(|line| line == by_the_server),
                "the server did not start the training program as `train --demo`: {started:?}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "demo models not trained and scoring after 300 s: {scored} of {} scored",
            machines.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_restart_in_demo_mode_does_not_seed_again() {
    let first = demo_app(None).await;
    let second = demo_app(Some(first.database_url.clone())).await;
    let machines: Vec<Value> = second.get_json("/api/v1/machines").await;
    assert_eq!(machines.len(), 12);
}
