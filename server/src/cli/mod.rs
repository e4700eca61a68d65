//! The command line: one subcommand per job, every setting a flag and an environment variable.

pub mod offline;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};

use crate::auth::AdminCredential;
use crate::configuration::{
    parse_duration, ConnectionSettings, DemoSettings, KubernetesSettings, ProxySettings, Secret,
    Settings, TrackingSettings, TrainingBackend, TrainingSettings, Viewing, WebhookFormat,
    WebhookSettings,
};

/// icantkube: predicts failures of industrial machines from their sensor readings.
#[derive(Debug, Parser)]
#[command(name = "icantkube", version, propagate_version = true)]
pub struct Cli {
    /// What to run; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app and the API (the default).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Post simulated (or replayed) readings to a running icantkube over HTTP.
    Simulate(SimulateArgs),
    /// Train a failure model from a CSV and print its cross-validated metrics.
    Train(Box<TrainArgs>),
    /// Print a saved model's metrics on labelled data.
    Evaluate(EvaluateArgs),
    /// Write one prediction per row of a CSV.
    Predict(PredictArgs),
}

impl Default for Command {
    fn default() -> Self {
        // Parsing no arguments applies every default and environment variable.
        Command::Serve(Box::new(ServeArgs::parse_from(["serve"])))
    }
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` (the file and its folder are created) or
    /// `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (MariaDB).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/icantkube.db"
    )]
    pub database_url: String,

    /// Database connections this process keeps open at most.
    #[arg(long, env = "ICANTKUBE_DATABASE_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_max_connections: u32,

    /// How long start-up waits for a MariaDB server that does not answer yet (pods often
    /// start before their database).
    #[arg(long, env = "ICANTKUBE_DATABASE_WAIT", default_value = "120s", value_parser = parse_duration)]
    pub database_wait: Duration,
}

/// MLflow tracking, under MLflow's own variable names.
#[derive(Debug, Clone, Args)]
pub struct TrackingArgs {
    /// MLflow tracking server (`http://host:5000`); tracking is off without it.
    #[arg(long, env = "MLFLOW_TRACKING_URI")]
    pub mlflow_tracking_uri: Option<String>,

    /// MLflow basic-auth user.
    #[arg(long, env = "MLFLOW_TRACKING_USERNAME")]
    pub mlflow_tracking_username: Option<String>,

    /// MLflow basic-auth password.
    #[arg(long, env = "MLFLOW_TRACKING_PASSWORD", hide_env_values = true)]
    pub mlflow_tracking_password: Option<Secret>,
}

impl TrackingArgs {
    /// `None` when no tracking server is configured.
    pub fn into_settings(self) -> Option<TrackingSettings> {
        let uri = self
            .mlflow_tracking_uri
            .filter(|uri| !uri.trim().is_empty())?;
        Some(TrackingSettings {
            uri: uri.trim_end_matches('/').to_string(),
            username: self.mlflow_tracking_username.filter(|u| !u.is_empty()),
            password: self
                .mlflow_tracking_password
                .filter(|p| !p.expose().is_empty()),
        })
    }
}

/// Which runner trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainingBackendName {
    Local,
    Kubernetes,
}

/// Where training runs execute and, on Kubernetes, what their Jobs look like.
#[derive(Debug, Clone, Args)]
pub struct TrainingArgs {
    /// `local`: child processes of this server; `kubernetes`: a Job per run.
    #[arg(
        long,
        env = "ICANTKUBE_TRAINING_BACKEND",
        value_enum,
        default_value = "local"
    )]
    pub training_backend: TrainingBackendName,

    /// Runs the local backend trains at the same time.
    #[arg(long, env = "ICANTKUBE_LOCAL_WORKERS", default_value_t = 1,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub local_workers: usize,

    /// Image of the training Jobs, normally this app's own (required by the kubernetes backend).
    #[arg(long, env = "ICANTKUBE_JOB_IMAGE")]
    pub job_image: Option<String>,

    /// Namespace of the training Jobs; this pod's own when omitted (`default` outside a pod).
    #[arg(long, env = "ICANTKUBE_JOB_NAMESPACE")]
    pub job_namespace: Option<String>,

    /// The Jobs' own settings, each a flag and a variable (`--job-cpu-limit`, ...).
    #[command(flatten)]
    pub job: KubernetesSettings,
}

