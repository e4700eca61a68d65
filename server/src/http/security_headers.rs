//! Headers every answer carries so browsers limit what a page can do. Scripts, styles, images
//! and requests only from this site: inline scripts and styles stay allowed because Leptos
//! starts the islands with an inline module script and the SVG charts carry inline styles, and
//! `wasm-unsafe-eval` lets the islands' WebAssembly compile. No framing, no content sniffing,
//! no full referrers to other sites, and HSTS when the request came over TLS.

use axum::extract::Request;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::client::Client;

const POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Middleware: adds the headers to every answer of the router it wraps.
pub async fn add(request: Request, next: Next) -> Response {
    let over_tls = request
        .extensions()
        .get::<Client>()
        .is_some_and(|client| client.over_tls);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if over_tls {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}
