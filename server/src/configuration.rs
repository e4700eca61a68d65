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
    pub database_max_connections: u32,
    /// How long start-up waits for the database to answer.
    pub database_wait: Duration,
    pub listen: SocketAddr,
    pub admin: AdminCredential,
    /// Accepted for every machine, besides per-machine tokens.
    pub ingest_token: Option<Secret>,
    pub demo: DemoSettings,
    /// Largest request body accepted by the ingest API.
    pub max_body_bytes: usize,
    /// Most readings in one ingest batch.
    pub max_batch_readings: usize,
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
    /// How long the background lease lasts unless renewed.
    pub background_lease: Duration,
    /// After SIGTERM, how long the replica serves on, unready.
    pub shutdown_delay: Duration,
    /// How long requests in flight may still finish after SIGTERM before the process stops.
    pub shutdown_drain: Duration,
    /// How long unlabelled raw readings are kept; `None` keeps them all.
    pub raw_retention: Option<Duration>,
    /// Limits on client connections to the app's port.
    pub connections: ConnectionSettings,
    /// Proxies in front, and whether the site is HTTPS-only.
    pub proxies: ProxySettings,
    /// Who may view the pages and the read-only API.
    pub viewing: Viewing,
    /// How long a machine must be healthy before its alarm clears by itself.
    pub alarm_clear_after: Duration,
    /// Where alarm transitions are announced; none without it.
    pub alarm_webhook: Option<WebhookSettings>,
}

/// The alarm webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub url: String,
    /// Signs each body with HMAC-SHA256 (`X-Icantkube-Signature`).
    pub secret: Option<Secret>,
    pub format: WebhookFormat,
}

impl WebhookSettings {
    /// The URL as messages show it: scheme, host and port, no path or query (which may hold
    /// a token, as Slack's do).
    pub fn url_for_messages(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(url) => format!(
                "{}://{}{}",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port().map(|p| format!(":{p}")).unwrap_or_default()
            ),
            Err(_) => "the webhook".to_string(),
        }
    }
}

/// What the alarm webhook's bodies look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WebhookFormat {
    /// The transition and the alarm as JSON fields.
    #[default]
    Json,
    /// `{"text": ...}`, as Slack's incoming webhooks (and Mattermost's, Teams' workflows) take.
    Slack,
}

/// Who may view the pages and the read-only API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Viewing {
    /// Anyone who reaches the server: the embedded default.
    #[default]
    Open,
    /// Signed-in users only (any role); the Kubernetes deployment's setting.
    SignedIn,
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

/// Limits that keep slow or idle clients from holding the app's port: each is its own flag
/// and environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct ConnectionSettings {
    /// Most client connections open at once; more wait in the kernel's queue until one closes.
    #[arg(
        long,
        env = "ICANTKUBE_MAX_CONNECTIONS",
        default_value_t = 1024,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_connections: usize,

    /// How long a client may take to send a request's headers, which is also how long a
    /// kept-alive connection may sit idle.
    #[arg(long, env = "ICANTKUBE_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// Longest pause while a request body streams in before the answer is 408.
    #[arg(long, env = "ICANTKUBE_BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub body_timeout: Duration,
}

