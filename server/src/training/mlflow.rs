//! A small client for MLflow's REST API 2.0: experiments, runs (parameters, metrics, tags),
//! artifacts through the tracking server's artifact proxy, and the model registry. Every
//! request has its own timeout so a slow server cannot hold a caller for long.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::configuration::TrackingSettings;

/// Longest wait for one answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// MLflow's limits for one `runs/log-batch` request.
const PARAMS_PER_BATCH: usize = 100;
const METRICS_PER_BATCH: usize = 1000;
const TAGS_PER_BATCH: usize = 100;

/// Why a call to MLflow failed; each names the call.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error("cannot set up the HTTP client for MLflow")]
    Client(#[source] reqwest::Error),
    /// Refused connection, unknown host, timeout: MLflow did not answer.
    #[error("MLflow {call}: no answer")]
    Unreachable {
        call: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// MLflow answered with an error.
    #[error("MLflow {call}: {error_code} (HTTP {status}): {message}")]
    Refused {
        call: &'static str,
        status: u16,
        error_code: String,
        message: String,
    },
    /// An answer that is not what the API documents.
    #[error("MLflow {call}: unexpected answer: {detail}")]
    Unexpected { call: &'static str, detail: String },
    /// Artifacts can only be uploaded through the tracking server's proxy.
    #[error(
        "the run's artifact location {0} is not served by the tracking server; start `mlflow \
         server` with artifact serving on (the default)"
    )]
    ArtifactsNotServed(String),
}

impl MlflowError {
    /// MLflow's `error_code`, such as `RESOURCE_ALREADY_EXISTS`, when MLflow answered one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            MlflowError::Refused { error_code, .. } => Some(error_code),
            _ => None,
        }
    }
}

type Result<T, E = MlflowError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub step: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Finished,
    Failed,
    Killed,
}

/// The parts of MLflow's `RunInfo` this client uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub experiment_id: String,
    /// `mlflow-artifacts:/<experiment>/<run>/artifacts` when the server proxies artifacts.
    pub artifact_uri: String,
}

#[derive(Deserialize)]
struct RunEnvelope {
    run: RunBody,
}

#[derive(Deserialize)]
struct RunBody {
    info: RunInfo,
}

#[derive(Deserialize)]
struct ExperimentEnvelope {
    experiment: ExperimentBody,
}

#[derive(Deserialize)]
struct ExperimentBody {
    experiment_id: String,
}

#[derive(Deserialize)]
struct CreatedExperiment {
    experiment_id: String,
}

#[derive(Deserialize)]
struct ModelVersionEnvelope {
    model_version: ModelVersionBody,
}

#[derive(Deserialize)]
struct ModelVersionBody {
    version: String,
}

#[derive(Deserialize)]
struct ModelVersionSearch {
    #[serde(default)]
    model_versions: Vec<ModelVersionBody>,
}

/// Answers that carry nothing this client needs.
#[derive(Deserialize)]
struct Empty {}

/// MLflow's error body.
#[derive(Deserialize)]
struct ErrorBody {
    error_code: String,
    #[serde(default)]
    message: String,
}

/// A connection to one tracking server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    uri: String,
    username: Option<String>,
    password: Option<String>,
}

