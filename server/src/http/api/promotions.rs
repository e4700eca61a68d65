//! `PUT /api/v1/machines/{machine}/model` (admin): makes a model version the machine's active
//! one. A model whose inputs the machine does not have is refused, naming what is missing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::credentials::require_admin;
use super::machines::{find, json_body};
use crate::db::model_versions;
use crate::error::{ApiError, Error};
use crate::http::client::Client;
use crate::http::AppState;
use crate::training::promotion::{self, PromotionError};
use crate::training::tracking;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promote {
    model_version_id: i64,
    /// Why, for the promotion history.
    reason: Option<String>,
}

pub async fn put(
    State(state): State<AppState>,
    client: Client,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &headers, client.address).await?;
    let machine = find(&state, &name).await?;
    let request: Promote = json_body(&body)?;
    let reason = request.reason.unwrap_or_default();
    if reason.chars().count() > 200 {
        return Err(ApiError::unprocessable("reason: at most 200 characters"));
    }
    let model = state
        .models
        .get(request.model_version_id)
        .await
        .map_err(|error| match error {
            Error::NotFound(_) => ApiError::NotFound(format!(
                "model version {} not found",
                request.model_version_id
            )),
            // A model file that fails its checks is the admin's to replace, not a fault here.
            Error::Corrupt(why) => ApiError::unprocessable(format!(
                "model version {} cannot be used: {why}",
                request.model_version_id
            )),
            other => other.into(),
        })?;
    promotion::promote(
        &state.db,
        &model,
        request.model_version_id,
        &machine,
        "admin (API)",
        &reason,
    )
    .await
    .map_err(|error| match error {
        PromotionError::DoesNotFit(why) => ApiError::unprocessable(why),
        PromotionError::Storage(error) => error.into(),
    })?;
    if let Some(tracking) = &state.tracking {
        tracking::promoted(&state.db, tracking, request.model_version_id);
    }
    let (profile, version) = model_versions::number(state.db.pool(), request.model_version_id)
        .await?
        .unwrap_or_default();
    Ok(Json(json!({
        "machine": machine.name,
        "model_version_id": request.model_version_id,
        "profile": profile,
        "version": version,
    })))
}
