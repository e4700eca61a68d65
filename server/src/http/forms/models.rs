//! `POST /models/{id}/promote` (admin form): promote a version on one machine or on every
//! machine of its profile; rolling back is promoting the version a machine had before.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::guard::{admin_form, with_query, FormRejection};
use crate::db::{machines, model_versions};
use crate::error::Error;
use crate::http::AppState;
use crate::training::promotion::{self, PromotionError};
use crate::training::tracking;

const PAGE: &str = "/models";

#[derive(Debug, serde::Deserialize)]
pub struct Promote {
    csrf: Option<String>,
    /// One machine's name; empty for every machine of the version's profile.
    #[serde(default)]
    machine: String,
    #[serde(default)]
    reason: String,
}

pub async fn promote(
    State(state): State<AppState>,
    Path(version_id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Promote>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    let reason = form.reason.trim();
    if reason.chars().count() > 200 {
        return Err(FormRejection::invalid(
            PAGE,
            "reason: at most 200 characters",
        ));
    }
    let pool = state.db.pool();
    let (profile, version) = model_versions::number(pool, version_id)
        .await?
        .ok_or_else(|| {
            FormRejection::invalid(PAGE, format!("model version {version_id} does not exist"))
        })?;
    let model = state
        .models
        .get(version_id)
        .await
        .map_err(|error| match error {
            Error::NotFound(_) => FormRejection::invalid(PAGE, "that model version does not exist"),
            Error::Corrupt(why) => FormRejection::invalid(PAGE, format!("not promoted: {why}")),
            other => FormRejection::Internal(other),
        })?;
    let targets: Vec<_> = machines::list(pool)
        .await?
        .into_iter()
        .filter(|m| m.profile == profile)
        .filter(|m| form.machine.is_empty() || m.name == form.machine)
        .collect();
    if targets.is_empty() {
        return Err(FormRejection::invalid(
            PAGE,
            format!("machine: no {profile} machine called {:?}", form.machine),
        ));
    }
    // Check every machine first, so a refusal changes nothing anywhere.
    for machine in &targets {
        model
            .bind(&machine.name, &machine.schema.keys(), &machine.attributes)
            .map_err(|e| FormRejection::invalid(PAGE, format!("not promoted: {e}")))?;
    }
    for machine in &targets {
        promotion::promote(&state.db, &model, version_id, machine, &admin.user, reason)
            .await
            .map_err(|error| match error {
                PromotionError::DoesNotFit(why) => FormRejection::invalid(PAGE, why),
                PromotionError::Storage(error) => FormRejection::Internal(error),
            })?;
    }
    if let Some(tracking) = &state.tracking {
        tracking::promoted(&state.db, tracking, version_id);
    }
    let names: Vec<&str> = targets.iter().map(|m| m.name.as_str()).collect();
    let notice = format!("{profile} v{version} is now active on {}", names.join(", "));
    Ok(Redirect::to(&with_query(PAGE, "notice", &notice)).into_response())
}
