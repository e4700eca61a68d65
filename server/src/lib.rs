//! icantkube: collects machine readings, predicts failures, shows them to engineers.
//!
//! `main.rs` parses the command line and dispatches here; every module owns one job.

pub mod auth;
pub mod charts;
pub mod cli;
pub mod configuration;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod fleet_queries;
pub mod ingest;
pub mod links;
pub mod machine_history;
pub mod metrics;
pub mod ml;
pub mod mlflow;
pub mod offline;
pub mod profiles;
pub mod promotion;
pub mod routes;
pub mod scoring;
pub mod sessions;
pub mod simulator;
pub mod startup;
pub mod telemetry;
pub mod time;
pub mod training;
pub mod training_queries;
