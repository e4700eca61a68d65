//! Building and running the service, the same way in production and in tests: connect and
//! migrate, start the background work and the training runner, bind, serve until a signal.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::alarms;
use crate::auth::accounts::Accounts;
use crate::auth::{PasswordChecks, Sessions};
use crate::background::{holder_name, Background, StartWork};
use crate::configuration::{ConnectionSettings, Settings};
use crate::db::Database;
use crate::history;
use crate::http::client::Proxies;
use crate::http::{self, connections, AppState};
use crate::ingest::{Ingest, ModelCache};
use crate::metrics::{self, Metrics, Scrape};
use crate::shutdown::Stopping;
use crate::simulator::demo;
use crate::training::{self, tracking, Runner};

/// How often runs MLflow missed are offered to it again.
const TRACKING_RETRY: Duration = Duration::from_secs(60);
/// How often the rollups catch up with the readings: a window's chart lags them by at most
/// this and the minute a reading settles for.
const ROLLUP_EVERY: Duration = Duration::from_secs(30);
/// How often the background work looks for alarms whose machine has recovered.
const ALARM_CHECK_EVERY: Duration = Duration::from_secs(15);
/// How often readings past their retention are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// A built service, bound to its ports, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics`, on a port of its own.
    metrics_listener: TcpListener,
    metrics_router: Router,
    db: Database,
    /// How long requests in flight may finish after the signal.
    shutdown_drain: Duration,
    /// How long the replica serves on, unready, after the first signal.
    shutdown_delay: Duration,
    stopping: Stopping,
    connections: ConnectionSettings,
    /// Demo streaming and training, MLflow retries, on the replica holding their lease:
    /// stopped with the server, the lease let go.
    background: Background,
}

impl Application {
    /// Connects the database and applies migrations, starts the background work (demo fleet,
    /// MLflow retries) and the training runner, and binds the app's and the metrics' listeners
    /// (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let leptos_options = leptos_options()?;
        let db =
            Database::connect(&settings.database_url, settings.database_max_connections).await?;
        db.wait_until_answering(settings.database_wait).await?;
        db.migrate().await?;
        if !settings.admin.is_enabled() {
            tracing::warn!(
                "no admin credential configured (ICANTKUBE_ADMIN_PASSWORD or \
                 ICANTKUBE_ADMIN_PASSWORD_HASH): admin actions will be refused"
            );
        }
        let models = ModelCache::new(db.clone());
        let metrics = Metrics::default();
        let announce_alarms = settings.alarm_webhook.is_some();
        let ingest = Ingest::start(db.clone(), models.clone(), metrics.clone(), announce_alarms);

        let runner = training::start_runner(&settings, &db).await?;
        let background = Background::keep(
            db.clone(),
            holder_name(),
            settings.background_lease,
            background_work(&db, &ingest, &runner, &settings)?,
        )
        .await;

