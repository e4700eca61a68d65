//! Errors: one typed error for everything behind the HTTP edge, and `ApiError`, the one place
//! that turns errors into HTTP answers.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::db::StorageFault;
use crate::domain::{BatchError, FieldError};

/// What can fail behind the pages and the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A row that does not decode (a JSON column that no longer parses, say).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The thing to create exists already.
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The storage fault behind the error, when waiting can fix it (503, not 500).
    pub fn storage_fault(&self) -> Option<StorageFault> {
        match self {
            Error::Database(error) => StorageFault::of(error),
            _ => None,
        }
    }

    /// Short label for logs and metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Database(_) => "database",
            Error::Corrupt(_) => "corrupt",
            Error::Conflict(_) => "conflict",
            Error::NotFound(_) => "not_found",
        }
    }
}

/// An HTTP answer for a refused or failed request. Caller errors carry a message naming what
/// is wrong; internal errors answer an opaque 500 and are logged with their cause chain.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Right credentials, but the action is switched off.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body stalled longer than the body timeout.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts from this client; it may try again after `retry_after`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    /// The storage cannot take the request now (busy, full, read-only); nothing changed.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after: std::time::Duration,
    },
    /// Well-formed input that does not fit: each problem names its row and field.
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: Vec<FieldError>,
        total: usize,
    },
    #[error("internal error")]
    Internal(#[source] Error),
}

impl ApiError {
    /// One problem with a well-formed request that is not tied to a reading.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::Unprocessable {
            message: message.into(),
            details: Vec::new(),
            total: 1,
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Conflict(message) => ApiError::Conflict(message),
            Error::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            Error::Database(error) => match StorageFault::of(&error) {
                Some(fault) => {
                    tracing::warn!(%error, "storage {fault}: request refused");
                    ApiError::Unavailable {
                        message: format!(
                            "storage {fault}: nothing was changed; try again in {} s",
                            fault.retry_after().as_secs()
                        ),
                        retry_after: fault.retry_after(),
                    }
                }
                None => ApiError::Internal(Error::Database(error)),
            },
            other => ApiError::Internal(other),
        }
    }
}

impl From<BatchError> for ApiError {
    fn from(error: BatchError) -> Self {
        let message = error.to_string();
        match error {
            BatchError::Malformed(_) => ApiError::BadRequest(message),
            BatchError::TooMany { .. } => ApiError::PayloadTooLarge(message),
            BatchError::Empty => ApiError::Unprocessable {
                message,
                details: Vec::new(),
                total: 1,
            },
            BatchError::Invalid { errors, total } => ApiError::Unprocessable {
                message,
                details: errors,
                total,
            },
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Whether reading a request body failed because it stalled past the body timeout.
pub fn body_stalled(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The error and every cause under it, for the log.
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::Internal(error) => {
                tracing::error!(
                    cause_chain = %cause_chain(error),
                    kind = error.metric_label(),
                    "request failed"
                );
                json!({ "error": "internal error; the server log has the details" })
            }
            ApiError::Unprocessable {
                message,
                details,
                total,
            } => json!({ "error": message, "details": details, "problems": total }),
            other => json!({ "error": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after, .. }
        | ApiError::Unavailable { retry_after, .. } = &self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after.as_secs().max(1)),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"icantkube\""),
            );
        }
        response
    }
}
