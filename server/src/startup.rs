//! Building and running the service, the same way in production and in tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::services::Services;
use app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler, generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::AdminCredential;
use crate::configuration::{Secret, Settings};
use crate::db::Database;
use crate::fleet_queries::StoredFleet;
use crate::scoring::ModelCache;
use crate::{demo, routes};

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub admin: Arc<AdminCredential>,
    pub ingest_token: Option<Secret>,
    pub max_body_bytes: usize,
    pub models: ModelCache,
}

/// The whole HTTP surface: API, probes, pages, server functions and static files.
pub fn router(state: AppState) -> Router {
    let services = Services {
        fleet: Arc::new(StoredFleet::new(state.db.clone(), state.models.clone())),
    };
    let leptos_options = state.leptos_options.clone();
    let pages = generate_route_list(App);
    routes::router(state.max_body_bytes)
        .leptos_routes_with_context(
            &state,
            pages,
            move || provide_context(services.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(file_and_error_handler::<AppState, _>(shell))
        // Layers wrap what is above them: compression and the timeout see every response, and
        // the trace span, outermost, covers all of it.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A built service, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Database,
    demo: Option<Vec<JoinHandle<()>>>,
}

impl Application {
    /// Connects the database, applies migrations, seeds demo mode, and binds the listener
    /// (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let leptos_options = leptos_options()?;
        let db = Database::connect(&settings.database_url).await?;
        db.migrate().await?;
        if !settings.admin.is_enabled() {
            tracing::warn!(
                "no admin credential configured (ICANTKUBE_ADMIN_PASSWORD or \
                 ICANTKUBE_ADMIN_PASSWORD_HASH): admin actions will be refused"
            );
        }
        let models = ModelCache::new(db.clone());
        let demo = if settings.demo.enabled {
            let mut fleet = demo::DemoFleet::default();
            fleet.seed(&db, &models, settings.demo.interval).await?;
            let training = db.clone();
            let streaming =
                tokio::spawn(fleet.stream(db.clone(), models.clone(), settings.demo.interval));
            let trained = tokio::spawn(async move {
                // A busy database can refuse a write; the demo must not stay unscored for it.
                for attempt in 1..=3 {
                    match demo::train_models(training.clone()).await {
                        Ok(()) => break,
                        Err(error) => {
                            tracing::error!(%error, attempt, "demo models not trained");
                            tokio::time::sleep(Duration::from_secs(2)).await;
                        }
                    }
                }
            });
            Some(vec![streaming, trained])
        } else {
            None
        };
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("Failed to listen on {}", settings.listen))?;
        let state = AppState {
            leptos_options,
            db: db.clone(),
            admin: Arc::new(settings.admin),
            ingest_token: settings.ingest_token,
            max_body_bytes: settings.max_body_bytes,
            models,
        };
        Ok(Application {
            listener,
            router: router(state),
            db,
            demo,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests and closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(address = %self.local_addr(), "icantkube is listening");
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the HTTP server failed");
        for task in self.demo.into_iter().flatten() {
            task.abort();
        }
        self.db.close().await;
        tracing::info!("stopped");
        served
    }
}

/// Leptos' site settings from its `LEPTOS_*` variables (the bundle's name is set at build time).
fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let configuration = leptos::config::get_configuration(None)
        .context("Failed to read the Leptos site settings (LEPTOS_* variables)")?;
    Ok(configuration.leptos_options)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
