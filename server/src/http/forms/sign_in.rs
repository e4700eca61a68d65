//! `POST /login` and `POST /logout`: a user's session for the web pages.

use app::model::Role;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::guard::{form_of, refusal, with_query, FormRejection};
use crate::auth::accounts::BOOTSTRAP_ADMIN;
use crate::auth::sessions::{self, SignInError};
use crate::http::client::Client;
use crate::http::AppState;

#[derive(Debug, Deserialize)]
pub struct SignIn {
    /// Absent from forms older than named users: the bootstrap admin.
    #[serde(default = "bootstrap_admin")]
    user: String,
    password: String,
    /// Where to go once signed in: a path on this site.
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    client: Client,
    Form(form): Form<SignIn>,
) -> Result<Response, FormRejection> {
    let next = local_path(&form.next);
    let user = form.user.trim();
    match state
        .sessions
        .sign_in(user, &form.password, client.address)
        .await
    {
        Ok(cookie) => {
            tracing::info!(client = %client.address, user, "signed in");
            let mut response = Redirect::to(next).into_response();
            let cookie = sessions::set_cookie(&cookie, client.over_tls);
            response.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).expect("the cookie is ASCII"),
            );
            Ok(response)
        }
        Err(SignInError::TooManyAttempts(wait)) => {
            tracing::warn!(client = %client.address, user, "sign-in rate-limited");
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                &format!(
                    "Too many wrong passwords from this address or for this user. Try again in \
                     {} s: \
                     <a href=\"/login\">sign in</a>.",
                    wait.as_secs().max(1)
                ),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            Ok(response)
        }
        Err(SignInError::Storage(error)) => Err(FormRejection::Internal(error)),
        Err(refused) => {
            tracing::warn!(client = %client.address, user, reason = %refused, "sign-in refused");
            let page = with_query("/login", "next", next);
            Err(FormRejection::invalid(page, refused.to_string()))
        }
    }
}

fn bootstrap_admin() -> String {
    BOOTSTRAP_ADMIN.to_string()
}

#[derive(Debug, Deserialize)]
pub struct SignOut {
    csrf: Option<String>,
}

pub async fn sign_out(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Result<Response, FormRejection> {
    let session = form_of(&state, &headers, form.csrf.as_deref(), Role::Viewer).await?;
    state.sessions.sign_out(&session).await?;
    let mut response = Redirect::to("/").into_response();
    let cookie = sessions::set_cookie("", client.over_tls);
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("the cookie is ASCII"),
    );
    Ok(response)
}

/// A path on this site, so the sign-in form cannot send people elsewhere: one leading `/`,
/// then visible ASCII only. Browsers drop tabs and newlines from a URL (`/\t/evil.example`
/// becomes `//evil.example`, another site), and a CR or LF cannot go into a header at all.
fn local_path(next: &str) -> &str {
    let bytes = next.as_bytes();
    let on_this_site = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\');
    if on_this_site {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(local_path("/training/new"), "/training/new");
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
        assert_eq!(local_path("/"), "/");
        assert_eq!(
            local_path("/machines/mill-1?x=%2F"),
            "/machines/mill-1?x=%2F"
        );
    }

    #[test]
    fn whitespace_and_control_characters_in_next_lead_home() {
        // `next=/%09/evil.example`, decoded: browsers drop the tab and go to evil.example.
        assert_eq!(local_path("/\t/evil.example"), "/");
        assert_eq!(local_path("/\n/evil.example"), "/");
        assert_eq!(local_path("/ /evil.example"), "/");
        // CR/LF would break the Location header after the session cookie was set.
        assert_eq!(local_path("/\r\nSet-Cookie: x=1"), "/");
        assert_eq!(local_path("/caf\u{e9}"), "/");
    }
}
