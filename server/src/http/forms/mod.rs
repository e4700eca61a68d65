//! The admin forms the pages post to (their GET pages are Leptos routes on the same paths).
//! Every handler passes `guard`: a signed-in session and its CSRF token.

pub mod alarms;
pub mod datasets;
mod guard;
pub mod maintenance;
pub mod models;
pub mod sign_in;
pub mod training;
pub mod users;

pub use guard::with_query;
