//! Headers every answer carries so browsers limit what a page can do. Scripts, styles, images
//! and requests only from this site. The page's inline scripts (the start of the islands,
//! `app/src/components/island_scripts.rs`, and Leptos' resource data) run because they carry
//! the page's nonce, which the page's policy names; no other inline script does. Inline styles stay allowed (the SVG charts carry style attributes, which a nonce
//! cannot cover), and `wasm-unsafe-eval` lets the islands' WebAssembly compile. No framing, no
//! content sniffing, no full referrers to other sites, and HSTS when the request came over TLS.
//! The site's own files (script, WebAssembly, stylesheet, icons) carry only `nosniff` and
//! HSTS: a policy, framing or referrer header on them does nothing, and over HTTP/1.1 those
//! headers were about 2 KB of a page's first load.

use axum::extract::Request;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::assets::SiteFile;
use super::client::Client;

/// The policy, with the script sources it allows.
fn policy(scripts: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {scripts}'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// In a page's rendering context: the policy that lets the scripts carrying this response's
/// nonce run. Answers without it (API, files, errors) get the policy with no inline script.
pub fn allow_this_page_scripts() {
    if let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) {
        let policy = policy(&format!("'nonce-{nonce}' "));
        response.insert_header(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&policy).expect("a nonce is base64"),
        );
    }
}

/// Middleware: adds the headers to every answer of the router it wraps.
pub async fn add(request: Request, next: Next) -> Response {
    let over_tls = request
        .extensions()
        .get::<Client>()
        .is_some_and(|client| client.over_tls);
    let mut response = next.run(request).await;
    let site_file = response.extensions().get::<SiteFile>().is_some();
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !site_file {
        if !headers.contains_key(CONTENT_SECURITY_POLICY) {
            let policy = policy("");
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&policy).expect("the policy is ASCII"),
            );
        }
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    if over_tls {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}
