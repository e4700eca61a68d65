//! Probes: `/healthz` says the process is alive, `/readyz` that it can serve.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::error::cause_chain;
use crate::http::AppState;

/// The process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

/// The database answers and every migration is applied.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.db.is_ready().await {
        Ok(true) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "migrations pending" })),
        ),
        Err(error) => {
            tracing::warn!(cause_chain = %cause_chain(error.as_ref()), "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database unreachable" })),
            )
        }
    }
}
