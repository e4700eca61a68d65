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
    /// Largest data set an admin may upload.
    pub max_upload_bytes: usize,
    /// Grafana's base URL, for dashboard links.
    pub grafana_url: Option<String>,
    /// Where training runs execute.
    pub training: TrainingSettings,
    /// Where `/metrics` is served: a port of its own, which the Ingress does not expose.
    pub metrics_listen: SocketAddr,
    /// Most machines whose own series (risk, remaining life, model version) are exported.
    pub metrics_machine_cap: usize,
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

/// Where training runs execute.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSettings {
    pub backend: TrainingBackend,
    /// Runs the local backend trains at the same time.
    pub local_workers: usize,
    /// The `icantkube` binary the local backend starts; this program when `None` (tests, which
    /// run the server inside the test binary, name the real one).
    pub local_executable: Option<std::path::PathBuf>,
}

impl Default for TrainingSettings {
    /// Child processes of this server, one run at a time.
    fn default() -> Self {
        TrainingSettings {
            backend: TrainingBackend::Local,
            local_workers: 1,
            local_executable: None,
        }
    }
}

/// The runner that trains.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingBackend {
    /// Child processes of this server.
    Local,
    /// A Kubernetes Job per run (boxed: it is many times the size of `Local`).
    Kubernetes(Box<KubernetesSettings>),
}

/// How training Jobs are made and watched.
#[derive(Debug, Clone, PartialEq)]
pub struct KubernetesSettings {
    /// Where the Jobs are created.
    pub namespace: String,
    /// What the Jobs run: normally the app's own image, whose entrypoint is `icantkube`.
    pub image: String,
    /// The Jobs' ServiceAccount; the namespace's default one when `None`.
    pub service_account: Option<String>,
    /// ConfigMap whose keys become the training container's environment.
    pub config_map: String,
    /// Secret whose keys become the training container's environment (`DATABASE_URL`, MLflow).
    pub secret: String,
    /// Resource quantities in Kubernetes' notation (`500m`, `2Gi`).
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
    /// Retries of a failed training pod.
    pub backoff_limit: i32,
    /// Longest a Job may run, in seconds, before Kubernetes stops it.
    pub active_deadline_seconds: i64,
    /// How long a finished Job (and its pod's log) is kept, in seconds.
    pub ttl_seconds_after_finished: i32,
    /// `app.kubernetes.io/name` of the Jobs and the start of their names (`<app>-train-<run>`),
    /// so two installations can share a namespace.
    pub app_name: String,
    /// How often a Job is checked while it runs.
    pub poll_interval: Duration,
    /// How long a pod may keep failing to start (an image it cannot pull, a missing ConfigMap
    /// or Secret) before its run is failed: Kubernetes itself would wait until the deadline.
    pub start_grace: Duration,
}
