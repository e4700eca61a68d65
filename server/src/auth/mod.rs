//! Who may do what: the bootstrap admin's credential and ingest tokens (`credentials`), named
//! users and their roles (`accounts`), every check of a password under one limit
//! (`password_checks`), and the sessions of the web pages (`sessions`). The HTTP layer reads credentials off requests and
//! asks here.

pub mod accounts;
pub mod credentials;
pub mod password_checks;
pub mod sessions;

pub use credentials::{new_ingest_token, token_digest, token_matches, AdminCredential};
pub use password_checks::{PasswordChecks, PasswordRefusal};
pub use sessions::Sessions;
