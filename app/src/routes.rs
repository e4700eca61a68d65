//! One module per page, each owning its server functions.

pub mod fleet;
pub mod machine;
pub mod not_found;
