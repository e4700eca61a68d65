//! What this process saw: HTTP requests, readings ingested and refused, inference time and
//! predictions, counted since it started; and its own state at each scrape (database pool,
//! CPU, memory, descriptors). Each replica reports its own; Prometheus sums them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::Status;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::StatusLabels;
use crate::db::Database;
use crate::error::ApiError;

/// Seconds; from 5 ms (a probe) to 10 s (a large CSV batch).
const HTTP_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Seconds to score one batch: a single reading takes well under a millisecond.
const INFERENCE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

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
struct PoolLabels {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// What this process counts; cheap to clone, every clone counts into the same series.
#[derive(Clone)]
pub struct Metrics(pub(super) Arc<Recorded>);

pub(super) struct Recorded {
    /// What `/metrics` encodes of this process' counters.
    pub(super) registry: Registry,
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
        ApiError::RequestTimeout(_) => Some("body_stalled"),
        ApiError::UnsupportedMediaType(_) => Some("unsupported_media_type"),
        ApiError::BadRequest(_) => Some("malformed"),
        ApiError::NotFound(_) => Some("unknown_machine"),
        ApiError::TooManyRequests { .. } => Some("rate_limited"),
        ApiError::Unavailable { .. } => Some("storage_unavailable"),
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

pub(super) fn register_pool(registry: &mut Registry, db: &Database) {
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
pub(super) fn register_process(registry: &mut Registry) -> procfs::ProcResult<()> {
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

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::prometheus_text;

    use super::*;

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
