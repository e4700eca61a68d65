//! Admin sign-in for the web pages: a session cookie, a CSRF token per session, and a limit on
//! password guesses.
//!
//! Sessions are rows in the database (only a digest of the cookie is stored), so every replica
//! recognises a sign-in and a sign-out ends it everywhere.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use rand::RngCore;

use crate::auth::{token_digest, AdminCredential};
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
        use subtle::ConstantTimeEq;
        !presented.is_empty() && bool::from(presented.as_bytes().ct_eq(self.csrf_token.as_bytes()))
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
    credential: Arc<AdminCredential>,
    limiter: Arc<AttemptLimiter>,
}

impl Sessions {
    pub fn new(db: Database, credential: Arc<AdminCredential>) -> Sessions {
        Sessions {
            db,
            credential,
            limiter: Arc::new(AttemptLimiter::new(5, Duration::from_secs(300))),
        }
    }

    /// Checks the password and opens a session; answers the cookie's value. Wrong passwords
    /// count against the client's address, and a client over the limit is refused before its
    /// password is even checked.
    pub async fn sign_in(&self, password: &str, client: IpAddr) -> Result<String, SignInError> {
        if !self.credential.is_enabled() {
            return Err(SignInError::Disabled);
        }
        if let Some(wait) = self.limiter.blocked_for(client) {
            return Err(SignInError::TooManyAttempts(wait));
        }
        let credential = self.credential.clone();
        let password = password.to_string();
        // argon2 takes tens of milliseconds on purpose: keep it off the async workers.
        let matches = tokio::task::spawn_blocking(move || credential.verify(&password))
            .await
            .unwrap_or(false);
        if !matches {
            self.limiter.failed(client);
            return Err(SignInError::WrongPassword);
        }
        self.limiter.succeeded(client);
        let cookie = random_token();
        let expires_at = now_ms() + LIFETIME.as_millis() as i64;
        admin_sessions::insert(
            self.db.pool(),
            &token_digest(&cookie),
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
        let id_sha256 = token_digest(cookie);
        Ok(admin_sessions::csrf_token(self.db.pool(), &id_sha256)
            .await?
            .map(|csrf_token| AdminSession {
                id_sha256,
                csrf_token,
            }))
    }

    pub async fn sign_out(&self, session: &AdminSession) -> Result<()> {
        admin_sessions::delete(self.db.pool(), &session.id_sha256).await
    }
}

/// The `Set-Cookie` value that stores a session, or clears it when `value` is empty.
/// `Secure` when the page was served over TLS (directly or, as the proxy says, in front).
pub fn set_cookie(value: &str, secure: bool) -> String {
    let max_age = if value.is_empty() {
        0
    } else {
        LIFETIME.as_secs()
    };
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// Whether the client reached us over HTTPS, as far as the request shows.
pub fn served_over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
        || headers
            .get(header::FORWARDED)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|forwarded| forwarded.to_ascii_lowercase().contains("proto=https"))
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

/// Counts wrong passwords per client address in a sliding window.
struct AttemptLimiter {
    allowed: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl AttemptLimiter {
    fn new(allowed: usize, window: Duration) -> AttemptLimiter {
        AttemptLimiter {
            allowed,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long the client must wait, when it has used up its attempts.
    fn blocked_for(&self, client: IpAddr) -> Option<Duration> {
        let mut failures = self.failures.lock().expect("limiter lock");
        let recent = failures.entry(client).or_default();
        recent.retain(|at| at.elapsed() < self.window);
        (recent.len() >= self.allowed).then(|| self.window.saturating_sub(recent[0].elapsed()))
    }

    fn failed(&self, client: IpAddr) {
        let mut failures = self.failures.lock().expect("limiter lock");
        // Forget quiet clients so the map cannot grow without bound.
        failures.retain(|_, times| times.last().is_some_and(|at| at.elapsed() < self.window));
        failures.entry(client).or_default().push(Instant::now());
    }

    fn succeeded(&self, client: IpAddr) {
        self.failures.lock().expect("limiter lock").remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_blocked_after_its_allowed_failures_and_others_are_not() {
        let limiter = AttemptLimiter::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..2 {
            limiter.failed(a);
            assert!(limiter.blocked_for(a).is_none());
        }
        limiter.failed(a);
        let wait = limiter
            .blocked_for(a)
            .expect("blocked after three failures");
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        assert!(limiter.blocked_for(b).is_none());
        limiter.succeeded(a);
        assert!(limiter.blocked_for(a).is_none());
    }

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
