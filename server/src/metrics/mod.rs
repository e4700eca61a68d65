//! Prometheus metrics, served as `/metrics` on a listener of their own (the Ingress exposes only
//! the main port).
//!
//! Two kinds of series: what this process saw (HTTP requests, readings ingested and refused,
//! inference time, predictions), kept in counters and histograms since it started; and the
//! fleet as the database has it (machines by status, the riskiest machines' risk, training
//! runs, active model versions), computed at each scrape, so every replica reports the same
//! fleet and a machine that drops out of the riskiest set drops out of the output.

use std::cmp::Ordering;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::Status;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tower_http::compression::CompressionLayer;

use crate::db::machines::Machine;
use crate::db::model_versions::ModelVersionRow;
use crate::db::training_runs::RunsInState;
use crate::db::{self, Database};
use crate::error::ApiError;

/// Seconds; from 5 ms (a probe) to 10 s (a large CSV batch).
const HTTP_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Seconds to score one batch: a single reading takes well under a millisecond.
const INFERENCE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];
/// Seconds a training run took: from a quick linear model to a large forest.
const TRAINING_BUCKETS: [f64; 10] = [
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];
/// The states a training run goes through, always exported so a zero is a zero, not a gap.
const RUN_STATES: [&str; 5] = ["queued", "running", "completed", "failed", "cancelled"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProfileLabels {
    profile: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MachineLabels {
    machine: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MachineStatusLabels {
    machine: String,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SensorLabels {
    machine: String,
    sensor: String,
    unit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RemainingLifeLabels {
    machine: String,
    unit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelVersionLabels {
    machine: String,
    profile: String,
    version: i64,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// What this process counts; cheap to clone, every clone counts into the same series.
#[derive(Clone)]
pub struct Metrics(Arc<Recorded>);

struct Recorded {
    registry: Registry,
    http_requests: Family<HttpRequestLabels, Counter>,
    http_duration: Histograms<HttpRouteLabels>,
    readings_ingested: Family<ProfileLabels, Counter>,
    readings_rejected: Family<ReasonLabels, Counter>,
    inference_duration: Histogram,
    predictions: Family<StatusLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpRequestLabels, Counter>::default();
        registry.register(
            "icantkube_http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_duration: Histograms<HttpRouteLabels> =
            Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS));
        registry.register(
            "icantkube_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            http_duration.clone(),
        );
        let readings_ingested = Family::<ProfileLabels, Counter>::default();
        registry.register(
            "icantkube_readings_ingested",
            "Readings stored, by the machine's profile (retried duplicates are not counted)",
            readings_ingested.clone(),
        );
        let readings_rejected = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "icantkube_readings_rejected",
            "Ingest requests refused, by reason",
            readings_rejected.clone(),
        );
        let inference_duration = Histogram::new(INFERENCE_BUCKETS);
        registry.register(
            "icantkube_inference_duration_seconds",
            "Time to score one ingested batch with the machine's active model",
            inference_duration.clone(),
        );
        let predictions = Family::<StatusLabels, Counter>::default();
        registry.register(
            "icantkube_predictions",
            "Predictions made while ingesting, by the status they gave the machine",
            predictions.clone(),
        );
        Metrics(Arc::new(Recorded {
            registry,
            http_requests,
            http_duration,
            readings_ingested,
            readings_rejected,
            inference_duration,
            predictions,
        }))
    }
}

impl Metrics {
    /// One answered request; `route` is the matched route template, `None` for anything no
    /// route matched (static files, unknown paths), which all count as `other` so a scan of
    /// random paths cannot create series.
    pub fn record_http(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or("other").to_string();
        self.0
            .http_requests
            .get_or_create(&HttpRequestLabels {
                method,
                route: route.clone(),
                status: status.as_u16(),
            })
            .inc();
        self.0
            .http_duration
            .get_or_create(&HttpRouteLabels { method, route })
            .observe(elapsed.as_secs_f64());
    }

    pub fn record_ingested(&self, profile: &str, stored: usize) {
        self.0
            .readings_ingested
            .get_or_create(&ProfileLabels {
                profile: profile.to_string(),
            })
            .inc_by(stored as u64);
    }

    /// An ingest request refused; server failures are not refusals and count only as 5xx
    /// HTTP requests.
    pub fn record_rejected(&self, error: &ApiError) {
        if let Some(reason) = rejection_reason(error) {
            self.0
                .readings_rejected
                .get_or_create(&ReasonLabels { reason })
                .inc();
        }
    }

    pub fn record_inference(&self, elapsed: Duration) {
        self.0.inference_duration.observe(elapsed.as_secs_f64());
    }

    pub fn record_prediction(&self, status: Status) {
        self.0
            .predictions
            .get_or_create(&StatusLabels {
                status: status.as_str(),
            })
            .inc();
    }
}

/// The method as a label; methods outside HTTP's usual set share one, so they cannot create
/// series either.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Why the ingest route refused a request, from the error it answered.
fn rejection_reason(error: &ApiError) -> Option<&'static str> {
    match error {
        ApiError::Unauthorized(_) | ApiError::Forbidden(_) => Some("unauthorized"),
        ApiError::Unprocessable { .. } => Some("invalid"),
        ApiError::PayloadTooLarge(_) => Some("too_large"),
        ApiError::UnsupportedMediaType(_) => Some("unsupported_media_type"),
        ApiError::BadRequest(_) => Some("malformed"),
        ApiError::NotFound(_) => Some("unknown_machine"),
        ApiError::Conflict(_) | ApiError::Internal(_) => None,
    }
}

/// Middleware: counts and times every request of the router it wraps.
pub async fn track_http(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string());
    let response = next.run(request).await;
    metrics.record_http(
        &method,
        route.as_deref(),
        response.status(),
        started.elapsed(),
    );
    response
}

/// What the metrics listener needs.
#[derive(Clone)]
pub struct Scrape {
    pub metrics: Metrics,
    pub db: Database,
    /// Most machines whose own series are exported.
    pub machine_cap: usize,
}

/// The metrics listener's only route, gzipped for Prometheus, which asks for it: a scrape of
/// a large fleet shrinks about twelvefold.
pub fn router(scrape: Scrape) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .layer(CompressionLayer::new())
        .with_state(scrape)
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    let now = scrape.now().await;
    let mut text = String::new();
    let encoded = prometheus_text::encode(&mut text, &scrape.metrics.0.registry)
        .and_then(|()| prometheus_text::encode(&mut text, &now));
    match encoded {
        Ok(()) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "metrics not encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

impl Scrape {
    /// The series computed at scrape time: pool, process and, when the database answers, the
    /// fleet. Without the fleet the process's own series still go out, so a database outage
    /// shows in its 5xx answers instead of in a failed scrape.
    async fn now(&self) -> Registry {
        let mut registry = Registry::default();
        register_pool(&mut registry, &self.db);
        if let Err(error) = register_process(&mut registry) {
            tracing::warn!(%error, "process metrics not read");
        }
        match read_fleet(&self.db).await {
            Ok((machines, versions, runs)) => {
                register_fleet(&mut registry, &machines, &versions, self.machine_cap);
                register_training(&mut registry, runs);
            }
            Err(error) => tracing::warn!(%error, "fleet metrics not read"),
        }
        registry
    }
}

/// The machines, model versions and training runs, as the fleet series need them.
async fn read_fleet(
    db: &Database,
) -> crate::error::Result<(Vec<Machine>, Vec<ModelVersionRow>, Vec<RunsInState>)> {
    let pool = db.pool();
    let machines = db::machines::list(pool).await?;
    let versions = db::model_versions::list(pool).await?;
    let bounds_ms = TRAINING_BUCKETS.map(|seconds| (seconds * 1000.0) as i64);
    let runs = db::training_runs::by_state(pool, &bounds_ms).await?;
    Ok((machines, versions, runs))
}

fn register_pool(registry: &mut Registry, db: &Database) {
    let pool = db.pool();
    let connections = Family::<PoolLabels, Gauge>::default();
    let open = i64::from(pool.size());
    let idle = pool.num_idle() as i64;
    connections
        .get_or_create(&PoolLabels { state: "idle" })
        .set(idle);
    connections
        .get_or_create(&PoolLabels { state: "in_use" })
        .set((open - idle).max(0));
    registry.register(
        "icantkube_db_pool_connections",
        "Open database connections, idle or in use",
        connections,
    );
    registry.register(
        "icantkube_db_pool_max_connections",
        "Most database connections the pool opens",
        ConstGauge::new(i64::from(pool.options().get_max_connections())),
    );
}

/// The standard process series, read from /proc like the other Prometheus clients do.
fn register_process(registry: &mut Registry) -> procfs::ProcResult<()> {
    let process = procfs::process::Process::myself()?;
    let stat = process.stat()?;
    let ticks = procfs::ticks_per_second() as f64;
    let open_fds = process.fd_count()?;
    let boot = procfs::boot_time_secs()?;
    registry.register(
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds",
        ConstCounter::new((stat.utime + stat.stime) as f64 / ticks),
    );
    registry.register(
        "process_resident_memory_bytes",
        "Resident memory size in bytes",
        ConstGauge::new(stat.rss.saturating_mul(procfs::page_size()) as i64),
    );
    registry.register(
        "process_open_fds",
        "Number of open file descriptors",
        ConstGauge::new(open_fds as i64),
    );
    registry.register(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds",
        ConstGauge::new(boot as f64 + stat.starttime as f64 / ticks),
    );
    Ok(())
}

fn register_fleet(
    registry: &mut Registry,
    machines: &[Machine],
    versions: &[ModelVersionRow],
    cap: usize,
) {
    let by_status = Family::<StatusLabels, Gauge>::default();
    for status in Status::ALL {
        // At zero, so a status without machines reads 0 rather than missing.
        by_status
            .get_or_create(&StatusLabels {
                status: status.as_str(),
            })
            .set(0);
    }
    for machine in machines {
        by_status
            .get_or_create(&StatusLabels {
                status: machine.status.as_str(),
            })
            .inc();
    }
    registry.register(
        "icantkube_machines",
        "Registered machines, by status",
        by_status,
    );

    let exported = riskiest(machines, cap);
    let status = Family::<MachineStatusLabels, Gauge>::default();
    let probability = Family::<MachineLabels, FloatGauge>::default();
    let sensor_values = Family::<SensorLabels, FloatGauge>::default();
    let life = Family::<RemainingLifeLabels, FloatGauge>::default();
    let model = Family::<ModelVersionLabels, Gauge>::default();
    for machine in &exported {
        // Only the current status, at 1: one series per machine, and an alert's `for` sees a
        // machine leave the status as the series ending.
        status
            .get_or_create(&MachineStatusLabels {
                machine: machine.name.clone(),
                status: machine.status.as_str(),
            })
            .set(1);
        let sensors = machine.schema.sensors();
        for (sensor, value) in sensors.iter().zip(machine.last_values.iter().flatten()) {
            sensor_values
                .get_or_create(&SensorLabels {
                    machine: machine.name.clone(),
                    sensor: sensor.key.clone(),
                    unit: sensor.unit.clone(),
                })
                .set(*value);
        }
        if let Some(p) = machine.failure_probability {
            probability
                .get_or_create(&MachineLabels {
                    machine: machine.name.clone(),
                })
                .set(p);
        }
        if let Some(remaining) = machine.remaining_life {
            life.get_or_create(&RemainingLifeLabels {
                machine: machine.name.clone(),
                unit: machine.life_unit.clone().unwrap_or_else(|| "cycles".into()),
            })
            .set(remaining);
        }
        let active = machine
            .active_model_version_id
            .and_then(|id| versions.iter().find(|version| version.id == id));
        if let Some(version) = active {
            model
                .get_or_create(&ModelVersionLabels {
                    machine: machine.name.clone(),
                    profile: version.profile.clone(),
                    version: version.version,
                })
                .set(1);
        }
    }
    registry.register(
        "icantkube_machines_exported",
        "Machines whose own series are exported (the riskiest, up to ICANTKUBE_METRICS_MACHINE_CAP)",
        ConstGauge::new(exported.len() as i64),
    );
    registry.register(
        "icantkube_machine_status",
        "The machine's current status (1, on the series of that status)",
        status,
    );
    registry.register(
        "icantkube_machine_failure_probability",
        "Latest predicted probability that the machine fails",
        probability,
    );
    registry.register(
        "icantkube_machine_sensor_value",
        "The machine's latest reading of each sensor, in the unit its label names",
        sensor_values,
    );
    registry.register(
        "icantkube_machine_remaining_life",
        "Latest predicted remaining life, in the unit its model counts",
        life,
    );
    registry.register(
        "icantkube_model_version_info",
        "The machine's active model version",
        model,
    );

    let last_reading = Family::<MachineLabels, Gauge>::default();
    for machine in stalest_monitored(machines, cap) {
        if let Some(at) = machine.last_reading_at {
            last_reading
                .get_or_create(&MachineLabels {
                    machine: machine.name.clone(),
                })
                .set(at.div_euclid(1000));
        }
    }
    registry.register(
        "icantkube_machine_last_reading_timestamp_seconds",
        "When the monitored machine's latest reading was taken (the stalest machines, up to \
         ICANTKUBE_METRICS_MACHINE_CAP)",
        last_reading,
    );
}

/// Up to `cap` monitored machines that have reported, the longest silent first: the ones an
/// alert on silence needs, within the same bound on series as the risk gauges.
fn stalest_monitored(machines: &[Machine], cap: usize) -> Vec<&Machine> {
    let mut ranked: Vec<&Machine> = machines
        .iter()
        .filter(|m| m.monitoring && m.last_reading_at.is_some())
        .collect();
    ranked.sort_by(|a, b| {
        a.last_reading_at
            .cmp(&b.last_reading_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    ranked.truncate(cap);
    ranked
}

/// Up to `cap` machines, riskiest first: critical, then warning, then the rest; within each,
/// the highest failure probability, then the least remaining life; the name breaks ties so
/// the choice is stable from scrape to scrape.
fn riskiest(machines: &[Machine], cap: usize) -> Vec<&Machine> {
    let mut ranked: Vec<&Machine> = machines.iter().collect();
    ranked.sort_by(|a, b| risk_order(a, b));
    ranked.truncate(cap);
    ranked
}

fn risk_order(a: &Machine, b: &Machine) -> Ordering {
    let urgency = |status: Status| match status {
        Status::Critical => 0,
        Status::Warning => 1,
        _ => 2,
    };
    urgency(a.status)
        .cmp(&urgency(b.status))
        // Negated, so the highest probability comes first and machines without one still last.
        .then_with(|| {
            known_first(
                a.failure_probability.map(|p| -p),
                b.failure_probability.map(|p| -p),
            )
        })
        .then_with(|| known_first(a.remaining_life, b.remaining_life))
        .then_with(|| a.name.cmp(&b.name))
}

/// Ascending, with missing values after every known one.
fn known_first(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Runs per state, and the durations of finished runs. Read from the database rather than
/// observed when a run ends: runs end in other processes (a child or a Kubernetes Job, watched
/// by whichever replica started it, and not across a restart), so only the database sees
/// every run, and every replica then reports the same histogram.
fn register_training(registry: &mut Registry, runs: Vec<RunsInState>) {
    let by_state = Family::<StateLabels, Gauge>::default();
    for state in RUN_STATES {
        by_state
            .get_or_create(&StateLabels {
                state: state.to_string(),
            })
            .set(0);
    }
    for run in &runs {
        by_state
            .get_or_create(&StateLabels {
                state: run.state.clone(),
            })
            .set(run.runs);
    }
    registry.register(
        "icantkube_training_runs",
        "Training runs, by state",
        by_state,
    );
    registry.register_collector(Box::new(RunDurations(runs)));
}

/// `icantkube_training_run_duration_seconds`: a histogram per state whose buckets the
/// database counted, so a scrape never reads the runs themselves.
#[derive(Debug)]
struct RunDurations(Vec<RunsInState>);

impl Collector for RunDurations {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut histogram = encoder.encode_descriptor(
            "icantkube_training_run_duration_seconds",
            "Time finished training runs took from start to end, by final state",
            None,
            MetricType::Histogram,
        )?;
        for runs in self.0.iter().filter(|runs| runs.timed > 0) {
            histogram
                .encode_family(&StateLabels {
                    state: runs.state.clone(),
                })?
                .encode_histogram::<NoLabelSet>(
                    runs.total_ms as f64 / 1000.0,
                    runs.timed.max(0) as u64,
                    &bucket_counts(runs),
                    None,
                )?;
        }
        Ok(())
    }
}

/// Runs per bucket (not cumulative: the encoder adds them up), the last one `+Inf`.
fn bucket_counts(runs: &RunsInState) -> Vec<(f64, u64)> {
    let mut below = 0;
    let mut buckets: Vec<(f64, u64)> = TRAINING_BUCKETS
        .iter()
        .zip(&runs.within)
        .map(|(bound, within)| {
            let count = (within - below).max(0) as u64;
            below = *within;
            (*bound, count)
        })
        .collect();
    buckets.push((f64::INFINITY, (runs.timed - below).max(0) as u64));
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profiles::Profile;

    fn machine(name: &str, status: Status, probability: Option<f64>, life: Option<f64>) -> Machine {
        Machine {
            id: 0,
            name: name.to_string(),
            display_name: name.to_string(),
            profile: "ai4i2020".to_string(),
            attributes: Default::default(),
            schema: Profile::Ai4i2020.schema(),
            monitoring: true,
            status,
            failure_probability: probability,
            last_reading_at: None,
            last_values: None,
            active_model_version_id: None,
            remaining_life: life,
            remaining_life_low: None,
            remaining_life_high: None,
            life_unit: None,
            failure_mode: None,
            mode_probability: None,
        }
    }

    #[test]
    fn the_riskiest_machines_are_exported_first_up_to_the_cap() {
        let fleet = vec![
            machine("healthy-high", Status::Healthy, Some(0.3), None),
            machine("unknown", Status::Unknown, None, None),
            machine("warning", Status::Warning, Some(0.2), None),
            machine("critical-low", Status::Critical, Some(0.6), None),
            machine("engine-far", Status::Healthy, None, Some(120.0)),
            machine("critical-high", Status::Critical, Some(0.9), None),
            machine("engine-near", Status::Healthy, None, Some(30.0)),
            machine("healthy-low", Status::Healthy, Some(0.01), None),
        ];
        let names = |cap| -> Vec<&str> {
            riskiest(&fleet, cap)
                .iter()
                .map(|m| m.name.as_str())
                .collect()
        };
        assert_eq!(
            names(100),
            [
                "critical-high",
                "critical-low",
                "warning",
                "healthy-high",
                "healthy-low",
                "engine-near",
                "engine-far",
                "unknown",
            ]
        );
        assert_eq!(names(3), ["critical-high", "critical-low", "warning"]);
        assert!(names(0).is_empty());
    }

    #[test]
    fn the_longest_silent_monitored_machines_are_exported_first_up_to_the_cap() {
        let at = |name: &str, last: Option<i64>, monitoring: bool| Machine {
            last_reading_at: last,
            monitoring,
            ..machine(name, Status::Healthy, None, None)
        };
        let fleet = vec![
            at("recent", Some(9_000), true),
            at("silent", Some(1_000), true),
            at("quiet", Some(5_000), true),
            at("never", None, true),
            at("unmonitored", Some(10), false),
        ];
        let names: Vec<&str> = stalest_monitored(&fleet, 2)
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["silent", "quiet"]);
        assert_eq!(stalest_monitored(&fleet, 10).len(), 3);
    }

    #[test]
    fn run_durations_counted_by_the_database_become_per_bucket_counts() {
        let runs = RunsInState {
            state: "completed".into(),
            runs: 5,
            timed: 4,
            total_ms: 4_000_000,
            // At most 10 s: 1, 30 s: 1, 60 s: 2, 120 s: 2, 300 s and on: 3.
            within: vec![1, 1, 2, 2, 3, 3, 3, 3, 3, 3],
        };
        let buckets = bucket_counts(&runs);
        let counts: Vec<u64> = buckets.iter().map(|(_, count)| *count).collect();
        assert_eq!(counts, [1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(buckets[0].0, 10.0);
        assert_eq!(buckets[10].0, f64::INFINITY);
    }

    #[test]
    fn refusals_are_counted_by_reason_and_server_failures_are_not() {
        let metrics = Metrics::default();
        metrics.record_rejected(&ApiError::PayloadTooLarge("big".into()));
        metrics.record_rejected(&ApiError::Internal(crate::error::Error::Corrupt(
            "x".into(),
        )));
        let mut text = String::new();
        prometheus_text::encode(&mut text, &metrics.0.registry).unwrap();
        assert!(
            text.contains("icantkube_readings_rejected_total{reason=\"too_large\"} 1\n"),
            "{text}"
        );
        assert_eq!(
            text.matches("icantkube_readings_rejected_total{").count(),
            1
        );
    }
}
