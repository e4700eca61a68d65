//! The adapters behind the pages: they implement the queries `app::services` declares, reading
//! storage, models and charts, so the `app` crate never sees sqlx, smartcore or plotters.

pub mod fleet;
pub mod links;
pub mod training;

pub use fleet::StoredFleet;
pub use training::{SessionViewers, StoredTraining};
