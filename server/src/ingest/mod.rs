//! Taking in readings: a batch is decoded against its machine's schema (`domain`), stored whole,
//! and each new reading scored by the machine's active model in the same transaction.

mod batch;
pub mod scoring;

pub use batch::{store, BodyFormat, Ingested, LatestScore};
pub use scoring::ModelCache;
