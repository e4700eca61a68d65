//! Black-box tests of the HTTP API against a real server on port 0 with a fresh SQLite file
//! (`crate::support::app`).

mod connections;
mod database;
mod demo;
mod health;
mod ingest;
mod machines;
mod metrics;
pub mod predictions;
mod proxies;
mod restart;
mod server_fns;
mod training;
