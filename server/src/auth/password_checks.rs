//! Every check of the admin password, wherever it comes from (the sign-in form, HTTP Basic or
//! Bearer on the API): limited per client address, each attempt counted before the password is
//! verified (so parallel guesses cannot all get through), verified on a small blocking pool (so
//! argon2 never stalls the async workers that answer probes), and logged when wrong.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::auth::AdminCredential;

/// Wrong passwords a client may try within `WINDOW`.
const ALLOWED: usize = 5;
const WINDOW: Duration = Duration::from_secs(300);
/// Password verifications running at once: argon2 takes tens of milliseconds of one core, and
/// this machine kind has two.
const VERIFYING_AT_ONCE: usize = 2;

/// Why the password was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefusal {
    #[error("admin actions are disabled: start icantkube with ICANTKUBE_ADMIN_PASSWORD or ICANTKUBE_ADMIN_PASSWORD_HASH")]
    Disabled,
    #[error("wrong admin password")]
    Wrong,
    #[error("too many wrong passwords from this address: try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
}

/// The admin credential behind its limit.
pub struct PasswordChecks {
    credential: Arc<AdminCredential>,
    attempts: AttemptLimiter,
    verifying: Arc<Semaphore>,
}

impl PasswordChecks {
    pub fn new(credential: Arc<AdminCredential>) -> PasswordChecks {
        PasswordChecks {
            credential,
            attempts: AttemptLimiter::new(ALLOWED, WINDOW),
            verifying: Arc::new(Semaphore::new(VERIFYING_AT_ONCE)),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.credential.is_enabled()
    }

    /// The credential's fingerprint, `None` when admin actions are disabled.
    pub fn fingerprint(&self) -> Option<String> {
        self.credential.fingerprint()
    }

    /// Accepts the right password from a client with attempts left; `via` says which path
    /// asked, for the log.
    pub async fn check(
        &self,
        password: &str,
        client: IpAddr,
        via: &'static str,
    ) -> Result<(), PasswordRefusal> {
        if !self.credential.is_enabled() {
            return Err(PasswordRefusal::Disabled);
        }
        if let Err(wait) = self.attempts.begin(client) {
            tracing::warn!(%client, via, "admin password attempts over the limit");
            return Err(PasswordRefusal::TooManyAttempts(wait));
        }
        let permit = self
            .verifying
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let credential = self.credential.clone();
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            credential.verify(&password)
        })
        .await
        .unwrap_or(false);
        if matches {
            self.attempts.succeeded(client);
            Ok(())
        } else {
            tracing::warn!(%client, via, "wrong admin password");
            Err(PasswordRefusal::Wrong)
        }
    }
}

/// Attempts per client address in a sliding window. An attempt counts when it starts; a right
/// password forgets the client's count.
struct AttemptLimiter {
    allowed: usize,
    window: Duration,
    attempts: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl AttemptLimiter {
    fn new(allowed: usize, window: Duration) -> AttemptLimiter {
        AttemptLimiter {
            allowed,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt, or answers how long the client must wait when it has none left.
    fn begin(&self, client: IpAddr) -> Result<(), Duration> {
        let mut attempts = self.attempts.lock().expect("limiter lock");
        // Forget quiet clients so the map cannot grow without bound.
        attempts.retain(|_, times| times.last().is_some_and(|at| at.elapsed() < self.window));
        let recent = attempts.entry(client).or_default();
        recent.retain(|at| at.elapsed() < self.window);
        if recent.len() >= self.allowed {
            return Err(self.window.saturating_sub(recent[0].elapsed()));
        }
        recent.push(Instant::now());
        Ok(())
    }

    fn succeeded(&self, client: IpAddr) {
        self.attempts.lock().expect("limiter lock").remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::Secret;

    fn client(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_client_is_blocked_after_its_allowed_attempts_and_others_are_not() {
        let limiter = AttemptLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.begin(client(1)).is_ok());
        }
        let wait = limiter.begin(client(1)).expect_err("blocked after three");
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        assert!(limiter.begin(client(2)).is_ok());
        limiter.succeeded(client(1));
        assert!(limiter.begin(client(1)).is_ok());
    }

    #[tokio::test]
    async fn parallel_guesses_get_only_the_allowance_verified() {
        let checks = Arc::new(PasswordChecks::new(Arc::new(AdminCredential::Plain(
            Secret::new("right"),
        ))));
        let guesses: Vec<_> = (0..50)
            .map(|_| {
                let checks = checks.clone();
                tokio::spawn(async move { checks.check("wrong", client(7), "test").await })
            })
            .collect();
        let mut wrong = 0;
        let mut limited = 0;
        for guess in guesses {
            match guess.await.unwrap() {
                Err(PasswordRefusal::Wrong) => wrong += 1,
                Err(PasswordRefusal::TooManyAttempts(_)) => limited += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((wrong, limited), (ALLOWED, 50 - ALLOWED));
        // Once over the limit even the right password waits.
        assert!(matches!(
            checks.check("right", client(7), "test").await,
            Err(PasswordRefusal::TooManyAttempts(_))
        ));
        assert_eq!(checks.check("right", client(8), "test").await, Ok(()));
    }
}
