//! `POST /api/v1/machines/{machine}/readings`: machines and gateways send readings.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{json, Value};

use super::credentials::require_ingest_token;
use super::machines::find;
use crate::domain::time::{now_ms, to_rfc3339};
use crate::error::{body_stalled, ApiError};
use crate::http::AppState;
use crate::ingest::BodyFormat;

/// Stores a batch (one JSON reading, a JSON array, or CSV) whole or not at all, scoring each
/// new reading with the machine's active model. Answers 201 with the count stored and the
/// newest reading's prediction, or 200 when every reading was a retried duplicate; a refusal
/// is counted by its reason. The body is read only once the machine and its token are known,
/// so an anonymous client cannot make the server hold its bytes.
pub async fn post(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let answer = ingest_batch(&state, &name, &headers, body).await;
    if let Err(error) = &answer {
        state.metrics.record_rejected(error);
    }
    answer
}

async fn ingest_batch(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let machine = find(state, name).await?;
    require_ingest_token(state, headers, machine.id).await?;
    // Two types, and a proxy that reads one and this handler the other disagree on the body.
    let mut content_types = headers.get_all(header::CONTENT_TYPE).iter();
    let content_type = content_types.next();
    if content_types.next().is_some() {
        return Err(ApiError::UnsupportedMediaType(
            "Content-Type is given twice: send one, application/json or text/csv".into(),
        ));
    }
    let format = BodyFormat::from_content_type(content_type)?;
    let body = read_body(body, headers, state.max_body_bytes).await?;
    let batch = format.parse(&body, &machine, now_ms(), state.max_batch_readings)?;
    let ingested = state.ingest.store(&machine, batch).await?;
    let stored = ingested.batch;
    let status = if stored.stored > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut answer = json!({
        "machine": machine.name,
        "stored": stored.stored,
        "duplicates": stored.duplicates,
        "scored": ingested.scored,
        "latest_reading_at": to_rfc3339(stored.latest_at),
    });
    if let Some(latest) = ingested.latest {
        let mut prediction = serde_json::to_value(&latest).expect("a prediction serialises");
        prediction["recorded_at"] = json!(to_rfc3339(latest.recorded_at));
        answer["prediction"] = prediction;
    }
    Ok((status, Json(answer)))
}

/// The whole body, refused as soon as it is over `limit`: by its declared length before a byte
/// is read, or while it streams in.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "the body is larger than {limit} bytes: send smaller batches"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(error) if body_stalled(error.as_ref()) => Err(ApiError::RequestTimeout(
            "the body stalled: send it without pauses".into(),
        )),
        Err(error) => Err(ApiError::BadRequest(format!(
            "the body could not be read: {error}"
        ))),
    }
}
