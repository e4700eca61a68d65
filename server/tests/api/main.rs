//! Black-box tests of the HTTP API against a real server on port 0 with a fresh SQLite file.
//! One test binary: the modules below share `helpers`.

mod demo;
mod health;
mod helpers;
mod ingest;
mod machines;
mod metrics;
mod predictions;
mod restart;
mod training;
