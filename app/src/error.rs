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
    /// The request asked for something that cannot be (a bad filter value, ...); the message
    /// names the field.
    #[error("{0}")]
    Invalid(String),
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

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status that answers it, for pages and server functions alike.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::ServerFn(
                ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::Deserialization(_)
                | ServerFnErrorErr::MissingArg(_),
            ) => StatusCode::BAD_REQUEST,
            AppError::ServerFn(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