/// Where Kubernetes tells a pod its namespace.
const POD_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

impl TrainingArgs {
    /// Checks the flags of the chosen backend and turns them into typed settings.
    pub fn into_settings(self) -> anyhow::Result<TrainingSettings> {
        let backend = match self.training_backend {
            TrainingBackendName::Local => TrainingBackend::Local,
            TrainingBackendName::Kubernetes => {
                let image = self
                    .job_image
                    .filter(|image| !image.trim().is_empty())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "ICANTKUBE_TRAINING_BACKEND=kubernetes needs ICANTKUBE_JOB_IMAGE \
                             (--job-image): the image training Jobs run, normally this app's own"
                        )
                    })?;
                if self.job.poll_interval.is_zero() {
                    anyhow::bail!("ICANTKUBE_JOB_POLL_INTERVAL must be longer than 0");
                }
                let namespace = self
                    .job_namespace
                    .filter(|namespace| !namespace.trim().is_empty())
                    .or_else(|| {
                        std::fs::read_to_string(POD_NAMESPACE_FILE)
                            .ok()
                            .map(|namespace| namespace.trim().to_string())
                            .filter(|namespace| !namespace.is_empty())
                    })
                    .unwrap_or_else(|| "default".to_string());
                let service_account = self.job.service_account.filter(|name| !name.is_empty());
                TrainingBackend::Kubernetes(Box::new(KubernetesSettings {
                    namespace,
                    image,
                    service_account,
                    ..self.job
                }))
            }
        };
        Ok(TrainingSettings {
            backend,
            local_workers: self.local_workers,
            local_executable: None,
        })
    }
}

#[derive(Debug, Clone, Parser)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address to listen on.
    #[arg(long, env = "ICANTKUBE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Admin password (plain). Without it and without a hash, admin actions are refused.
    #[arg(long, env = "ICANTKUBE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,

    /// Admin password as an argon2 PHC string (`$argon2id$...`); wins over the plain one.
    #[arg(long, env = "ICANTKUBE_ADMIN_PASSWORD_HASH", hide_env_values = true)]
    pub admin_password_hash: Option<Secret>,

    /// Ingest token accepted for every machine, besides per-machine tokens.
    #[arg(long, env = "ICANTKUBE_INGEST_TOKEN", hide_env_values = true)]
    pub ingest_token: Option<Secret>,

    /// Seed a simulated fleet on first start and keep it streaming (`1`/`true`).
    #[arg(long, env = "ICANTKUBE_DEMO", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub demo: bool,

    /// Milliseconds between two readings of one demo machine.
    #[arg(long, env = "ICANTKUBE_DEMO_INTERVAL_MS", default_value_t = 2000)]
    pub demo_interval_ms: u64,

    /// Largest request body the ingest API accepts, in bytes.
    #[arg(long, env = "ICANTKUBE_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Most readings in one ingest batch (JSON array or CSV rows).
    #[arg(
        long,
        env = "ICANTKUBE_MAX_BATCH_READINGS",
        default_value_t = 10_000,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_batch_readings: usize,

    /// Largest data set an admin may upload, in bytes.
    #[arg(long, env = "ICANTKUBE_MAX_UPLOAD_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Grafana's base URL (`https://grafana.example.com`), for dashboard links; none without it.
    #[arg(long, env = "GRAFANA_URL")]
    pub grafana_url: Option<String>,

    /// Address of the Prometheus `/metrics` listener, apart from the app's.
    #[arg(
        long,
        env = "ICANTKUBE_METRICS_LISTEN",
        default_value = "127.0.0.1:9464"
    )]
    pub metrics_listen: SocketAddr,

    /// Most machines, the riskiest, whose own series `/metrics` exports.
    #[arg(long, env = "ICANTKUBE_METRICS_MACHINE_CAP", default_value_t = 200)]
    pub metrics_machine_cap: usize,

    /// How long the background lease (the demo fleet, MLflow retries, following Kubernetes
    /// Jobs: one replica at a time)
    /// lasts unless renewed: a replica that dies without a word hands the work over this late.
    #[arg(long, env = "ICANTKUBE_BACKGROUND_LEASE", default_value = "30s", value_parser = parse_duration)]
    pub background_lease: Duration,

    /// After SIGTERM, how long the replica serves on with `/readyz` at 503 so a load balancer
    /// takes it out before it stops taking connections; a second signal skips it.
    #[arg(long, env = "ICANTKUBE_SHUTDOWN_DELAY", default_value = "0s", value_parser = parse_duration)]
    pub shutdown_delay: Duration,

    /// How long requests in flight may finish after SIGTERM before the process stops anyway
    /// (`20s`: inside Kubernetes' default 30 s grace period).
    #[arg(long, env = "ICANTKUBE_SHUTDOWN_DRAIN", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_drain: Duration,

    /// How long raw readings without labels are kept (`90d`); older ones are deleted once
    /// they are in the charts' rollups, except each machine's first and last readings of its
    /// current run. Labelled readings, which training learns from, are kept. Unset: keep all.
    #[arg(long, env = "ICANTKUBE_RAW_RETENTION", value_parser = parse_duration)]
    pub raw_retention: Option<Duration>,

    /// Who may view the pages and the read-only API: `open` (anyone) or `signed-in` (users
    /// of any role; the sign-in page, probes and site files stay open).
    #[arg(long, env = "ICANTKUBE_VIEWING", value_enum, default_value_t = Viewing::Open)]
    pub viewing: Viewing,

    /// How long a machine must be healthy (by its readings' times, with no warning or critical
    /// prediction) before its alarm clears by itself; the hysteresis against flapping.
    #[arg(long, env = "ICANTKUBE_ALARM_CLEAR_AFTER", default_value = "10m", value_parser = parse_duration)]
    pub alarm_clear_after: Duration,

    /// URL each alarm transition (raised, escalated, acknowledged, cleared) is POSTed to;
    /// none without it.
    #[arg(long, env = "ICANTKUBE_ALARM_WEBHOOK_URL")]
    pub alarm_webhook_url: Option<String>,

    /// Key of the HMAC-SHA256 signature of each webhook body (`X-Icantkube-Signature`).
    #[arg(long, env = "ICANTKUBE_ALARM_WEBHOOK_SECRET", hide_env_values = true)]
    pub alarm_webhook_secret: Option<Secret>,

    /// The webhook's bodies: `json` (the transition and the alarm) or `slack` (`{"text"}`).
    #[arg(long, env = "ICANTKUBE_ALARM_WEBHOOK_FORMAT", value_enum, default_value_t = WebhookFormat::Json)]
    pub alarm_webhook_format: WebhookFormat,

    #[command(flatten)]
    pub connections: ConnectionSettings,

    #[command(flatten)]
    pub proxies: ProxySettings,

    #[command(flatten)]
    pub tracking: TrackingArgs,

    #[command(flatten)]
    pub training: TrainingArgs,
}

