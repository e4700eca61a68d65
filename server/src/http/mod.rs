//! The HTTP surface outside the Leptos pages: the JSON API and probes (`api`), the admin
//! forms the pages post to (`forms`) and the site's files (`assets`).

pub mod api;
pub mod assets;
pub mod client;
pub mod connections;
pub mod forms;
mod page_messages;
mod page_versions;
mod security_headers;
mod server_fn_status;
mod state;
mod transfer_coding;
mod viewing;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use app::services::Services;
use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, ErrorHandler, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::db::Database;
use crate::metrics;
use crate::pages::{SessionViewers, StoredAlarms, StoredFleet, StoredTraining, StoredUsers};
use crate::shutdown::{self, Stopping};
use api::{health, machines, promotions, readings};
use forms::{
    alarms, datasets, maintenance, models as model_forms, sign_in, training as training_forms,
    users,
};
pub use state::AppState;

/// The pages' routes, generated once per process. Generating them sets a process-wide flag in
/// leptos_server that leaves a resource first polled meanwhile pending for good
/// (leptos-rs/leptos#4773): an app built while another serves in the same process, as the
/// tests do, hung that one's page for 30 s now and then, until its timeout answered 503.
fn page_routes() -> Vec<AxumRouteListing> {
    static PAGES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    PAGES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP surface: API, probes, pages, server functions and static files.
pub fn router(state: AppState) -> Router {
    let fleet = Arc::new(StoredFleet {
        db: state.db.clone(),
        models: state.models.clone(),
        tracking: state.tracking.clone(),
        grafana_url: state.grafana_url.clone(),
    });
    let services = Services {
        fleet: fleet.clone(),
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
        users: Arc::new(StoredUsers {
            accounts: state.accounts.clone(),
        }),
        alarms: Arc::new(StoredAlarms {
            db: state.db.clone(),
            clears_after: state.alarm_clear_after,
            webhook: state.announce_alarms,
        }),
    };
    let leptos_options = state.leptos_options.clone();
    let not_found = ErrorHandler::new_with_context(
        security_headers::allow_this_page_scripts,
        shell,
        leptos_options.clone(),
    );
    let site_files = assets::files(&leptos_options, not_found);
    let metrics = state.metrics.clone();
    let proxies = state.proxies.clone();
    let pages = page_routes();
    routes(state.max_body_bytes, state.max_upload_bytes)
        .merge(probes(state.db.clone(), state.stopping.clone()))
        .leptos_routes_with_context(
            &state,
            pages,
            move || {
                provide_context(services.clone());
                security_headers::allow_this_page_scripts();
            },
            move || shell(leptos_options.clone()),
        )
        .fallback_service(site_files)
        .layer(middleware::from_fn_with_state(
            fleet,
            page_versions::not_modified,
        ))
        // Inside compression: it reads the error a server function answered, uncompressed.
        .layer(middleware::from_fn(server_fn_status::by_error))
        .layer(middleware::from_fn(page_messages::only_from_this_site))
        // Outside the pages' 304s, so no one unsigned learns even that a page is unchanged.
        .layer(middleware::from_fn_with_state(state.clone(), viewing::gate))
        // Layers wrap what is above them: compression and the timeout see every response, the
        // security headers go on every answer (a timeout's too), the trace span covers all of
        // it, and the metrics, outermost, time and count what the client got. Layers run after
        // routing, so the metrics see the matched route template.
        // A body that stalls gets 408 from the handler reading it.
        .layer(RequestBodyTimeoutLayer::new(state.body_timeout))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(security_headers::add))
        .layer(middleware::from_fn_with_state(
            state.stopping.clone(),
            shutdown::close_connections,
        ))
        .layer(middleware::from_fn(transfer_coding::only_chunked))
        .layer(middleware::from_fn_with_state(proxies, client::identify))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(metrics, metrics::track_http))
        .with_state(state)
}

/// `/healthz` and `/readyz`, for the app's port and the metrics port.
pub fn probes<S: Clone + Send + Sync + 'static>(db: Database, stopping: Stopping) -> Router<S> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(health::Probes { db, stopping })
}

/// `/api/v1/...`, and the admin forms the pages post to (their GET
/// pages are Leptos routes on the same paths).
fn routes(max_body_bytes: usize, max_upload_bytes: usize) -> Router<AppState> {
    let api = Router::new()
        .route("/machines", get(machines::list).post(machines::create))
        .route("/machines/{machine}", get(machines::show))
        .route(
            "/machines/{machine}/tokens",
            get(machines::list_tokens).post(machines::create_token),
        )
        .route(
            "/machines/{machine}/tokens/{id}",
            delete(machines::revoke_token),
        )
        .route("/machines/{machine}/model", put(promotions::put))
        .route("/machines/{machine}/readings", post(readings::post))
        .layer(DefaultBodyLimit::max(max_body_bytes));
    let forms = Router::new()
        .route("/login", post(sign_in::sign_in))
        .route("/logout", post(sign_in::sign_out))
        .route("/training", post(training_forms::create))
        .route("/training/{id}/cancel", post(training_forms::cancel))
        .route("/models/{id}/promote", post(model_forms::promote))
        .route("/datasets/from-machine", post(datasets::from_machine))
        .route("/machines/{name}/maintenance", post(maintenance::record))
        .route("/alarms/{id}/acknowledge", post(alarms::acknowledge))
        .route("/alarms/{id}/clear", post(alarms::clear))
        .route("/users", post(users::create))
        .route("/users/{name}/role", post(users::set_role))
        .route("/users/{name}/disabled", post(users::set_disabled))
        .route("/users/{name}/password", post(users::set_password))
        .route(
            "/datasets",
            // Multipart overhead on top of the file itself.
            post(datasets::upload).layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        );
    Router::new().nest("/api/v1", api).merge(forms)
}
