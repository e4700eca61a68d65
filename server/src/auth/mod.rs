//! Who may do what: the admin credential and ingest tokens (`credentials`), every check of the
//! admin password under one limit (`password_checks`), and the admin's sessions for the web
//! pages (`sessions`). The HTTP layer reads credentials off requests and
//! asks here.

pub mod credentials;
pub mod password_checks;
pub mod sessions;

pub use credentials::{new_ingest_token, token_digest, token_matches, AdminCredential};
pub use password_checks::{PasswordChecks, PasswordRefusal};
pub use sessions::Sessions;
