//! The HTTP surface outside the Leptos pages: the JSON API and probes (`api`) and the admin
//! forms the pages post to (`forms`).

pub mod api;
pub mod forms;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::startup::AppState;
use api::{health, machines, promotions, readings};
use forms::{datasets, models as model_forms, sign_in, training as training_forms};

/// `/healthz`, `/readyz`, `/api/v1/...`, and the admin forms the pages post to (their GET
/// pages are Leptos routes on the same paths).
pub fn router(max_body_bytes: usize, max_upload_bytes: usize) -> Router<AppState> {
    let api = Router::new()
        .route("/machines", get(machines::list).post(machines::create))
        .route("/machines/{machine}", get(machines::show))
        .route("/machines/{machine}/tokens", post(machines::create_token))
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
        .route(
            "/datasets",
            // Multipart overhead on top of the file itself.
            post(datasets::upload).layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        );
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api)
        .merge(forms)
}
