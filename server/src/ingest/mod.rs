//! Taking in readings: a batch is decoded against its machine's schema (`domain`), stored whole,
//! and each new reading scored by the machine's active model in the same transaction; batches
//! arriving together are committed together (`writer`).

mod batch;
pub mod scoring;
mod writer;

pub use batch::{BodyFormat, Ingested, LatestScore};
pub use scoring::ModelCache;
pub use writer::Ingest;
