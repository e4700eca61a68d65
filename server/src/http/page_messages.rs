//! The `error=` and `notice=` a form's redirect puts in a page's address are shown only when the
//! browser followed that redirect from this site: a link from elsewhere could otherwise make
//! one of our pages say anything ("call this number"). Browsers say where a navigation came
//! from in `Sec-Fetch-Site`; without `same-origin` the messages are dropped by a redirect to the
//! same address without them.

use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// The query parameters that pages show as messages.
const MESSAGES: [&str; 2] = ["error", "notice"];

/// Middleware: redirects a GET carrying a message from anywhere but this site to the same
/// address without it.
pub async fn only_from_this_site(request: Request, next: Next) -> Response {
    let from_this_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"same-origin");
    if request.method() == Method::GET && !from_this_site {
        if let Some(clean) = without_messages(request.uri()) {
            return Redirect::to(&clean).into_response();
        }
    }
    next.run(request).await
}

/// The path and query without the message parameters, or `None` when it has none.
fn without_messages(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    let is_message = |pair: &&str| {
        let name = pair.split('=').next().unwrap_or_default();
        MESSAGES.contains(&name)
    };
    if !query.split('&').any(|pair| is_message(&pair)) {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_message(pair))
        .collect();
    Some(if kept.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(uri: &str) -> Option<String> {
        without_messages(&uri.parse().unwrap())
    }

    #[test]
    fn messages_are_removed_and_everything_else_kept() {
        assert_eq!(clean("/login?error=call%20us"), Some("/login".into()));
        assert_eq!(
            clean("/login?next=%2Fmodels&error=x&notice=y"),
            Some("/login?next=%2Fmodels".into())
        );
        assert_eq!(clean("/models?machine=mill-1"), None);
        assert_eq!(clean("/models"), None);
        // A parameter that merely starts like one is not a message.
        assert_eq!(clean("/models?errors=1"), None);
    }
}
