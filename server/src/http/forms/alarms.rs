//! `POST /alarms/{id}/acknowledge` and `POST /alarms/{id}/clear` (engineers and admins): an
//! engineer takes an open alarm in hand, or clears one, with an optional note; both record who.

use app::model::Role;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::guard::{form_of, with_query, FormRejection};
use crate::db::alarms::{self, Action, ActionError};
use crate::http::AppState;

const PAGE: &str = "/alarms";
const NOTE_CHARACTERS: usize = 500;

#[derive(Debug, serde::Deserialize)]
pub struct AlarmForm {
    csrf: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn acknowledge(
    state: State<AppState>,
    id: Path<i64>,
    headers: HeaderMap,
    form: Form<AlarmForm>,
) -> Result<Response, FormRejection> {
    act(state, id, headers, form, Action::Acknowledge).await
}

pub async fn clear(
    state: State<AppState>,
    id: Path<i64>,
    headers: HeaderMap,
    form: Form<AlarmForm>,
) -> Result<Response, FormRejection> {
    act(state, id, headers, form, Action::Clear).await
}

async fn act(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<AlarmForm>,
    action: Action,
) -> Result<Response, FormRejection> {
    let engineer = form_of(&state, &headers, form.csrf.as_deref(), Role::Engineer).await?;
    let note = form.note.trim();
    if note.chars().count() > NOTE_CHARACTERS {
        return Err(FormRejection::invalid(
            PAGE,
            format!("note: at most {NOTE_CHARACTERS} characters"),
        ));
    }
    alarms::act(
        state.db.pool(),
        id,
        action,
        &engineer.user,
        note,
        state.announce_alarms,
    )
    .await
    .map_err(|error| match error {
        ActionError::Storage(error) => FormRejection::Internal(error),
        refused => FormRejection::invalid(PAGE, refused.to_string()),
    })?;
    let done = match action {
        Action::Acknowledge => format!("Alarm {id} acknowledged by {}.", engineer.user),
        Action::Clear => format!("Alarm {id} cleared by {}.", engineer.user),
    };
    tracing::info!(id, user = %engineer.user, ?action, "alarm acted on");
    Ok(Redirect::to(&with_query(PAGE, "done", &done)).into_response())
}
