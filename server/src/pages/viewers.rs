//! Who is looking at a page (`ViewerQueries`), and the users an admin manages
//! (`UserQueries`).

use app::error::AppError;
use app::model::{time_ago, Role, SignedIn, UserEntry, Viewer};
use app::services::{UserQueries, ViewerQueries};
use axum::http::HeaderMap;

use crate::auth::accounts::Accounts;
use crate::auth::sessions::Sessions;
use crate::domain::time::now_ms;
use crate::error::Error;

/// Who is looking, from the session cookie.
pub struct SessionViewers {
    pub sessions: Sessions,
}

#[async_trait::async_trait]
impl ViewerQueries for SessionViewers {
    async fn viewer(&self, headers: &HeaderMap) -> Result<Viewer, AppError> {
        let session = self.sessions.current(headers).await?;
        Ok(Viewer {
            signed_in: session.map(|session| SignedIn {
                name: session.user,
                role: session.role,
                csrf_token: session.csrf_token,
            }),
        })
    }
}

/// The users, from storage.
pub struct StoredUsers {
    pub accounts: Accounts,
}

#[async_trait::async_trait]
impl UserQueries for StoredUsers {
    async fn users(&self) -> Result<Vec<UserEntry>, AppError> {
        let now = now_ms();
        self.accounts
            .list()
            .await?
            .into_iter()
            .map(|user| {
                let role = Role::parse(&user.role).ok_or_else(|| {
                    Error::Corrupt(format!("user {} has role {:?}", user.name, user.role))
                })?;
                Ok(UserEntry {
                    role,
                    disabled: user.disabled,
                    created: format!("{} by {}", time_ago(user.created_at, now), user.created_by),
                    changed: format!("{} by {}", time_ago(user.updated_at, now), user.updated_by),
                    name: user.name,
                })
            })
            .collect::<Result<_, Error>>()
            .map_err(AppError::from)
    }
}
