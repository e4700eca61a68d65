//! What the integration tests share: a running test app, a fresh database with data-set and
//! training-run builders, the `icantkube` binary and free ports, simulated and real data sets,
//! and small trained models.

pub mod app;
pub mod binary;
pub mod data;
pub mod database;
pub mod model;
pub mod own_mariadb;
pub mod small_disk;
pub mod snapshot;
