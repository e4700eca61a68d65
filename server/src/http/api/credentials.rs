//! Reading credentials off a request: the admin password and ingest tokens.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use base64::Engine;

use crate::auth::{token_matches, PasswordRefusal};
use crate::db::tokens;
use crate::error::ApiError;
use crate::http::AppState;

/// The `Authorization` header's credentials.
enum Presented<'a> {
    Bearer(&'a str),
    Basic { password: String },
}

/// The credentials, when the request carries exactly one `Authorization` header: with two, a
/// check that reads one and a proxy or log that reads the other could disagree.
fn presented(headers: &HeaderMap) -> Option<Presented<'_>> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Presented::Bearer(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return Some(Presented::Basic {
            password: password.to_string(),
        });
    }
    None
}

/// Refuses unless the request carries the admin password (HTTP Basic, any user name, or
/// `Bearer <password>`), checked under the same per-address limit as the sign-in form.
pub async fn require_admin(
    state: &AppState,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<(), ApiError> {
    if !state.admin.is_enabled() {
        return Err(ApiError::Forbidden(PasswordRefusal::Disabled.to_string()));
    }
    let password = match presented(headers) {
        Some(Presented::Basic { password }) => password,
        Some(Presented::Bearer(password)) => password.to_string(),
        None => {
            return Err(ApiError::Unauthorized(
                "admin credential missing: send HTTP Basic auth with the admin password".into(),
            ))
        }
    };
    state
        .admin
        .check(&password, client, "admin API")
        .await
        .map_err(|refusal| match refusal {
            PasswordRefusal::Disabled | PasswordRefusal::UserDisabled => {
                ApiError::Forbidden(refusal.to_string())
            }
            PasswordRefusal::Wrong => ApiError::Unauthorized(refusal.to_string()),
            PasswordRefusal::TooManyAttempts(wait) => ApiError::TooManyRequests {
                message: refusal.to_string(),
                retry_after: wait,
            },
            PasswordRefusal::Storage(error) => ApiError::from(error),
        })
}

/// Refuses unless the request carries the global ingest token or one of the machine's.
pub async fn require_ingest_token(
    state: &AppState,
    headers: &HeaderMap,
    machine_id: i64,
) -> Result<(), ApiError> {
    let Some(Presented::Bearer(token)) = presented(headers) else {
        return Err(ApiError::Unauthorized(
            "ingest token missing: send Authorization: Bearer <token>".into(),
        ));
    };
    if state
        .ingest_token
        .as_ref()
        .is_some_and(|configured| token_matches(token, configured))
    {
        return Ok(());
    }
    if tokens::is_valid(state.db.pool(), machine_id, token).await? {
        return Ok(());
    }
    Err(ApiError::Unauthorized(
        "the ingest token is not valid for this machine".into(),
    ))
}
