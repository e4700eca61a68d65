//! Prometheus metrics, served as `/metrics` on a listener of their own (the Ingress exposes only
//! the main port).
//!
//! Two kinds of series: what this process saw (HTTP requests, readings ingested and refused,
//! inference time, predictions), kept in counters and histograms since it started; and the
//! fleet as the database has it (machines by status, the riskiest machines' risk, training
//! runs, active model versions), computed at each scrape, so every replica reports the same
//! fleet and a machine that drops out of the riskiest set drops out of the output.

mod fleet;
mod instance;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::registry::Registry;
use tower_http::compression::CompressionLayer;

use crate::db::Database;
use fleet::{read_fleet, register_fleet, register_training};
use instance::{register_pool, register_process};
pub use instance::{track_http, Metrics};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
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
        match read_fleet(&self.db, self.machine_cap).await {
            Ok(fleet) => {
                register_fleet(&mut registry, &fleet);
                register_training(&mut registry, fleet.runs);
            }
            Err(error) => tracing::warn!(%error, "fleet metrics not read"),
        }
        registry
    }
}
