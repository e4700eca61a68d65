//! What every form goes through: a signed-in session with the role the form needs, and the
//! session's CSRF token.
//! Refusals answer with a short HTML page (people submit these forms, not programs); a form
//! that is valid to send but wrong in content goes back to its page with the error named.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use app::model::Role;

use crate::auth::sessions::Session;
use crate::error::{cause_chain, Error};
use crate::http::AppState;

/// Why a form was not carried out.
#[derive(Debug)]
pub enum FormRejection {
    /// No (valid) session.
    NotSignedIn,
    /// Signed in, with a role below the one the form needs.
    NotAllowed(Role),
    /// Signed in, but the form's CSRF token is missing or not this session's.
    BadCsrfToken,
    /// The form's content is wrong: back to `page` with the message.
    Invalid {
        page: String,
        message: String,
    },
    Internal(Error),
}

impl FormRejection {
    pub fn invalid(page: impl Into<String>, message: impl Into<String>) -> FormRejection {
        FormRejection::Invalid {
            page: page.into(),
            message: message.into(),
        }
    }
}

impl From<Error> for FormRejection {
    fn from(error: Error) -> Self {
        FormRejection::Internal(error)
    }
}

impl IntoResponse for FormRejection {
    fn into_response(self) -> Response {
        match self {
            FormRejection::NotSignedIn => refusal(
                StatusCode::UNAUTHORIZED,
                "Sign in first",
                "This action needs a signed-in user. <a href=\"/login\">Sign in</a>, then try \
                 again.",
            ),
            FormRejection::NotAllowed(role) => refusal(
                StatusCode::FORBIDDEN,
                "Not allowed",
                &format!(
                    "This action needs the {} role. An admin can change your role on the users \
                     page.",
                    role.as_str()
                ),
            ),
            FormRejection::BadCsrfToken => refusal(
                StatusCode::FORBIDDEN,
                "The form has expired",
                "The form was not sent from this session's page (its security token is missing \
                 or old). Go back, reload the page and send it again.",
            ),
            FormRejection::Invalid { page, message } => {
                Redirect::to(&with_query(&page, "error", &message)).into_response()
            }
            FormRejection::Internal(error) => {
                if let Some(fault) = error.storage_fault() {
                    tracing::warn!(error = %cause_chain(&error), "storage {fault}: form refused");
                    let wait = fault.retry_after().as_secs();
                    let mut page = refusal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Try again in a moment",
                        &format!(
                            "The server cannot store this now (storage {fault}); nothing was \
                             changed. Go back and send the form again in {wait} s."
                        ),
                    );
                    page.headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
                    return page;
                }
                tracing::error!(error = %cause_chain(&error), "a form failed");
                refusal(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not carry out the form; the details are in its log.",
                )
            }
        }
    }
}

/// The admin session behind a form, whose `csrf` field must be the session's token.
pub async fn admin_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<Session, FormRejection> {
    form_of(state, headers, csrf, Role::Admin).await
}

/// The session behind a form of someone with at least `role`, whose `csrf` field must be the
/// session's token.
pub async fn form_of(
    state: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
    role: Role,
) -> Result<Session, FormRejection> {
    let session = signed_in(state, headers, role).await?;
    if session.accepts(csrf.unwrap_or_default()) {
        Ok(session)
    } else {
        Err(FormRejection::BadCsrfToken)
    }
}

/// The session of someone with at least `role`, without a CSRF check yet (a multipart form
/// sends its token as a field that is read from the stream).
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<Session, FormRejection> {
    let session = state
        .sessions
        .current(headers)
        .await?
        .ok_or(FormRejection::NotSignedIn)?;
    if session.role >= role {
        Ok(session)
    } else {
        Err(FormRejection::NotAllowed(role))
    }
}

/// `path` with `name=value` appended to its query.
pub fn with_query(path: &str, name: &str, value: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{name}={}", encode(value))
}

/// Percent-encoding for a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

pub fn refusal(status: StatusCode, title: &str, body_html: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{title}: icantkube did not do what was asked.\">\
         <title>{title} · icantkube</title><link rel=\"stylesheet\" href=\"/pkg/icantkube.css\">\
         </head><body><main class=\"page\"><h1>{title}</h1><p>{body_html}</p>\
         <p><a class=\"button\" href=\"/\">Back to the fleet</a></p></main></body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_and_appended() {
        assert_eq!(
            with_query("/login", "error", "wrong password & more"),
            "/login?error=wrong%20password%20%26%20more"
        );
        assert_eq!(with_query("/a?x=1", "y", "é"), "/a?x=1&y=%C3%A9");
    }
}