/// What is in front of the app: each is its own flag and environment variable.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ProxySettings {
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` count (addresses or CIDR
    /// ranges, comma-separated); from anyone else they are ignored.
    #[arg(long, env = "ICANTKUBE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The site is served over HTTPS only (by the proxy in front): cookies are always
    /// `Secure` and HSTS is always sent (`1`/`true`).
    #[arg(long, env = "ICANTKUBE_HTTPS_ONLY", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub https_only: bool,
}

/// How training Jobs are made and watched. Every field but the two the CLI resolves (namespace,
/// image) is its own flag and environment variable, derived here so they are named once.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct KubernetesSettings {
    /// Where the Jobs are created (resolved from `--job-namespace` or the pod's own).
    #[arg(skip)]
    pub namespace: String,
    /// What the Jobs run: normally the app's own image, whose entrypoint is `icantkube`
    /// (from `--job-image`, required for this backend).
    #[arg(skip)]
    pub image: String,

    /// ServiceAccount of the training Jobs; the namespace's default one when omitted.
    #[arg(long = "job-service-account", env = "ICANTKUBE_JOB_SERVICE_ACCOUNT")]
    pub service_account: Option<String>,

    /// ConfigMap whose keys become the training container's environment.
    #[arg(
        long = "job-configmap",
        env = "ICANTKUBE_JOB_CONFIGMAP",
        default_value = "icantkube"
    )]
    pub config_map: String,

    /// Secret whose keys become the training container's environment (`DATABASE_URL`, MLflow).
    #[arg(
        long = "job-secret",
        env = "ICANTKUBE_JOB_SECRET",
        default_value = "icantkube"
    )]
    pub secret: String,

    /// CPU a training pod is guaranteed (Kubernetes' notation: `500m`).
    #[arg(
        long = "job-cpu-request",
        env = "ICANTKUBE_JOB_CPU_REQUEST",
        default_value = "500m"
    )]
    pub cpu_request: String,

    /// Most CPU a training pod may use.
    #[arg(
        long = "job-cpu-limit",
        env = "ICANTKUBE_JOB_CPU_LIMIT",
        default_value = "2"
    )]
    pub cpu_limit: String,

    /// Memory a training pod is guaranteed (`512Mi`).
    #[arg(
        long = "job-memory-request",
        env = "ICANTKUBE_JOB_MEMORY_REQUEST",
        default_value = "512Mi"
    )]
    pub memory_request: String,

    /// Most memory a training pod may use; past it the pod is killed (OOMKilled).
    #[arg(
        long = "job-memory-limit",
        env = "ICANTKUBE_JOB_MEMORY_LIMIT",
        default_value = "2Gi"
    )]
    pub memory_limit: String,

    /// Times a failed training pod is retried (a failed training rarely succeeds when simply
    /// repeated).
    #[arg(long = "job-backoff-limit", env = "ICANTKUBE_JOB_BACKOFF_LIMIT", default_value_t = 0,
          value_parser = clap::value_parser!(i32).range(0..))]
    pub backoff_limit: i32,

    /// Seconds a training Job may run before Kubernetes stops it.
    #[arg(long = "job-deadline-seconds", env = "ICANTKUBE_JOB_DEADLINE_SECONDS",
          default_value_t = 3600, value_parser = clap::value_parser!(i64).range(1..))]
    pub active_deadline_seconds: i64,

    /// Seconds a finished training Job, and its pod's log, is kept.
    #[arg(long = "job-ttl-seconds", env = "ICANTKUBE_JOB_TTL_SECONDS", default_value_t = 86400,
          value_parser = clap::value_parser!(i32).range(0..))]
    pub ttl_seconds_after_finished: i32,

    /// `app.kubernetes.io/name` of the training Jobs and the start of their names
    /// (`<app>-train-<run>`), so two installations can share a namespace.
    #[arg(
        long = "job-app-name",
        env = "ICANTKUBE_JOB_APP_NAME",
        default_value = "icantkube"
    )]
    pub app_name: String,

    /// How often a running training Job is checked (`5s`).
    #[arg(long = "job-poll-interval", env = "ICANTKUBE_JOB_POLL_INTERVAL", default_value = "5s",
          value_parser = parse_duration)]
    pub poll_interval: Duration,

    /// How long a training pod may fail to start (image not pullable, ConfigMap or Secret
    /// missing) before its run is failed (`5m`): Kubernetes itself would wait until the
    /// deadline.
    #[arg(long = "job-start-grace", env = "ICANTKUBE_JOB_START_GRACE", default_value = "5m",
          value_parser = parse_duration)]
    pub start_grace: Duration,

    /// Longest wait for one answer of the Kubernetes API (`10s`): an API server that hangs
    /// fails the launch, or is asked again at the next poll, instead of holding them.
    #[arg(long = "kubernetes-api-timeout", env = "ICANTKUBE_KUBERNETES_API_TIMEOUT",
          default_value = "10s", value_parser = parse_duration)]
    pub api_timeout: Duration,
}

/// `90`, `90s`, `15m`, `2h`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 15m or 2h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}: use ms, s, m, h or d"
            ))
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}