impl Client {
    pub fn new(settings: &TrackingSettings) -> Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(MlflowError::Client)?;
        Ok(Client {
            http,
            uri: settings.uri.trim_end_matches('/').to_string(),
            username: settings.username.clone(),
            password: settings.password.as_ref().map(|p| p.expose().to_string()),
        })
    }

    /// The experiment's id, creating the experiment when it does not exist yet.
    pub async fn experiment_id(&self, name: &str) -> Result<String> {
        match self.experiment_by_name(name).await {
            Err(e) if e.error_code() == Some("RESOURCE_DOES_NOT_EXIST") => {}
            found => return found,
        }
        let created: Result<CreatedExperiment> = self
            .send(
                "experiments/create",
                self.api(Method::POST, "experiments/create")
                    .json(&json!({ "name": name })),
            )
            .await;
        match created {
            Ok(created) => Ok(created.experiment_id),
            // Another process created it in between.
            Err(e) if e.error_code() == Some("RESOURCE_ALREADY_EXISTS") => {
                self.experiment_by_name(name).await
            }
            Err(e) => Err(e),
        }
    }

    async fn experiment_by_name(&self, name: &str) -> Result<String> {
        let found: ExperimentEnvelope = self
            .send(
                "experiments/get-by-name",
                self.api(Method::GET, "experiments/get-by-name")
                    .query(&[("experiment_name", name)]),
            )
            .await?;
        Ok(found.experiment.experiment_id)
    }

    pub async fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        start_time: i64,
        tags: &[Tag],
    ) -> Result<RunInfo> {
        let created: RunEnvelope = self
            .send(
                "runs/create",
                self.api(Method::POST, "runs/create").json(&json!({
                    "experiment_id": experiment_id,
                    "run_name": run_name,
                    "start_time": start_time,
                    "tags": tags,
                })),
            )
            .await?;
        Ok(created.run.info)
    }

    /// The run, or `None` when MLflow does not know it (deleted, or a different server).
    pub async fn run(&self, run_id: &str) -> Result<Option<RunInfo>> {
        let found: Result<RunEnvelope> = self
            .send(
                "runs/get",
                self.api(Method::GET, "runs/get")
                    .query(&[("run_id", run_id)]),
            )
            .await;
        match found {
            Ok(found) => Ok(Some(found.run.info)),
            Err(e) if e.error_code() == Some("RESOURCE_DOES_NOT_EXIST") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Logs parameters, metrics and tags, in as many requests as MLflow's limits require.
    pub async fn log_batch(
        &self,
        run_id: &str,
        params: &[Param],
        metrics: &[Metric],
        tags: &[Tag],
    ) -> Result<()> {
        let no_params: &[Param] = &[];
        let no_metrics: &[Metric] = &[];
        let no_tags: &[Tag] = &[];
        let batches = params
            .chunks(PARAMS_PER_BATCH)
            .map(|chunk| (chunk, no_metrics, no_tags))
            .chain(
                metrics
                    .chunks(METRICS_PER_BATCH)
                    .map(|chunk| (no_params, chunk, no_tags)),
            )
            .chain(
                tags.chunks(TAGS_PER_BATCH)
                    .map(|chunk| (no_params, no_metrics, chunk)),
            );
        for (params, metrics, tags) in batches {
            let _: Empty = self
                .send(
                    "runs/log-batch",
                    self.api(Method::POST, "runs/log-batch").json(&json!({
                        "run_id": run_id,
                        "params": params,
                        "metrics": metrics,
                        "tags": tags,
                    })),
                )
                .await?;
        }
        Ok(())
    }

    /// Uploads one file under the run's artifacts, at `path` (`model/model.icantkube`).
    pub async fn upload_artifact(
        &self,
        run: &RunInfo,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let location = proxied_artifact_path(&run.artifact_uri)
            .ok_or_else(|| MlflowError::ArtifactsNotServed(run.artifact_uri.clone()))?;
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{location}/{path}",
            self.uri
        );
        let request = self
            .authorized(self.http.request(Method::PUT, url))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes);
        let call = "mlflow-artifacts/artifacts (upload)";
        let response = request
            .send()
            .await
            .map_err(|source| MlflowError::Unreachable { call, source })?;
        // The proxy answers 200 with an empty body.
        if response.status().is_success() {
            Ok(())
        } else {
            Err(refusal(call, response).await)
        }
    }

    pub async fn end_run(&self, run_id: &str, status: RunStatus, end_time: i64) -> Result<()> {
        let _: Empty = self
            .send(
                "runs/update",
                self.api(Method::POST, "runs/update").json(&json!({
                    "run_id": run_id,
                    "status": status,
                    "end_time": end_time,
                })),
            )
            .await?;
        Ok(())
    }

    /// Creates the registered model unless it exists.
    pub async fn ensure_registered_model(&self, name: &str) -> Result<()> {
        let created: Result<Empty> = self
            .send(
                "registered-models/create",
                self.api(Method::POST, "registered-models/create")
                    .json(&json!({ "name": name })),
            )
            .await;
        match created {
            Err(e) if e.error_code() != Some("RESOURCE_ALREADY_EXISTS") => Err(e),
            _ => Ok(()),
        }
    }

    /// The version of the registered model that was made from this run, if any.
    pub async fn model_version_of_run(&self, name: &str, run_id: &str) -> Result<Option<String>> {
        // Registered model names and run ids here never contain quotes.
        let filter = format!("name='{name}' and run_id='{run_id}'");
        let found: ModelVersionSearch = self
            .send(
                "model-versions/search",
                self.api(Method::GET, "model-versions/search")
                    .query(&[("filter", filter)]),
            )
            .await?;
        Ok(found.model_versions.into_iter().next().map(|v| v.version))
    }

    /// Registers `source` as the model's next version; answers its number.
    pub async fn create_model_version(
        &self,
        name: &str,
        source: &str,
        run_id: &str,
    ) -> Result<String> {
        let created: ModelVersionEnvelope = self
            .send(
                "model-versions/create",
                self.api(Method::POST, "model-versions/create")
                    .json(&json!({
                        "name": name,
                        "source": source,
                        "run_id": run_id,
                    })),
            )
            .await?;
        Ok(created.model_version.version)
    }

    /// Points the alias at the version, moving it from any other version.
    pub async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<()> {
        let _: Empty = self
            .send(
                "registered-models/alias",
                self.api(Method::POST, "registered-models/alias")
                    .json(&json!({
                        "name": name,
                        "alias": alias,
                        "version": version,
                    })),
            )
            .await?;
        Ok(())
    }

    fn api(&self, method: Method, endpoint: &str) -> RequestBuilder {
        self.authorized(
            self.http
                .request(method, format!("{}/api/2.0/mlflow/{endpoint}", self.uri)),
        )
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.username {
            Some(username) => request.basic_auth(username, self.password.as_deref()),
            None => request,
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        call: &'static str,
        request: RequestBuilder,
    ) -> Result<T> {
        let response = request
            .send()
            .await
            .map_err(|source| MlflowError::Unreachable { call, source })?;
        if !response.status().is_success() {
            return Err(refusal(call, response).await);
        }
        let body = response
            .bytes()
            .await
            .map_err(|source| MlflowError::Unreachable { call, source })?;
        serde_json::from_slice(&body).map_err(|e| MlflowError::Unexpected {
            call,
            detail: format!("{e}: {}", excerpt(&body)),
        })
    }
}

