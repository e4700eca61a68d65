//! Every check of a password, wherever it comes from (the sign-in form, HTTP Basic or Bearer
//! on the API), the bootstrap admin's or a named user's: limited per client address (and per
//! user) across every replica (the attempts are counted in the database), each attempt counted
//! before the password is verified (so parallel guesses cannot all get through), verified on a
//! small blocking pool (so argon2 never stalls the async workers that answer probes), and
//! logged when wrong.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::auth::{accounts, AdminCredential};
use crate::db::users::{self, User};
use crate::db::{sign_in_attempts, Database};
use crate::domain::time::now_ms;
use crate::error::Error;

/// Wrong passwords a client may try within `WINDOW`.
const ALLOWED: i64 = 5;
const WINDOW: Duration = Duration::from_secs(300);
/// Password verifications running at once: argon2 takes tens of milliseconds of one core, and
/// this machine kind has two.
const VERIFYING_AT_ONCE: usize = 2;

/// Why the password was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum PasswordRefusal {
    #[error("admin actions are disabled: start icantkube with ICANTKUBE_ADMIN_PASSWORD or ICANTKUBE_ADMIN_PASSWORD_HASH")]
    Disabled,
    #[error("wrong user name or password")]
    Wrong,
    #[error("this user is disabled: ask an admin")]
    UserDisabled,
    #[error("too many wrong passwords from this address: try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    /// The attempt could not be counted.
    #[error(transparent)]
    Storage(#[from] Error),
}

/// The passwords behind their limit.
pub struct PasswordChecks {
    credential: Arc<AdminCredential>,
    db: Database,
    verifying: Arc<Semaphore>,
}

impl PasswordChecks {
    pub fn new(credential: Arc<AdminCredential>, db: Database) -> PasswordChecks {
        PasswordChecks {
            credential,
            db,
            verifying: Arc::new(Semaphore::new(VERIFYING_AT_ONCE)),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.credential.is_enabled()
    }

    /// The few places on the blocking pool that argon2 work takes turns for.
    pub fn argon2_turns(&self) -> Arc<Semaphore> {
        self.verifying.clone()
    }

    /// The credential's fingerprint, `None` when admin actions are disabled.
    pub fn fingerprint(&self) -> Option<String> {
        self.credential.fingerprint()
    }

    /// Accepts the bootstrap admin's password from a client with attempts left; `via` says
    /// which path asked, for the log.
    pub async fn check(
        &self,
        password: &str,
        client: IpAddr,
        via: &'static str,
    ) -> Result<(), PasswordRefusal> {
        if !self.credential.is_enabled() {
            return Err(PasswordRefusal::Disabled);
        }
        let credential = self.credential.clone();
        let password = password.to_string();
        self.limited(&[client.to_string()], via, move || {
            credential.verify(&password)
        })
        .await
    }

    /// Accepts a named user's password, counted against both the client's address and the
    /// user (so guesses spread over many addresses still stop); answers the user. An unknown
    /// name costs the same argon2 check as a known one, so timing does not tell names apart.
    pub async fn check_user(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
        via: &'static str,
    ) -> Result<User, PasswordRefusal> {
        let found = users::with_password(self.db.pool(), name).await?;
        let hash = match &found {
            Some((_, hash)) => hash.clone(),
            None => accounts::unknown_user_hash().to_string(),
        };
        let password = password.to_string();
        // No user's name is longer than 40 characters; a longer one (a guess) is counted under
        // its first 40, so the key fits its column.
        let user: String = name.chars().take(40).collect();
        let keys = [client.to_string(), format!("user:{user}")];
        self.limited(&keys, via, move || accounts::verify(&hash, &password))
            .await?;
        match found {
            Some((user, _)) if user.disabled => Err(PasswordRefusal::UserDisabled),
            Some((user, _)) => Ok(user),
            None => Err(PasswordRefusal::Wrong),
        }
    }

    /// Counts an attempt against each key, then runs `verify` (argon2) on the blocking pool,
    /// a few at once; a success forgets the keys' wrong attempts.
    async fn limited(
        &self,
        keys: &[String],
        via: &'static str,
        verify: impl FnOnce() -> bool + Send + 'static,
    ) -> Result<(), PasswordRefusal> {
        let window = i64::try_from(WINDOW.as_millis()).expect("minutes");
        let now = now_ms();
        for key in keys {
            let counted =
                sign_in_attempts::begin(self.db.pool(), key, now, window, ALLOWED).await?;
            if let Err(opened_at) = counted {
                tracing::warn!(%key, via, "password attempts over the limit");
                let wait = u64::try_from(opened_at + window - now).unwrap_or(0);
                return Err(PasswordRefusal::TooManyAttempts(Duration::from_millis(
                    wait,
                )));
            }
        }
        let permit = self
            .verifying
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify()
        })
        .await
        .unwrap_or(false);
        if matches {
            for key in keys {
                sign_in_attempts::succeeded(self.db.pool(), key).await?;
            }
            Ok(())
        } else {
            tracing::warn!(keys = ?keys, via, "wrong password");
            Err(PasswordRefusal::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::Secret;

    fn client(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[tokio::test]
    async fn parallel_guesses_get_only_the_allowance_verified() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("test.db").display());
        let db = Database::connect(&url, 4).await.unwrap();
        db.migrate().await.unwrap();
        let checks = Arc::new(PasswordChecks::new(
            Arc::new(AdminCredential::Plain(Secret::new("right"))),
            db,
        ));
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
        assert!(checks.check("right", client(8), "test").await.is_ok());
        // A right password forgets the client's wrong ones.
        for _ in 0..ALLOWED {
            assert!(matches!(
                checks.check("wrong", client(8), "test").await,
                Err(PasswordRefusal::Wrong)
            ));
        }
    }
}
