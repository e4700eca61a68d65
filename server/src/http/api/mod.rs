//! The JSON API for machines, gateways and integrations, and the probes. Machines and gateways
//! authenticate with ingest tokens, admins with the password (Basic or Bearer); each handler
//! checks its own credential through `credentials`.

pub(super) mod credentials;
pub mod health;
pub mod machines;
pub mod promotions;
pub mod readings;
