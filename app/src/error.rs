//! The one error type server functions return; the client receives the same variant.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

/// What went wrong behind a page, in words a user can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The page is for signed-in admins.
    #[error("sign in as admin to see this")]
    SignInRequired,
    /// The database cannot answer now (down, full, read-only); worth trying again soon.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The server failed; details stay in its log.
    #[error("the server could not answer: {0}")]
    Internal(String),
    /// Transport or encoding failure of the server function itself.
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
