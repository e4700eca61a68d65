//! Building and running the service, the same way in production and in tests.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::services::Services;
use app::{shell, App};
use axum::extract::FromRef;
use axum::{middleware, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler, generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::sessions::Sessions;
use crate::auth::AdminCredential;
use crate::configuration::{Secret, Settings, TrackingSettings, TrainingBackend};
use crate::db::Database;
use crate::http as routes;
use crate::ingest::scoring::ModelCache;
use crate::metrics::{self, Metrics, Scrape};
use crate::pages::fleet::StoredFleet;
use crate::pages::training::{SessionViewers, StoredTraining};
use crate::simulator::demo;
use crate::training::kubernetes::KubernetesRunner;
use crate::training::local::{LocalRunner, LocalSettings};
use crate::training::tracking;
use crate::training::Runner;

/// How often runs MLflow missed are offered to it again.
const TRACKING_RETRY: Duration = Duration::from_secs(60);

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub admin: Arc<AdminCredential>,
    pub ingest_token: Option<Secret>,
    pub max_body_bytes: usize,
    #[from_ref(skip)]
    pub max_upload_bytes: usize,
    pub models: ModelCache,
    pub sessions: Sessions,
    /// Where training runs train.
    pub runner: Arc<dyn Runner>,
    pub tracking: Option<TrackingSettings>,
    pub grafana_url: Option<String>,
    pub metrics: Metrics,
}

/// The whole HTTP surface: API, probes, pages, server functions and static files.
pub fn router(state: AppState) -> Router {
    let services = Services {
        fleet: Arc::new(StoredFleet {
            db: state.db.clone(),
            models: state.models.clone(),
            tracking: state.tracking.clone(),
            grafana_url: state.grafana_url.clone(),
        }),
        training: Arc::new(StoredTraining {
            db: state.db.clone(),
            models: state.models.clone(),
            tracking: state.tracking.clone(),
            runner: state.runner.name(),
            max_upload_bytes: state.max_upload_bytes as u64,
        }),
        viewers: Arc::new(SessionViewers {
            sessions: state.sessions.clone(),
        }),
    };
    let leptos_options = state.leptos_options.clone();
    let metrics = state.metrics.clone();
    let pages = generate_route_list(App);
    routes::router(state.max_body_bytes, state.max_upload_bytes)
        .leptos_routes_with_context(
            &state,
            pages,
            move || provide_context(services.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(file_and_error_handler::<AppState, _>(shell))
        // Layers wrap what is above them: compression and the timeout see every response, the
        // trace span covers all of it, and the metrics, outermost, time and count what the
        // client got. Layers run after routing, so the metrics see the matched route template.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(metrics, metrics::track_http))
        .with_state(state)
}

/// A built service, bound to its ports, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics`, on a port of its own.
    metrics_listener: TcpListener,
    metrics_router: Router,
    db: Database,
    /// Demo streaming and training, MLflow retries: stopped with the server.
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Connects the database, applies migrations, seeds demo mode, and binds the app's and the
    /// metrics' listeners (port 0 picks a free port).
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
        let metrics = Metrics::default();
        let mut background = if settings.demo.enabled {
            let mut fleet = demo::DemoFleet::default();
            fleet
                .seed(&db, &models, &metrics, settings.demo.interval)
                .await?;
            let training = db.clone();
            let streaming = tokio::spawn(fleet.stream(
                db.clone(),
                models.clone(),
                metrics.clone(),
                settings.demo.interval,
            ));
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
            vec![streaming, trained]
        } else {
            Vec::new()
        };
        let runner = runner(&settings, &db).await?;
        if let Some(tracking) = settings.tracking.clone() {
            // Runs MLflow missed (it was down, or slow) are tracked once it answers again.
            let db = db.clone();
            background.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(TRACKING_RETRY);
                loop {
                    every.tick().await;
                    tracking::retry_untracked(&db, &tracking).await;
                }
            }));
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("Failed to listen on {}", settings.listen))?;
        let metrics_listener = TcpListener::bind(settings.metrics_listen)
            .await
            .with_context(|| {
                format!(
                    "Failed to listen for metrics on {} (ICANTKUBE_METRICS_LISTEN)",
                    settings.metrics_listen
                )
            })?;
        let metrics_router = metrics::router(Scrape {
            metrics: metrics.clone(),
            db: db.clone(),
            machine_cap: settings.metrics_machine_cap,
        });
        let admin = Arc::new(settings.admin);
        let state = AppState {
            leptos_options,
            db: db.clone(),
            sessions: Sessions::new(db.clone(), admin.clone()),
            admin,
            ingest_token: settings.ingest_token,
            max_body_bytes: settings.max_body_bytes,
            max_upload_bytes: settings.max_upload_bytes,
            models,
            runner,
            tracking: settings.tracking,
            grafana_url: settings.grafana_url,
            metrics,
        };
        Ok(Application {
            listener,
            router: router(state),
            metrics_listener,
            metrics_router,
            db,
            background,
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

    pub fn metrics_address(&self) -> SocketAddr {
        self.metrics_listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn metrics_port(&self) -> u16 {
        self.metrics_address().port()
    }

    /// Serves the app and the metrics until Ctrl-C or SIGTERM, then finishes in-flight requests
    /// on both and closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(
            address = %self.local_addr(),
            metrics = %self.metrics_address(),
            "icantkube is listening"
        );
        // The metrics listener stops with the app: on the signal, or when the app's server
        // fails (the sender is dropped then).
        let (stop, stopped) = watch::channel(false);
        let app_stopped = async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        let metrics_stopped = async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        // The peer address keys the sign-in attempt limit.
        let app = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(app_stopped);
        let metrics = axum::serve(self.metrics_listener, self.metrics_router)
            .with_graceful_shutdown(metrics_stopped);
        let (app, metrics) = tokio::join!(app.into_future(), metrics.into_future());
        let served = app
            .context("the HTTP server failed")
            .and(metrics.context("the metrics server failed"));
        for task in self.background {
            task.abort();
        }
        self.db.close().await;
        tracing::info!("stopped");
        served
    }
}

