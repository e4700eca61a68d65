//! Conditional GETs of the pages the Live switch refreshes: the fleet and a machine. The ETag
//! is a digest of the data the page shows, read with a few indexed queries, so an unchanged
//! page answers 304 without being rendered: a thousand open phones refreshing every 10 s cost
//! a thousand small queries, not a thousand renders.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use app::model::FleetQuery;
use axum::extract::{Query, Request, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::time::now_ms;
use crate::pages::StoredFleet;

/// Relative times on the pages ("12 s ago") are kept roughly true: an unchanged page is
/// rendered again at least this often.
const RELATIVE_TIMES_MS: i64 = 60_000;

/// Middleware: 304 when the page's data is unchanged since the ETag the client holds; an
/// ETag on every page it versions.
pub async fn not_modified(
    State(fleet): State<Arc<StoredFleet>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    // The URI alone crosses the await: a request's body is not `Sync`.
    let uri = request.uri().clone();
    let Some(data) = data_version(&fleet, &uri).await else {
        return next.run(request).await;
    };
    let etag = etag(data, request.headers());
    let held = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let mut response = if held {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        next.run(request).await
    };
    if matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(ETAG, value);
        }
        // Each viewer's own (the header shows who is signed in), checked on every use.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    }
    response
}

/// The digest of the data of the page asked for; `None` for a page not versioned, or one that
/// will answer an error (a bad filter, an unknown machine), which the page itself explains.
async fn data_version(fleet: &StoredFleet, uri: &Uri) -> Option<u64> {
    let path = uri.path();
    if path == "/" {
        let Query(query) = Query::<FleetQuery>::try_from_uri(uri).ok()?;
        return fleet.fleet_version(&query.without_empty()).await.ok();
    }
    let name = path.strip_prefix("/machines/")?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    fleet.machine_version(name).await.ok().flatten()
}

/// A weak ETag of the data, the viewer (the cookies say who it is) and the minute, so that
/// signing in or out and relative times are never served stale.
fn etag(data: u64, headers: &HeaderMap) -> String {
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    headers
        .get_all(COOKIE)
        .iter()
        .for_each(|cookie| cookie.as_bytes().hash(&mut hasher));
    (now_ms() / RELATIVE_TIMES_MS).hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_changes_with_the_data_and_the_viewer() {
        let mut signed_in = HeaderMap::new();
        signed_in.insert(COOKIE, HeaderValue::from_static("icantkube_session=abc"));
        let anonymous = HeaderMap::new();
        let tag = etag(1, &anonymous);
        assert!(tag.starts_with("W/\"") && tag.ends_with('"'), "{tag}");
        assert_ne!(etag(1, &anonymous), etag(2, &anonymous));
        assert_ne!(etag(1, &anonymous), etag(1, &signed_in));
    }
}
