//! One module per page, each owning its server functions.

pub mod alarms;
pub mod fleet;
pub mod login;
pub mod machine;
pub mod models;
pub mod not_found;
pub mod training;
pub mod training_new;
pub mod training_run;
pub mod users;
