//! `/metrics`: served in the Prometheus text format on its own port (never the app's), counting
//! what the app did, with the per-machine series capped on a fleet larger than the cap.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use reqwest::StatusCode;
use serde_json::json;

use crate::api::predictions::{milling_reading, register};
use crate::support::app::{spawn_app_with, TestApp, ADMIN_PASSWORD};
use crate::support::data::milling_csv;
use crate::support::database::QueuedRun;
use crate::support::model::train;

const CAP: usize = 5;
const MACHINES: usize = 12;
/// Machines sent a reading deep in the heat-dissipation failure region.
const AT_RISK: [&str; 3] = ["mill-03", "mill-07", "mill-11"];
const READINGS_ROUTE: &str = "/api/v1/machines/{machine}/readings";

/// A milling model registered straight in the database; answers its version id.
async fn register_model(app: &TestApp) -> i64 {
    let csv = milling_csv(11, 4, 1000);
    register(app, "ai4i2020", &train(&csv, 30, true)).await
}

/// One sample line.
#[derive(Debug)]
struct Series {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Series {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// Parses the text format strictly, panicking on any line that breaks it: a `# HELP` and a
/// `# TYPE` per family, each once and before its samples; samples of declared families only,
/// with well-formed, unique labels and a number. (The `prometheus-parse` crate was tried: it
/// cuts label values at a `}`, so it misreads every route template.)
fn parse(text: &str) -> Vec<Series> {
    let mut types: HashMap<&str, &str> = HashMap::new();
    let mut helped = HashSet::new();
    let mut series = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let context = format!("line {}: {line:?}", number + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect(&context);
            assert!(valid_name(name) && !help.is_empty(), "{context}");
            assert!(helped.insert(name), "HELP twice, {context}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect(&context);
            assert!(valid_name(name), "{context}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{context}"
            );
            assert!(helped.contains(name), "TYPE before HELP, {context}");
            assert!(types.insert(name, kind).is_none(), "TYPE twice, {context}");
        } else {
            let (sample, value) = line.rsplit_once(' ').expect(&context);
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                number => number.parse::<f64>().expect(&context),
            };
            let (name, labels) = match sample.split_once('{') {
                Some((name, labels)) => (
                    name,
                    parse_labels(labels.strip_suffix('}').expect(&context), &context),
                ),
                None => (sample, BTreeMap::new()),
            };
            assert!(valid_name(name), "{context}");
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| types.get(base) == Some(&"histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "undeclared family, {context}");
            series.push(Series {
                name: name.to_string(),
                labels,
                value,
            });
        }
    }
    series
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `a="x",b="y"`, values with `\\`, `\"` and `\n` escapes.
fn parse_labels(text: &str, context: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect(context);
        assert!(valid_name(name), "{context}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect(context) {
                (_, '\\') => match chars.next().expect(context).1 {
                    'n' => value.push('\n'),
                    escaped @ ('\\' | '"') => value.push(escaped),
                    other => panic!("escape \\{other}, {context}"),
                },
                (index, '"') => break index,
                (_, c) => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_string(), value).is_none(),
            "label twice, {context}"
        );
        rest = &after[end + 1..];
        if !rest.is_empty() {
            rest = rest.strip_prefix(',').expect(context);
        }
    }
    labels
}

/// The samples of `name` whose labels include these.
fn matching<'a>(all: &'a [Series], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Series> {
    all.iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .collect()
}

/// The value of the one sample of `name` with these labels.
fn single(all: &[Series], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = matching(all, name, labels);
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

/// Observations of a histogram, checked against its `+Inf` bucket, with a `_sum`.
fn histogram_count(all: &[Series], name: &str, labels: &[(&str, &str)]) -> f64 {
    let count = single(all, &format!("{name}_count"), labels);
    let mut infinite = labels.to_vec();
    infinite.push(("le", "+Inf"));
    assert_eq!(single(all, &format!("{name}_bucket"), &infinite), count);
    assert!(matching(all, &format!("{name}_bucket"), labels).len() > 1);
    single(all, &format!("{name}_sum"), labels);
    count
}

#[tokio::test]
async fn metrics_count_what_happened_and_cap_the_per_machine_series() {
    let app = spawn_app_with(|settings| settings.metrics_machine_cap = CAP).await;
    let version = register_model(&app).await;
    let names: Vec<String> = (1..=MACHINES).map(|i| format!("mill-{i:02}")).collect();
    for name in &names {
        let created = app
            .admin_post(
                "/api/v1/machines",
                json!({ "name": name, "profile": "ai4i2020", "attributes": { "type": "M" } }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let promoted = app
            .client
            .put(app.url(&format!("/api/v1/machines/{name}/model")))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(&json!({ "model_version_id": version }))
            .send()
            .await
            .unwrap();
        assert_eq!(promoted.status(), StatusCode::OK);
        let values = if AT_RISK.contains(&name.as_str()) {
            [302.0, 309.0, 1290.0, 55.0, 80.0]
        } else {
            [298.0, 308.6, 1551.0, 42.8, 10.0]
        };
        let posted = app
            .post_readings(name, "application/json", &milling_reading("1", values))
            .await;
        assert_eq!(posted.status(), StatusCode::CREATED);
    }
    // Training runs with known durations, as runners leave them in the database.
    let db = app.database().await;
    for (state, seconds) in [
        ("completed", Some(5)),
        ("completed", Some(45)),
        ("completed", Some(400)),
        ("failed", Some(20)),
        ("queued", None),
    ] {
        let id = QueuedRun::ai4i().queue(&db).await;
        if let Some(seconds) = seconds {
            sqlx::query(
                "UPDATE training_runs SET state = ?, started_at = 1000, finished_at = ? \
                 WHERE id = ?",
            )
            .bind(state)
            .bind(1000 + seconds * 1000)
            .bind(id)
            .execute(db.pool())
            .await
            .unwrap();
        }
    }
    db.close().await;
    // One refusal of each kind the test can make cheaply.
    let refused = app
        .post_readings("mill-01", "application/xml", "<reading/>")
        .await;
    assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let refused = app
        .post_readings_with_token("mill-01", "application/json", "{}", Some("wrong"))
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = app
        .post_readings("no-such-mill", "application/json", "{}")
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let refused = app
        .post_readings("mill-01", "application/json", "{not json")
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // The app's own port has no /metrics: the Ingress must not expose it.
    let on_app_port = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(on_app_port.status(), StatusCode::NOT_FOUND);

    let started = Instant::now();
    let response = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    eprintln!(
        "scrape: {} bytes, {} lines, {:?}",
        text.len(),
        text.lines().count(),
        started.elapsed()
    );
    let scrape = parse(&text);
    // Prometheus asks for gzip, and gets it.
    let gzipped = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let body = gzipped.bytes().await.unwrap();
    assert_eq!(body[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(
        body.len() < text.len() / 3,
        "{} of {}",
        body.len(),
        text.len()
    );

    // Per-machine series: the riskiest CAP machines only, the ones at risk among them.
    assert_eq!(
        single(&scrape, "icantkube_machines_exported", &[]),
        CAP as f64
    );
    let probabilities = matching(&scrape, "icantkube_machine_failure_probability", &[]);
    assert_eq!(probabilities.len(), CAP, "{probabilities:?}");
    let exported: HashSet<&str> = probabilities
        .iter()
        .map(|s| s.label("machine").unwrap())
        .collect();
    for machine in AT_RISK {
        assert!(exported.contains(machine), "{machine} not in {exported:?}");
    }
    let versions = matching(&scrape, "icantkube_model_version_info", &[]);
    assert_eq!(versions.len(), CAP, "{versions:?}");
    for sample in &versions {
        assert!(exported.contains(sample.label("machine").unwrap()));
        assert_eq!(sample.label("profile"), Some("ai4i2020"));
        assert_eq!(sample.label("version"), Some("1"));
        assert_eq!(sample.value, 1.0);
    }
    // Each exported machine's current status, and only that one.
    let statuses = matching(&scrape, "icantkube_machine_status", &[]);
    assert_eq!(statuses.len(), CAP, "{statuses:?}");
    for sample in &statuses {
        let machine = sample.label("machine").unwrap();
        assert!(exported.contains(machine), "{machine}");
        assert_eq!(sample.value, 1.0);
        let stored: serde_json::Value = app.get_json(&format!("/api/v1/machines/{machine}")).await;
        assert_eq!(
            sample.label("status"),
            stored["status"].as_str(),
            "{machine}"
        );
    }
    for machine in AT_RISK {
        let status = statuses
            .iter()
            .find(|s| s.label("machine") == Some(machine))
            .and_then(|s| s.label("status"));
        assert_ne!(status, Some("healthy"), "{machine}");
    }
    // Each exported machine's latest reading, sensor by sensor with its unit.
    let sensor_values = matching(&scrape, "icantkube_machine_sensor_value", &[]);
    assert_eq!(sensor_values.len(), CAP * 5, "{sensor_values:?}");
    for machine in AT_RISK {
        let speed = single(
            &scrape,
            "icantkube_machine_sensor_value",
            &[
                ("machine", machine),
                ("sensor", "rotational_speed"),
                ("unit", "rpm"),
            ],
        );
        assert_eq!(speed, 1290.0, "{machine}");
    }
    assert!(matching(&scrape, "icantkube_machine_remaining_life", &[]).len() <= CAP);
    let by_status: f64 = matching(&scrape, "icantkube_machines", &[])
        .iter()
        .map(|s| s.value)
        .sum();
    assert_eq!(by_status, MACHINES as f64);
    assert_eq!(
        single(&scrape, "icantkube_machines", &[("status", "unknown")]),
        0.0,
        "every machine was scored"
    );

    // Counters and histograms of this process.
    assert_eq!(
        single(
            &scrape,
            "icantkube_readings_ingested_total",
            &[("profile", "ai4i2020")]
        ),
        MACHINES as f64
    );
    for reason in [
        "unsupported_media_type",
        "unauthorized",
        "unknown_machine",
        "malformed",
    ] {
        assert_eq!(
            single(
                &scrape,
                "icantkube_readings_rejected_total",
                &[("reason", reason)]
            ),
            1.0,
            "{reason}"
        );
    }
    assert_eq!(
        single(
            &scrape,
            "icantkube_http_requests_total",
            &[
                ("method", "POST"),
                ("route", READINGS_ROUTE),
                ("status", "201")
            ]
        ),
        MACHINES as f64
    );
    assert_eq!(
        single(
            &scrape,
            "icantkube_http_requests_total",
            &[("method", "GET"), ("route", "other"), ("status", "404")]
        ),
        1.0,
        "the unmatched /metrics on the app's port"
    );
    for sample in matching(&scrape, "icantkube_http_requests_total", &[]) {
        let route = sample.label("route").unwrap();
        assert!(
            route == "other" || !route.contains("mill-"),
            "a raw path as a route: {route}"
        );
    }
    assert_eq!(
        histogram_count(
            &scrape,
            "icantkube_http_request_duration_seconds",
            &[("method", "POST"), ("route", READINGS_ROUTE)]
        ),
        // The four refusals went to the same route, the unknown machine's included.
        (MACHINES + 4) as f64
    );
    assert_eq!(
        histogram_count(&scrape, "icantkube_inference_duration_seconds", &[]),
        MACHINES as f64
    );
    let predictions: f64 = matching(&scrape, "icantkube_predictions_total", &[])
        .iter()
        .map(|s| s.value)
        .sum();
    assert_eq!(predictions, MACHINES as f64);
    // Training runs and the database pool, from the database at scrape time.
    for (state, runs) in [
        ("queued", 1.0),
        ("running", 0.0),
        ("completed", 3.0),
        ("failed", 1.0),
        ("cancelled", 0.0),
    ] {
        assert_eq!(
            single(&scrape, "icantkube_training_runs", &[("state", state)]),
            runs,
            "{state}"
        );
    }
    let completed = [("state", "completed")];
    let durations = "icantkube_training_run_duration_seconds";
    assert_eq!(histogram_count(&scrape, durations, &completed), 3.0);
    assert_eq!(
        single(&scrape, &format!("{durations}_sum"), &completed),
        450.0
    );
    for (le, runs) in [
        ("10", 1.0),
        ("30", 1.0),
        ("60", 2.0),
        ("300", 2.0),
        ("600", 3.0),
    ] {
        assert_eq!(
            single(
                &scrape,
                &format!("{durations}_bucket"),
                &[("state", "completed"), ("le", le)]
            ),
            runs,
            "le {le}"
        );
    }
    assert_eq!(
        histogram_count(&scrape, durations, &[("state", "failed")]),
        1.0
    );
    assert!(
        matching(
            &scrape,
            &format!("{durations}_count"),
            &[("state", "queued")]
        )
        .is_empty(),
        "a run that never ran has no duration"
    );
    let max = single(&scrape, "icantkube_db_pool_max_connections", &[]);
    let in_use = single(
        &scrape,
        "icantkube_db_pool_connections",
        &[("state", "in_use")],
    );
    let idle = single(
        &scrape,
        "icantkube_db_pool_connections",
        &[("state", "idle")],
    );
    assert!(max >= 1.0 && in_use + idle <= max, "{in_use} {idle} {max}");

    // Process metrics, from /proc.
    assert!(single(&scrape, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(single(&scrape, "process_open_fds", &[]) >= 3.0);
    assert!(single(&scrape, "process_cpu_seconds_total", &[]) > 0.0);
    let started_at = single(&scrape, "process_start_time_seconds", &[]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        started_at > now - 3600.0 && started_at <= now + 1.0,
        "{started_at}"
    );
}
