//! Probes: `/healthz` says the process is alive, `/readyz` that it can serve. Both answer on
//! the app's port and on the metrics port, which clients filling the app's port cannot block.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::db::Database;
use crate::error::cause_chain;
use crate::shutdown::Stopping;

/// The process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

/// How long readiness waits for the write lock before calling the database busy but able.
const WRITE_PATIENCE: Duration = Duration::from_secs(2);

/// What the probes read.
#[derive(Clone)]
pub struct Probes {
    pub db: Database,
    pub stopping: Stopping,
}

/// The process is not stopping, the database answers, every migration is applied, and it
/// takes writes.
pub async fn readyz(State(Probes { db, stopping }): State<Probes>) -> (StatusCode, Json<Value>) {
    if stopping.is_stopping() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "stopping" })),
        );
    }
    match db.is_ready().await {
        Ok(true) => match db.takes_writes(WRITE_PATIENCE).await {
            Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
            Err(fault) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": format!("storage {fault}: writes fail") })),
            ),
        },
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
