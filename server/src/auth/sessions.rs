//! Admin sign-in for the web pages: a session cookie and a CSRF token per session; the
//! password itself is checked, under its limit, by `password_checks`.
//!
//! Sessions are rows in the database (only a digest of the cookie is stored), so every replica
//! recognises a sign-in and a sign-out ends it everywhere.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use rand::RngCore;

use crate::auth::credentials::equal_in_constant_time;
use crate::auth::password_checks::{PasswordChecks, PasswordRefusal};
use crate::auth::token_digest;
use crate::db::{admin_sessions, Database};
use crate::domain::time::now_ms;
use crate::error::Result;

/// The cookie that carries the session.
pub const COOKIE: &str = "icantkube_session";
/// How long a sign-in lasts.
const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A signed-in admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    id_sha256: String,
    /// Every form and mutating request of this session must carry it.
    pub csrf_token: String,
}

impl AdminSession {
    /// Whether a form's token is this session's (compared in constant time).
    pub fn accepts(&self, presented: &str) -> bool {
        !presented.is_empty() && equal_in_constant_time(presented, &self.csrf_token)
    }
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("admin sign-in is disabled: start icantkube with ICANTKUBE_ADMIN_PASSWORD or ICANTKUBE_ADMIN_PASSWORD_HASH")]
    Disabled,
    #[error("wrong password")]
    WrongPassword,
    #[error("too many wrong passwords: try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    #[error(transparent)]
    Storage(#[from] crate::error::Error),
}

/// Sessions and the sign-in that creates them.
#[derive(Clone)]
pub struct Sessions {
    db: Database,
    password: Arc<PasswordChecks>,
}

impl Sessions {
    pub fn new(db: Database, password: Arc<PasswordChecks>) -> Sessions {
        Sessions { db, password }
    }

    /// Checks the password (counted against the client's address, which is refused when over
    /// the limit) and opens a session; answers the cookie's value.
    pub async fn sign_in(&self, password: &str, client: IpAddr) -> Result<String, SignInError> {
        self.password
            .check(password, client, "sign-in form")
            .await
            .map_err(|refusal| match refusal {
                PasswordRefusal::Disabled => SignInError::Disabled,
                PasswordRefusal::Wrong => SignInError::WrongPassword,
                PasswordRefusal::TooManyAttempts(wait) => SignInError::TooManyAttempts(wait),
                PasswordRefusal::Storage(error) => SignInError::Storage(error),
            })?;
        let cookie = random_token();
        let expires_at = now_ms() + LIFETIME.as_millis() as i64;
        admin_sessions::insert(
            self.db.pool(),
            &self
                .digest(&cookie)
                .expect("a password was accepted, so the credential is enabled"),
            &random_token(),
            expires_at,
        )
        .await?;
        Ok(cookie)
    }

    /// The session the request's cookie names, if it is still valid.
    pub async fn current(&self, headers: &HeaderMap) -> Result<Option<AdminSession>> {
        let Some(cookie) = session_cookie(headers) else {
            return Ok(None);
        };
        // A session opened under another credential, or with admin disabled, finds no row.
        let Some(id_sha256) = self.digest(cookie) else {
            return Ok(None);
        };
        Ok(admin_sessions::csrf_token(self.db.pool(), &id_sha256)
            .await?
            .map(|csrf_token| AdminSession {
                id_sha256,
                csrf_token,
            }))
    }

    /// What a session is stored under: the cookie bound to the admin credential, so changing
    /// the password (or turning admin off) ends every session opened with the old one.
    fn digest(&self, cookie: &str) -> Option<String> {
        let credential = self.password.fingerprint()?;
        Some(token_digest(&format!("{cookie}:{credential}")))
    }

    pub async fn sign_out(&self, session: &AdminSession) -> Result<()> {
        admin_sessions::delete(self.db.pool(), &session.id_sha256).await
    }
}

/// The `Set-Cookie` value that stores a session, or clears it when `value` is empty.
/// `Secure` when the client reached the site over HTTPS (see `http::client`).
pub fn set_cookie(value: &str, secure: bool) -> String {
    let max_age = if value.is_empty() {
        0
    } else {
        LIFETIME.as_secs()
    };
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// 32 random bytes, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; icantkube_session=abc123; other=1"
                .parse()
                .unwrap(),
        );
        assert_eq!(session_cookie(&headers), Some("abc123"));
        headers.insert(header::COOKIE, "icantkube_session=".parse().unwrap());
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_tls() {
        let cookie = set_cookie("abc", true);
        for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!set_cookie("abc", false).contains("Secure"));
        assert!(set_cookie("", false).contains("Max-Age=0"));
    }

    #[test]
    fn a_csrf_token_must_match_exactly() {
        let session = AdminSession {
            id_sha256: "x".into(),
            csrf_token: "token".into(),
        };
        assert!(session.accepts("token"));
        assert!(!session.accepts("toke"));
        assert!(!session.accepts(""));
    }
}
