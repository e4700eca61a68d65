//! Who may look (`ICANTKUBE_VIEWING`): everyone, the embedded default, or signed-in users only,
//! as the Kubernetes deployment sets it. With sign-in required, a page sends the visitor to
//! `/login` and back afterwards, and the read-only API and the pages' server functions answer
//! 401 (the API also takes the bootstrap admin's password, as its writes do). The sign-in page,
//! the probes, the site's files, and whatever checks a credential of its own (the forms, the
//! ingest API, the admin API) are left to themselves.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::api::credentials;
use super::client::Client;
use super::forms::with_query;
use super::AppState;
use crate::configuration::Viewing;
use crate::error::ApiError;

/// Lets the request through when viewing is open, the path needs no sign-in, or the caller is
/// signed in; otherwise refuses it as a page or an API call.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.viewing == Viewing::Open || left_alone(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    match state.sessions.current(request.headers()).await {
        Ok(Some(_)) => return next.run(request).await,
        Ok(None) => {}
        Err(error) => return ApiError::from(error).into_response(),
    }
    let path = request.uri().path();
    if path.starts_with("/api/") {
        let client = request.extensions().get::<Client>().map(|c| c.address);
        let answer = match client {
            Some(address) => credentials::require_admin(&state, request.headers(), address).await,
            None => Err(ApiError::Unauthorized("sign in to view".into())),
        };
        return match answer {
            Ok(()) => next.run(request).await,
            Err(ApiError::Unauthorized(_)) => sign_in_to_view(),
            Err(refused) => refused.into_response(),
        };
    }
    if path.starts_with("/_fn/") {
        return sign_in_to_view();
    }
    let next_page = request
        .uri()
        .path_and_query()
        .map_or(path, |whole| whole.as_str());
    Redirect::to(&with_query("/login", "next", next_page)).into_response()
}

/// What needs no sign-in to look at: the sign-in page and what it loads, the probes, the
/// site's files, and every request that is not a look (the handlers check their own
/// credential).
fn left_alone(method: &Method, path: &str) -> bool {
    let looks = method == Method::GET
        || method == Method::HEAD
        || (method == Method::POST && path.starts_with("/_fn/"));
    if !looks {
        return true;
    }
    let one_segment_with_a_dot = path.len() > 1 && !path[1..].contains('/') && path.contains('.');
    matches!(path, "/login" | "/healthz" | "/readyz")
        || path.starts_with("/pkg/")
        || path.starts_with("/_fn/get_viewer")
        || one_segment_with_a_dot
}

fn sign_in_to_view() -> Response {
    let mut response = ApiError::Unauthorized(
        "sign in to view: this server shows its pages and data to signed-in users only".into(),
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"icantkube\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_page_its_files_probes_and_writes_are_left_alone() {
        for path in [
            "/login",
            "/healthz",
            "/readyz",
            "/pkg/icantkube.abc.wasm",
            "/favicon.svg",
            "/manifest.webmanifest",
            "/_fn/get_viewer123",
        ] {
            assert!(left_alone(&Method::GET, path), "{path}");
        }
        assert!(left_alone(&Method::POST, "/login"));
        assert!(left_alone(
            &Method::POST,
            "/api/v1/machines/mill-1/readings"
        ));
        assert!(left_alone(&Method::PUT, "/api/v1/machines/mill-1/model"));
    }

    #[test]
    fn pages_the_read_api_and_server_functions_are_gated() {
        for path in [
            "/",
            "/machines/mill.1",
            "/users",
            "/api/v1/machines",
            "/models",
        ] {
            assert!(!left_alone(&Method::GET, path), "{path}");
        }
        assert!(!left_alone(&Method::HEAD, "/training"));
        assert!(!left_alone(&Method::POST, "/_fn/get_fleet123"));
    }
}
