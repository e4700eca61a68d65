//! What every handler can reach: the database, credentials, caches, the training runner and
//! settings, built once at start-up and cloned into each request.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::client::Proxies;
use crate::auth::accounts::Accounts;
use crate::auth::{PasswordChecks, Sessions};
use crate::configuration::{Secret, TrackingSettings, Viewing};
use crate::db::Database;
use crate::ingest::{Ingest, ModelCache};
use crate::metrics::Metrics;
use crate::shutdown::Stopping;
use crate::training::Runner;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    /// Set on SIGTERM: readiness answers 503 from then on.
    pub stopping: Stopping,
    /// The admin password, checked under one limit on every path.
    pub admin: Arc<PasswordChecks>,
    pub ingest_token: Option<Secret>,
    pub max_body_bytes: usize,
    #[from_ref(skip)]
    pub max_batch_readings: usize,
    #[from_ref(skip)]
    pub max_upload_bytes: usize,
    /// Proxies whose forwarding headers count.
    #[from_ref(skip)]
    pub proxies: Proxies,
    /// Longest pause inside a request body.
    #[from_ref(skip)]
    pub body_timeout: Duration,
    pub models: ModelCache,
    /// Stores readings, committing concurrent batches together.
    pub ingest: Ingest,
    pub sessions: Sessions,
    /// Named users, as admins manage them.
    pub accounts: Accounts,
    /// Where training runs train.
    pub runner: Arc<dyn Runner>,
    pub tracking: Option<TrackingSettings>,
    pub grafana_url: Option<String>,
    pub metrics: Metrics,
    /// Who may view the pages and the read-only API.
    #[from_ref(skip)]
    pub viewing: Viewing,
    /// The healthy time that clears an alarm.
    #[from_ref(skip)]
    pub alarm_clear_after: Duration,
    /// Whether alarm transitions go to the webhook's outbox (a webhook is configured).
    #[from_ref(skip)]
    pub announce_alarms: bool,
}
