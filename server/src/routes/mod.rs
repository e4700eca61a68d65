//! HTTP endpoints outside the Leptos pages: health probes and the JSON API.

mod credentials;
pub mod health;
pub mod machines;
pub mod promotions;
pub mod readings;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::startup::AppState;

/// `/healthz`, `/readyz` and `/api/v1/...`.
pub fn router(max_body_bytes: usize) -> Router<AppState> {
    let api = Router::new()
        .route("/machines", get(machines::list).post(machines::create))
        .route("/machines/{machine}", get(machines::show))
        .route("/machines/{machine}/tokens", post(machines::create_token))
        .route("/machines/{machine}/model", put(promotions::put))
        .route("/machines/{machine}/readings", post(readings::post))
        .layer(DefaultBodyLimit::max(max_body_bytes));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api)
}
