//! icantkube: collects machine readings, predicts failures, shows them to engineers.
//!
//! `main.rs` parses the command line and dispatches here. The folders, in the order data flows:
//! `http` takes requests (the JSON API and admin forms) and `pages` answers the Leptos pages;
//! both check credentials with `auth`; readings go through `domain` (parsing) into `ingest`
//! (storing and scoring); `training` runs, tracks and promotes models; `metrics` and `charts`
//! show what happened; everything stores through `db`. `background` runs the fleet's
//! background work on one replica at a time. `simulator` and `cli` are clients and commands
//! beside the server. The failure models themselves are the `ml` crate.

pub mod alarms;
pub mod allocator;
pub mod auth;
pub mod background;
pub mod charts;
pub mod cli;
pub mod configuration;
pub mod db;
pub mod domain;
pub mod error;
pub mod history;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod pages;
pub mod shutdown;
pub mod simulator;
pub mod startup;
pub mod telemetry;
pub mod training;