        let stopping = Stopping::default();
        let listener = bind(settings.listen, "ICANTKUBE_LISTEN").await?;
        let metrics_listener = bind(settings.metrics_listen, "ICANTKUBE_METRICS_LISTEN").await?;
        let metrics_router = metrics::router(Scrape {
            metrics: metrics.clone(),
            db: db.clone(),
            machine_cap: settings.metrics_machine_cap,
        })
        .merge(http::probes(db.clone(), stopping.clone()));
        let admin = Arc::new(PasswordChecks::new(Arc::new(settings.admin), db.clone()));
        let state = AppState {
            leptos_options,
            db: db.clone(),
            stopping: stopping.clone(),
            sessions: Sessions::new(db.clone(), admin.clone()),
            accounts: Accounts::new(db.clone(), admin.argon2_turns()),
            admin,
            ingest_token: settings.ingest_token,
            max_body_bytes: settings.max_body_bytes,
            max_batch_readings: settings.max_batch_readings,
            max_upload_bytes: settings.max_upload_bytes,
            body_timeout: settings.connections.body_timeout,
            proxies: Proxies::new(
                settings.proxies.trusted_proxies,
                settings.proxies.https_only,
            ),
            models,
            ingest,
            runner,
            tracking: settings.tracking,
            grafana_url: settings.grafana_url,
            metrics,
            viewing: settings.viewing,
            alarm_clear_after: settings.alarm_clear_after,
            announce_alarms,
        };
        Ok(Application {
            listener,
            router: http::router(state),
            metrics_listener,
            metrics_router,
            db,
            shutdown_drain: settings.shutdown_drain,
            shutdown_delay: settings.shutdown_delay,
            stopping,
            connections: settings.connections,
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

    /// Serves the app and the metrics until Ctrl-C or SIGTERM, then lets in-flight requests on
    /// both finish for at most the drain time (a client that never finishes sending must not
    /// hold the process past its grace period), and closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(
            address = %self.local_addr(),
            metrics = %self.metrics_address(),
            "icantkube is listening"
        );
        // The metrics listener stops with the app: on the signal, or when the app's server
        // fails (the sender is dropped then).
        let (stop, stopped) = watch::channel(false);
        let stopping = self.stopping.clone();
        let delay = self.shutdown_delay;
        let app_stopped = async move {
            stopping.wait(delay).await;
            let _ = stop.send(true);
        };
        let mut drain_started = stopped.clone();
        let metrics_stopped = async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let drain = self.shutdown_drain;
        let draining = self.stopping.clone();
        let drain_over = async move {
            let _ = drain_started.wait_for(|stop| *stop).await;
            draining.drain(drain).await;
        };
        let app = connections::serve(self.listener, self.router, self.connections, app_stopped);
        let metrics = axum::serve(self.metrics_listener, self.metrics_router)
            .with_graceful_shutdown(metrics_stopped);
        let serving = async { tokio::join!(app, metrics.into_future()) };
        let served = tokio::select! {
            ((), metrics) = serving => metrics.context("the metrics server failed"),
            () = drain_over => {
                tracing::warn!(
                    seconds = drain.as_secs_f64(),
                    "requests still open after the shutdown drain (or a second signal): \
                     stopping without them"
                );
                Ok(())
            }
        };
        self.background.stop().await;
        self.db.close().await;
        tracing::info!("stopped");
        served
    }
}

/// The fleet's background work, started when this replica takes the lease: the demo fleet
/// (seeded on its first start, then streaming and training its models), MLflow's retries,
/// and following the training Jobs on Kubernetes. The demo's models train in a child process,
/// whichever runner trains the runs.
fn background_work(
    db: &Database,
    ingest: &Ingest,
    runner: &Arc<dyn Runner>,
    settings: &Settings,
) -> anyhow::Result<StartWork> {
    let (db, ingest) = (db.clone(), ingest.clone());
    let runner = runner.clone();
    let (demo, tracking) = (settings.demo.clone(), settings.tracking.clone());
    let raw_retention = settings.raw_retention;
    let alarm_clear_after = settings.alarm_clear_after;
    let webhook = settings.alarm_webhook.clone();
    let demo_training = demo
        .enabled
        .then(|| training::child_program(settings))
        .transpose()?;
    Ok(Arc::new(move || {
        let (db, ingest) = (db.clone(), ingest.clone());
        let (demo, tracking) = (demo.clone(), tracking.clone());
        let (demo_training, webhook) = (demo_training.clone(), webhook.clone());
        let jobs = runner.follow_jobs();
        Box::pin(async move {
            let mut work: Vec<_> = jobs.into_iter().collect();
            if let Some(demo_training) = demo_training {
                match demo::start(&db, &ingest, demo.interval, demo_training).await {
                    Ok(tasks) => work.extend(tasks),
                    Err(error) => {
                        tracing::error!(error = %format!("{error:#}"), "the demo fleet did not start")
                    }
                }
            }
            work.push(history::rollups::keep_rolling_up(db.clone(), ROLLUP_EVERY));
            work.push(alarms::keep_clearing(
                db.clone(),
                alarm_clear_after,
                ALARM_CHECK_EVERY,
                webhook.is_some(),
            ));
            if let Some(webhook) = webhook {
                work.push(alarms::webhook::keep_delivering(db.clone(), webhook));
            }
            if let Some(retention) = raw_retention {
                work.push(history::retention::keep_pruning(
                    db.clone(),
                    retention,
                    PRUNE_EVERY,
                ));
            }
            if let Some(tracking) = tracking {
                work.push(tracking::keep_retrying(db, tracking, TRACKING_RETRY));
            }
            work
        })
    }))
}

async fn bind(address: SocketAddr, variable: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("Failed to listen on {address} ({variable})"))
}

/// Leptos' site settings from its `LEPTOS_*` variables (the bundle's name is set at build time),
/// with the hashed file names the site root lists.
fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let configuration = leptos::config::get_configuration(None)
        .context("Failed to read the Leptos site settings (LEPTOS_* variables)")?;
    Ok(http::assets::with_site_hashes(configuration.leptos_options))
}
