//! Server functions answer every error with 500, whoever caused it. This gives the client's
//! mistakes their 4xx, read from the error the function returned (the same `AppError` the page
//! receives, `AppError::status`): not found 404, a bad request or arguments that do not decode
//! 400, sign-in required 401.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use app::error::AppError;

/// Server functions' path prefix (`#[server(prefix = "/_fn")]` in `app`).
const PREFIX: &str = "/_fn/";
/// An error body is a short JSON value; anything longer is left as it is.
const LARGEST_ERROR: usize = 64 * 1024;

/// Middleware: the status a server function's error deserves.
pub async fn by_error(request: Request, next: Next) -> Response {
    let server_fn = request.uri().path().starts_with(PREFIX);
    let response = next.run(request).await;
    if !server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, LARGEST_ERROR).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}
