//! Request bodies come plain or `chunked`, nothing else. hyper checks only that `chunked` is the
//! last coding and hands the bytes on still encoded, so a body sent as `gzip, chunked` would be
//! read as if it were plain: a proxy that decodes it and this server would disagree on what was
//! sent. RFC 9112 lets a server refuse a coding it does not apply.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Middleware: 400 for a request whose `Transfer-Encoding` is anything but `chunked`.
pub async fn only_chunked(request: Request, next: Next) -> Response {
    let codings: Vec<String> = request
        .headers()
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(|coding| coding.trim().to_ascii_lowercase())
        .collect();
    if codings.is_empty() || codings == ["chunked"] {
        return next.run(request).await;
    }
    let message = format!(
        "Transfer-Encoding {} is not accepted: send the body as it is, or chunked",
        codings.join(", ")
    );
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}
