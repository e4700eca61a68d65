//! `POST /machines/{name}/maintenance` (engineers and admins): what was done to the machine,
//! from the short form on its page. A repair or a replacement labels its readings for the next
//! training run (`db::maintenance`); the page says how many.

use app::model::Role;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::guard::{form_of, with_query, FormRejection};
use crate::db::machines;
use crate::db::maintenance::{self, Kind, NewRecord, RecordError};
use crate::domain::time::parse_rfc3339;
use crate::http::AppState;
use ml::dataset::AI4I_MODES;

const NOTE_CHARACTERS: usize = 500;

#[derive(Debug, serde::Deserialize)]
pub struct MaintenanceForm {
    csrf: Option<String>,
    #[serde(default)]
    kind: String,
    /// Empty: none or not known.
    #[serde(default)]
    failure_mode: String,
    /// `YYYY-MM-DDTHH:MM` in UTC, as a `datetime-local` field sends it.
    #[serde(default)]
    done_at: String,
    #[serde(default)]
    note: String,
    /// Empty: the work answers no alarm.
    #[serde(default)]
    alarm: String,
}

pub async fn record(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<MaintenanceForm>,
) -> Result<Response, FormRejection> {
    let engineer = form_of(&state, &headers, form.csrf.as_deref(), Role::Engineer).await?;
    let page = format!("/machines/{name}");
    let invalid = |message: String| FormRejection::invalid(page.clone(), message);
    let machine = machines::find(state.db.pool(), &name)
        .await?
        .ok_or_else(|| invalid(format!("machine: there is no machine named {name:?}")))?;
    let kind = Kind::parse(&form.kind).ok_or_else(|| {
        invalid(format!(
            "kind: {:?} is not inspection, part_replaced, repair or false_alarm",
            form.kind
        ))
    })?;
    let failure_mode = match form.failure_mode.trim() {
        "" => None,
        mode if AI4I_MODES.iter().any(|m| m.eq_ignore_ascii_case(mode)) => {
            Some(mode.to_uppercase())
        }
        other => {
            return Err(invalid(format!(
                "failure_mode: {other:?} is not one of {}",
                AI4I_MODES.join(", ").to_uppercase()
            )))
        }
    };
    let done_at = parse_rfc3339(&format!("{}:00Z", form.done_at.trim())).ok_or_else(|| {
        invalid(format!(
            "when: {:?} is not a date and time such as 2026-12-01T14:30 (UTC)",
            form.done_at
        ))
    })?;
    let note = form.note.trim();
    if note.chars().count() > NOTE_CHARACTERS {
        return Err(invalid(format!(
            "note: at most {NOTE_CHARACTERS} characters"
        )));
    }
    let alarm_id = match form.alarm.trim() {
        "" => None,
        id => Some(
            id.parse::<i64>()
                .map_err(|_| invalid(format!("alarm: {id:?} is not an alarm number")))?,
        ),
    };
    let labelled = maintenance::record(
        state.db.pool(),
        &NewRecord {
            machine_id: machine.id,
            kind,
            failure_mode: failure_mode.as_deref(),
            done_at,
            note: (!note.is_empty()).then_some(note),
            alarm_id,
            by: &engineer.user,
        },
        state.announce_alarms,
    )
    .await
    .map_err(|error| match error {
        RecordError::Storage(error) => FormRejection::Internal(error),
        refused => invalid(refused.to_string()),
    })?;
    tracing::info!(machine = %name, user = %engineer.user, kind = kind.as_str(), labelled, "maintenance recorded");
    let done = if kind.ends_a_run() {
        format!(
            "Recorded; {labelled} readings are now labelled for training, the last one before \
             the work as the failure."
        )
    } else {
        "Recorded.".to_string()
    };
    Ok(Redirect::to(&with_query(&page, "done", &done)).into_response())
}