/// The error MLflow answered, or the status and the start of the body when it is not MLflow's
/// JSON (a proxy in front of it, for example).
async fn refusal(call: &'static str, response: Response) -> MlflowError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(error) => MlflowError::Refused {
            call,
            status: status.as_u16(),
            error_code: error.error_code,
            message: error.message,
        },
        Err(_) => MlflowError::Refused {
            call,
            status: status.as_u16(),
            error_code: status
                .canonical_reason()
                .unwrap_or("unknown status")
                .to_string(),
            message: excerpt(&body),
        },
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The path under the artifact proxy for a run's `artifact_uri`: `mlflow-artifacts:/1/abc/artifacts`
/// and `mlflow-artifacts://host:port/1/abc/artifacts` both give `1/abc/artifacts`. Other schemes
/// (`s3://`, `file://`) are stores the client would have to reach itself.
pub fn proxied_artifact_path(artifact_uri: &str) -> Option<String> {
    let rest = artifact_uri.strip_prefix("mlflow-artifacts:")?;
    let path = match rest.strip_prefix("//") {
        Some(with_authority) => with_authority.split_once('/').map_or("", |(_, path)| path),
        None => rest,
    };
    Some(path.trim_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_paths_come_from_proxied_uris_only() {
        assert_eq!(
            proxied_artifact_path("mlflow-artifacts:/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(
            proxied_artifact_path("mlflow-artifacts://mlflow:5000/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(proxied_artifact_path("s3://bucket/1/abc/artifacts"), None);
    }
}
