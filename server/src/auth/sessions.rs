//! Sign-in for the web pages: a session cookie and a CSRF token per session, for the bootstrap
//! admin or a named user; the password itself is checked, under its limit, by
//! `password_checks`.
//!
//! Sessions are rows in the database (only a digest of the cookie is stored), so every replica
//! recognises a sign-in and a sign-out ends it everywhere. A user's role is read with the
//! session on every request, so a change of role or a disabled user takes effect at once.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use app::model::Role;
use axum::http::{header, HeaderMap};
use rand::RngCore;

use crate::auth::accounts::BOOTSTRAP_ADMIN;
use crate::auth::credentials::equal_in_constant_time;
use crate::auth::password_checks::{PasswordChecks, PasswordRefusal};
use crate::auth::token_digest;
use crate::db::admin_sessions::{self, StoredSession};
use crate::db::Database;
use crate::domain::time::now_ms;
use crate::error::{Error, Result};

/// The cookie that carries the session.
pub const COOKIE: &str = "icantkube_session";
/// How long a sign-in lasts.
const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A signed-in user: the bootstrap admin or a named user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    id_sha256: String,
    pub user: String,
    pub role: Role,
    /// Every form and mutating request of this session must carry it.
    pub csrf_token: String,
}

impl Session {
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
    #[error("wrong user name or password")]
    WrongPassword,
    #[error("this user is disabled: ask an admin")]
    UserDisabled,
    #[error("too many wrong passwords: try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    #[error(transparent)]
    Storage(#[from] crate::error::Error),
}

impl From<PasswordRefusal> for SignInError {
    fn from(refusal: PasswordRefusal) -> SignInError {
        match refusal {
            PasswordRefusal::Disabled => SignInError::Disabled,
            PasswordRefusal::Wrong => SignInError::WrongPassword,
            PasswordRefusal::UserDisabled => SignInError::UserDisabled,
            PasswordRefusal::TooManyAttempts(wait) => SignInError::TooManyAttempts(wait),
            PasswordRefusal::Storage(error) => SignInError::Storage(error),
        }
    }
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

    /// Checks the user's password (counted against the client's address and the user, which
    /// are refused when over the limit) and opens a session; answers the cookie's value.
    pub async fn sign_in(
        &self,
        user: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<String, SignInError> {
        let cookie = random_token();
        let user = user.trim();
        let (digest, user_id) = if user == BOOTSTRAP_ADMIN {
            self.password
                .check(password, client, "sign-in form")
                .await?;
            let digest = self
                .bootstrap_digest(&cookie)
                .expect("a password was accepted, so the credential is enabled");
            (digest, None)
        } else {
            let found = self
                .password
                .check_user(user, password, client, "sign-in form")
                .await?;
            (token_digest(&cookie), Some(found.id))
        };
        let expires_at = now_ms() + LIFETIME.as_millis() as i64;
        admin_sessions::insert(
            self.db.pool(),
            &digest,
            user_id,
            &random_token(),
            expires_at,
        )
        .await?;
        Ok(cookie)
    }

    /// The session the request's cookie names, if it is still valid.
    pub async fn current(&self, headers: &HeaderMap) -> Result<Option<Session>> {
        let Some(cookie) = session_cookie(headers) else {
            return Ok(None);
        };
        let user_digest = token_digest(cookie);
        // The bootstrap admin's session under another credential, or with admin disabled,
        // finds no row.
        let bootstrap_digest = self.bootstrap_digest(cookie);
        let digests: Vec<&str> = [Some(user_digest.as_str()), bootstrap_digest.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let Some(stored) = admin_sessions::find(self.db.pool(), &digests).await? else {
            return Ok(None);
        };
        Ok(match stored {
            StoredSession {
                id_sha256,
                csrf_token,
                user_id: None,
                ..
            } if bootstrap_digest.as_deref() == Some(id_sha256.as_str()) => Some(Session {
                id_sha256,
                user: BOOTSTRAP_ADMIN.to_string(),
                role: Role::Admin,
                csrf_token,
            }),
            StoredSession {
                id_sha256,
                csrf_token,
                user_id: Some(_),
                user_name: Some(user),
                role: Some(role),
                disabled: Some(0),
            } if id_sha256 == user_digest => Some(Session {
                id_sha256,
                user,
                role: Role::parse(&role)
                    .ok_or_else(|| Error::Corrupt(format!("a user's role is {role:?}")))?,
                csrf_token,
            }),
            _ => None,
        })
    }

    /// What the bootstrap admin's session is stored under: the cookie bound to the admin
    /// credential, so changing the password (or turning it off) ends every session opened
    /// with the old one.
    fn bootstrap_digest(&self, cookie: &str) -> Option<String> {
        let credential = self.password.fingerprint()?;
        Some(token_digest(&format!("{cookie}:{credential}")))
    }

    pub async fn sign_out(&self, session: &Session) -> Result<()> {
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
        let session = Session {
            id_sha256: "x".into(),
            user: "ana".into(),
            role: Role::Engineer,
            csrf_token: "token".into(),
        };
        assert!(session.accepts("token"));
        assert!(!session.accepts("toke"));
        assert!(!session.accepts(""));
    }
}
