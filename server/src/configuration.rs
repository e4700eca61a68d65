//! Typed settings of the running service, built from flags and environment by `cli`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::auth::AdminCredential;

/// A secret value that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: SocketAddr,
    pub admin: AdminCredential,
    /// Accepted for every machine, besides per-machine tokens.
    pub ingest_token: Option<Secret>,
    pub demo: DemoSettings,
    /// Largest request body accepted by the ingest API.
    pub max_body_bytes: usize,
    /// MLflow; `None` turns tracking off.
    pub tracking: Option<TrackingSettings>,
}

/// Where training runs are tracked.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingSettings {
    /// The tracking server's base URL, without a trailing slash.
    pub uri: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// The simulated fleet of demo mode.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    pub enabled: bool,
    /// Time between two readings of one demo machine.
    pub interval: Duration,
}