impl ServeArgs {
    /// Checks the flags and turns them into typed settings.
    pub fn into_settings(self) -> anyhow::Result<Settings> {
        let admin = AdminCredential::from_config(self.admin_password, self.admin_password_hash)?;
        Ok(Settings {
            database_url: self.database.database_url,
            database_max_connections: self.database.database_max_connections,
            database_wait: self.database.database_wait,
            listen: self.listen,
            admin,
            ingest_token: self.ingest_token.filter(|token| !token.expose().is_empty()),
            demo: DemoSettings {
                enabled: self.demo,
                interval: Duration::from_millis(self.demo_interval_ms.max(50)),
            },
            max_body_bytes: self.max_body_bytes,
            max_batch_readings: self.max_batch_readings,
            tracking: self.tracking.into_settings(),
            max_upload_bytes: self.max_upload_bytes,
            grafana_url: self
                .grafana_url
                .map(|url| url.trim().trim_end_matches('/').to_string())
                .filter(|url| !url.is_empty()),
            training: self.training.into_settings()?,
            metrics_listen: self.metrics_listen,
            metrics_machine_cap: self.metrics_machine_cap,
            shutdown_drain: self.shutdown_drain,
            shutdown_delay: self.shutdown_delay,
            background_lease: self.background_lease,
            raw_retention: self.raw_retention,
            connections: self.connections,
            proxies: self.proxies,
            viewing: self.viewing,
            alarm_clear_after: self.alarm_clear_after,
            alarm_webhook: webhook(
                self.alarm_webhook_url,
                self.alarm_webhook_secret,
                self.alarm_webhook_format,
            )?,
        })
    }
}

