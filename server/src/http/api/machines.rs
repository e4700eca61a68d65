//! `/api/v1/machines`: machines as JSON for integrations, and their registration by admins.

use std::collections::BTreeMap;

use app::model::{Sensor, Status};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::credentials::require_admin;
use crate::auth::new_ingest_token;
use crate::db::machines::{self, Machine, NewMachine};
use crate::db::tokens;
use crate::domain::profiles::{Profile, Variant};
use crate::domain::time::to_rfc3339;
use crate::domain::{MachineName, SensorSchema};
use crate::error::ApiError;
use crate::http::client::Client;
use crate::http::AppState;

/// A machine as the API shows it.
#[derive(Debug, Serialize)]
pub struct MachineJson {
    name: String,
    display_name: String,
    profile: String,
    attributes: BTreeMap<String, String>,
    /// Where it stands: a hall, a line, a site.
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    sensors: Vec<Sensor>,
    monitoring: bool,
    status: Status,
    failure_probability: Option<f64>,
    /// The likely failure mode and its probability given a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode_probability: Option<f64>,
    /// Remaining life with its 90 % interval, in `life_unit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_life: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_life_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_life_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    life_unit: Option<String>,
    active_model_version_id: Option<i64>,
    /// RFC 3339, UTC.
    last_reading_at: Option<String>,
    /// The latest reading's values by sensor key.
    latest_values: Option<BTreeMap<String, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reading_count: Option<i64>,
}

impl MachineJson {
    fn new(machine: Machine, reading_count: Option<i64>) -> MachineJson {
        let latest_values = machine.last_values.as_ref().map(|values| {
            machine
                .schema
                .sensors()
                .iter()
                .zip(values)
                .map(|(sensor, value)| (sensor.key.clone(), *value))
                .collect()
        });
        MachineJson {
            name: machine.name,
            display_name: machine.display_name,
            profile: machine.profile,
            attributes: machine.attributes,
            place: machine.place,
            sensors: machine.schema.sensors().to_vec(),
            monitoring: machine.monitoring,
            status: machine.status,
            failure_probability: machine.failure_probability,
            failure_mode: machine.failure_mode,
            mode_probability: machine.mode_probability,
            remaining_life: machine.remaining_life,
            remaining_life_low: machine.remaining_life_low,
            remaining_life_high: machine.remaining_life_high,
            life_unit: machine.life_unit,
            active_model_version_id: machine.active_model_version_id,
            last_reading_at: machine.last_reading_at.map(to_rfc3339),
            latest_values,
            reading_count,
        }
    }
}

/// Machines in one answer when the client gives no `limit`.
const DEFAULT_PAGE: usize = 100;
/// The largest `limit`.
const MAX_PAGE: usize = 1000;

/// The query of `GET /api/v1/machines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<String>,
    after: Option<String>,
}

/// `GET /api/v1/machines?limit=N&after=NAME`: a page of machines by name, as a JSON array. When
/// more follow, a `Link: <...?limit=N&after=LAST>; rel="next"` header says where (RFC 8288).
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<(HeaderMap, Json<Vec<MachineJson>>), ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = match query.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE).contains(limit))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit: expected a whole number from 1 to {MAX_PAGE}, got {text:?}"
                ))
            })?,
    };
    let after = match query.after.as_deref() {
        None => None,
        Some(text) => Some(
            MachineName::parse(text)
                .map_err(|reason| ApiError::BadRequest(format!("after: {reason}")))?,
        ),
    };
    // One more than asked says whether another page follows.
    let mut machines = machines::page(
        state.db.pool(),
        None,
        after.as_ref().map(|n| n.as_ref()),
        limit + 1,
    )
    .await?;
    let mut headers = HeaderMap::new();
    if machines.len() > limit {
        machines.truncate(limit);
        let last = machines.last().expect("a full page").name.as_str();
        let next = format!("</api/v1/machines?limit={limit}&after={last}>; rel=\"next\"");
        headers.insert(
            header::LINK,
            HeaderValue::from_str(&next).expect("machine names are header-safe"),
        );
    }
    let page = machines
        .into_iter()
        .map(|m| MachineJson::new(m, None))
        .collect();
    Ok((headers, Json(page)))
}

/// `GET /api/v1/machines/{machine}`
pub async fn show(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<MachineJson>, ApiError> {
    let machine = find(&state, &name).await?;
    let count = machine.reading_count;
    Ok(Json(MachineJson::new(machine, Some(count))))
}

pub(super) async fn find(state: &AppState, name: &str) -> Result<Machine, ApiError> {
    machines::find(state.db.pool(), name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no machine named {name:?}")))
}

/// Parses a JSON body, naming the line and column of a syntax error.
pub(super) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        );
        if e.is_data() {
            ApiError::unprocessable(message)
        } else {
            ApiError::BadRequest(message)
        }
    })
}