/// The runner the settings choose, started.
async fn runner(settings: &Settings, db: &Database) -> anyhow::Result<Arc<dyn Runner>> {
    match &settings.training.backend {
        TrainingBackend::Local => {
            let executable = match &settings.training.local_executable {
                Some(path) => path.clone(),
                None => std::env::current_exe()
                    .context("the local training runner needs this program's path")?,
            };
            let settings = LocalSettings {
                workers: settings.training.local_workers,
                executable,
                database_url: settings.database_url.clone(),
                environment: tracking_environment(settings.tracking.as_ref()),
            };
            Ok(Arc::new(LocalRunner::start(db.clone(), settings).await?))
        }
        TrainingBackend::Kubernetes(kubernetes) => {
            // Connecting checks the ServiceAccount's permissions: a missing one stops the
            // start with a message naming it, rather than failing every run later.
            let runner = KubernetesRunner::connect((**kubernetes).clone(), db.clone()).await?;
            let watched = runner.resume_watching().await?;
            tracing::info!(watched, "training Jobs of earlier runs are watched again");
            Ok(Arc::new(runner))
        }
    }
}

/// MLflow's settings as the variables a training process reads.
fn tracking_environment(tracking: Option<&TrackingSettings>) -> Vec<(String, String)> {
    let Some(tracking) = tracking else {
        return Vec::new();
    };
    let mut environment = vec![("MLFLOW_TRACKING_URI".to_string(), tracking.uri.clone())];
    if let Some(user) = &tracking.username {
        environment.push(("MLFLOW_TRACKING_USERNAME".to_string(), user.clone()));
    }
    if let Some(password) = &tracking.password {
        environment.push((
            "MLFLOW_TRACKING_PASSWORD".to_string(),
            password.expose().to_string(),
        ));
    }
    environment
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