/// The alarm webhook's settings, none without a URL; a URL that is not http(s) is refused.
fn webhook(
    url: Option<String>,
    secret: Option<Secret>,
    format: WebhookFormat,
) -> anyhow::Result<Option<WebhookSettings>> {
    let Some(url) = url
        .map(|url| url.trim().to_string())
        .filter(|url| !url.is_empty())
    else {
        return Ok(None);
    };
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
        _ => anyhow::bail!("ICANTKUBE_ALARM_WEBHOOK_URL must be an http:// or https:// URL"),
    }
    Ok(Some(WebhookSettings {
        url,
        secret: secret.filter(|secret| !secret.expose().is_empty()),
        format,
    }))
}

#[derive(Debug, Clone, Parser)]
pub struct SimulateArgs {
    /// Base URL of the icantkube to post to.
    #[arg(
        long,
        env = "ICANTKUBE_TARGET",
        default_value = "http://127.0.0.1:3000"
    )]
    pub target: String,

    /// Number of virtual machines (named PREFIX-01, PREFIX-02, ...).
    #[arg(long, default_value_t = 4)]
    pub machines: usize,

    /// Readings per second across the whole simulated fleet.
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,

    /// Stop after this long (`90s`, `10m`, `2h`); runs until Ctrl-C when omitted.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Replay this CSV (AI4I 2020 layout, or a header of the machines' sensor keys) instead of
    /// simulating.
    #[arg(long)]
    pub replay: Option<PathBuf>,

    /// Kind of virtual machine: `ai4i2020`, `turbofan`, or `mixed` (three milling machines to
    /// every engine).
    #[arg(long, default_value = "ai4i2020")]
    pub profile: String,

    /// Prefix of the machine names.
    #[arg(long, default_value = "sim")]
    pub prefix: String,

    /// Readings per HTTP request (the rate is kept by sending batches less often).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,

    /// Random seed, for a repeatable fleet.
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,

    /// Ingest token (the service's global one, or one valid for every simulated machine).
    #[arg(long, env = "ICANTKUBE_INGEST_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,

    /// Admin password: when given, machines missing on the target are registered first.
    #[arg(long, env = "ICANTKUBE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
}

/// How to read a data set file.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data set: a CSV with a header, or NASA C-MAPSS' space-separated text as distributed.
    #[arg(long)]
    pub data: PathBuf,

    /// Read the file as C-MAPSS text (space-separated, no header, 26 columns) even when
    /// detection would not.
    #[arg(long)]
    pub cmapss: bool,

    /// Profile instead of the detected one: `ai4i2020`, `run_to_failure`, `generic`.
    #[arg(long)]
    pub profile: Option<String>,

    /// A column's role instead of the detected one, as COLUMN=ROLE (id, timestamp, unit,
    /// categorical, input, target, label, ignored); repeatable.
    #[arg(long = "role", value_name = "COLUMN=ROLE")]
    pub roles: Vec<String>,

    /// Cap of a run-to-failure target (remaining life above it counts as the cap).
    #[arg(long)]
    pub life_cap: Option<f64>,
}

#[derive(Debug, Clone, Parser)]
pub struct TrainArgs {
    /// Run this stored training run instead of training on a file: what a local worker or a
    /// Kubernetes Job runs. It reads the run and its data set from the database and reports
    /// progress there.
    #[arg(long, conflicts_with_all = ["data", "model_out"])]
    pub run_id: Option<i64>,

    /// Train the demo fleet's models from simulated data and promote them to the demo machines
    /// that have none: what a demo-mode server runs in a child process at first start.
    #[arg(long, conflicts_with_all = ["run_id", "data", "model_out"])]
    pub demo: bool,

    /// Where this run executes, recorded on the run (`local`, or the Kubernetes Job's name).
    #[arg(long, env = "ICANTKUBE_RUNNER", default_value = "cli")]
    pub runner: String,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub tracking: TrackingArgs,

    #[command(flatten)]
    pub data: Option<DataArgs>,

    /// Target column; detected when omitted (AI4I: `Machine failure`; series: remaining
    /// life; otherwise the last column).
    #[arg(long)]
    pub target: Option<String>,

    /// `auto` (the best for the data's profile: gradient boosting for run-to-failure series,
    /// the random forest otherwise), `random_forest`, `gradient_boosting` or `linear`
    /// (logistic regression for failures, ridge for remaining life).
    #[arg(long, default_value = "auto")]
    pub algorithm: String,