/// The body of `POST /api/v1/machines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMachine {
    name: String,
    display_name: Option<String>,
    /// A built-in profile (`ai4i2020`, `turbofan`) ...
    profile: Option<String>,
    /// ... or an explicit sensor schema.
    sensors: Option<Vec<Sensor>>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    /// Where it stands (a hall, a line, a site): the fleet page filters by it.
    place: Option<String>,
}

impl CreateMachine {
    /// Checks every field, naming the one that is wrong.
    fn validate(self) -> Result<NewMachine, String> {
        let name = MachineName::parse(&self.name).map_err(|e| format!("name: {e}"))?;
        let display_name = self.display_name.unwrap_or_else(|| self.name.clone());
        let display_name = display_name.trim().to_string();
        if display_name.is_empty() || display_name.chars().count() > 80 {
            return Err("display_name: must be 1 to 80 characters".into());
        }
        let (profile, schema) = match (self.profile.as_deref(), self.sensors) {
            (Some(_), Some(_)) => {
                return Err("give either profile or sensors, not both".into());
            }
            (Some(name), None) => {
                let profile = Profile::from_name(name).ok_or_else(|| {
                    format!("profile: unknown profile {name:?}; use ai4i2020 or turbofan, or give sensors")
                })?;
                (profile.name().to_string(), profile.schema())
            }
            (None, Some(sensors)) => ("custom".to_string(), SensorSchema::parse(sensors)?),
            (None, None) => return Err("give a profile or a sensors list".into()),
        };
        if self.attributes.len() > 16 {
            return Err("attributes: at most 16".into());
        }
        for (key, value) in &self.attributes {
            if key.is_empty() || key.len() > 32 || value.chars().count() > 64 {
                return Err(format!(
                    "attributes.{key}: keys take 1 to 32 characters, values at most 64"
                ));
            }
        }
        if profile == Profile::Ai4i2020.name() {
            if let Some(variant) = self.attributes.get("type") {
                if Variant::from_letter(variant).is_none() {
                    return Err(format!(
                        "attributes.type: {variant:?} is not an AI4I quality variant (L, M or H)"
                    ));
                }
            }
        }
        let place = match self.place.as_deref().map(str::trim) {
            None => None,
            Some(place) if (1..=64).contains(&place.chars().count()) => Some(place.to_string()),
            Some(_) => return Err("place: must be 1 to 64 characters".into()),
        };
        Ok(NewMachine {
            name,
            display_name,
            profile,
            attributes: self.attributes,
            place,
            schema,
        })
    }
}

/// `POST /api/v1/machines` (admin): registers a machine.
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<MachineJson>), ApiError> {
    require_admin(&state, &headers, client.address).await?;
    let request: CreateMachine = json_body(&body)?;
    let new = request.validate().map_err(ApiError::unprocessable)?;
    let machine = machines::insert(state.db.pool(), &new).await?;
    tracing::info!(machine = %machine.name, profile = %machine.profile, "machine registered");
    Ok((
        StatusCode::CREATED,
        Json(MachineJson::new(machine, Some(0))),
    ))
}

/// The body of `POST /api/v1/machines/{machine}/tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    label: Option<String>,
}

/// `POST /api/v1/machines/{machine}/tokens` (admin): a new ingest token, shown only here.
pub async fn create_token(
    State(state): State<AppState>,
    client: Client,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&state, &headers, client.address).await?;
    let machine = find(&state, &name).await?;
    let request: CreateToken = if body.is_empty() {
        CreateToken::default()
    } else {
        json_body(&body)?
    };
    let label = request.label.unwrap_or_else(|| "ingest".into());
    if label.chars().count() > 64 {
        return Err(ApiError::unprocessable("label: at most 64 characters"));
    }
    let token = new_ingest_token();
    let id = tokens::insert(state.db.pool(), machine.id, &label, &token).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "machine": machine.name, "id": id, "label": label, "token": token })),
    ))
}

/// `GET /api/v1/machines/{machine}/tokens` (admin): the machine's tokens, without their
/// secrets.
pub async fn list_tokens(
    State(state): State<AppState>,
    client: Client,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &headers, client.address).await?;
    let machine = find(&state, &name).await?;
    let tokens = tokens::list(state.db.pool(), machine.id).await?;
    Ok(Json(json!({ "machine": machine.name, "tokens": tokens })))
}

/// `DELETE /api/v1/machines/{machine}/tokens/{id}` (admin): the token stops working at once,
/// on every replica.
pub async fn revoke_token(
    State(state): State<AppState>,
    client: Client,
    Path((name, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers, client.address).await?;
    let machine = find(&state, &name).await?;
    if !tokens::revoke(state.db.pool(), machine.id, id).await? {
        return Err(ApiError::NotFound(format!(
            "machine {} has no token {id}",
            machine.name
        )));
    }
    tracing::info!(machine = %machine.name, token = id, "ingest token revoked");
    Ok(StatusCode::NO_CONTENT)
}