    /// Where to write the model.
    #[arg(long, required_unless_present_any = ["run_id", "demo"])]
    pub model_out: Option<PathBuf>,

    /// A derived input as NAME=EXPRESSION over the columns' keys; repeatable.
    #[arg(long = "derive", value_name = "NAME=EXPRESSION")]
    pub derived: Vec<String>,

    /// Trees in the forest.
    #[arg(long)]
    pub trees: Option<usize>,

    /// Deepest a tree may grow.
    #[arg(long)]
    pub max_depth: Option<u16>,

    /// Fewest rows in a leaf.
    #[arg(long)]
    pub min_samples_leaf: Option<usize>,

    /// Share of the features each split may choose from (0 < x <= 1).
    #[arg(long)]
    pub features_per_split: Option<f64>,

    /// Weigh failures and healthy rows equally when growing the forest.
    #[arg(long)]
    pub balanced: bool,

    /// L2 penalty of the linear family.
    #[arg(long)]
    pub alpha: Option<f64>,

    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,

    /// Random seed (folds, bootstrap samples, feature choice).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Print the model card as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Parser)]
pub struct EvaluateArgs {
    /// A model written by `icantkube train`.
    #[arg(long)]
    pub model: PathBuf,

    #[command(flatten)]
    pub data: DataArgs,

    /// Print JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Parser)]
pub struct PredictArgs {
    /// A model written by `icantkube train`.
    #[arg(long)]
    pub model: PathBuf,

    #[command(flatten)]
    pub data: DataArgs,

    /// Where to write the predictions (CSV, one row per input row).
    #[arg(long)]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_the_usual_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn durations_with_unknown_units_are_refused_with_the_unit_named() {
        let error = parse_duration("3 weeks").unwrap_err();
        assert!(error.contains("unknown unit"), "{error}");
    }

    #[test]
    fn serve_is_the_default_command() {
        let Command::Serve(args) = Command::default() else {
            panic!("the default command is not serve");
        };
        assert_eq!(args.listen.to_string(), "127.0.0.1:3000");
        assert!(args.database.database_url.starts_with("sqlite://"));
    }

    #[test]
    fn training_is_local_with_one_worker_by_default() {
        let args = ServeArgs::try_parse_from(["serve"]).unwrap();
        assert_eq!(
            args.training.into_settings().unwrap(),
            TrainingSettings::default()
        );
    }

    #[test]
    fn the_kubernetes_backend_without_an_image_is_refused_naming_the_variable() {
        let args =
            ServeArgs::try_parse_from(["serve", "--training-backend", "kubernetes"]).unwrap();
        let error = args.into_settings().unwrap_err().to_string();
        assert!(error.contains("ICANTKUBE_JOB_IMAGE"), "{error}");
    }

    #[test]
    fn the_kubernetes_backend_takes_safe_job_defaults() {
        let args = ServeArgs::try_parse_from([
            "serve",
            "--training-backend",
            "kubernetes",
            "--job-image",
            "registry.example/icantkube:1.0",
            "--job-namespace",
            "factory",
        ])
        .unwrap();
        let TrainingBackend::Kubernetes(job) = args.training.into_settings().unwrap().backend
        else {
            panic!("not the kubernetes backend");
        };
        assert_eq!(job.namespace, "factory");
        assert_eq!(job.image, "registry.example/icantkube:1.0");
        assert_eq!(
            (job.config_map.as_str(), job.secret.as_str()),
            ("icantkube", "icantkube")
        );
        assert_eq!(job.backoff_limit, 0);
        assert_eq!(job.active_deadline_seconds, 3600);
        assert_eq!(job.ttl_seconds_after_finished, 86400);
        assert_eq!(job.service_account, None);
    }

    #[test]
    fn train_demo_needs_no_data_set_and_takes_none() {
        let args = TrainArgs::try_parse_from(["train", "--demo"]).unwrap();
        assert!(args.demo && args.run_id.is_none() && args.data.is_none());
        assert!(TrainArgs::try_parse_from(["train", "--demo", "--run-id", "3"]).is_err());
    }

    #[test]
    fn the_demo_flag_turns_demo_mode_on() {
        let args = ServeArgs::try_parse_from(["serve", "--demo"]).unwrap();
        assert!(args.demo);
    }
}
