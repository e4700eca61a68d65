//! The simulator's HTTP client: a real client of the ingest API, with retries.

use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::configuration::Secret;
use crate::domain::profiles::Profile;

const MAX_ATTEMPTS: u32 = 6;

/// Talks to one icantkube over HTTP.
#[derive(Clone)]
pub struct IngestClient {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    admin_password: Option<Secret>,
}

/// What the service answered to a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Posted {
    pub stored: u64,
    pub duplicates: u64,
    /// Attempts that failed and were retried.
    pub retries: u32,
}

impl IngestClient {
    pub fn new(
        base: &str,
        token: Option<Secret>,
        admin_password: Option<Secret>,
    ) -> anyhow::Result<IngestClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("icantkube-simulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("Failed to build the HTTP client")?;
        Ok(IngestClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
            admin_password,
        })
    }

    /// Registers the machine unless the target already has it.
    pub async fn ensure_machine(
        &self,
        name: &str,
        profile: Profile,
        attributes: &[(String, String)],
    ) -> anyhow::Result<()> {
        let url = format!("{}/api/v1/machines/{name}", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("Failed to reach {url}"))?;
        match response.status() {
            status if status.is_success() => return Ok(()),
            StatusCode::NOT_FOUND => {}
            status => bail!(
                "GET {url} answered {status}: {}",
                error_text(response).await
            ),
        }
        let Some(password) = &self.admin_password else {
            bail!(
                "machine {name} does not exist on {}; pass --admin-password (or set \
                 ICANTKUBE_ADMIN_PASSWORD) to register the simulated machines",
                self.base
            );
        };
        let attributes: serde_json::Map<String, Value> = attributes
            .iter()
            .map(|(key, value)| (key.clone(), json!(value)))
            .collect();
        let body = json!({
            "name": name,
            "display_name": format!("Simulated {name}"),
            "profile": profile.name(),
            "attributes": attributes,
        });
        let url = format!("{}/api/v1/machines", self.base);
        let response = self
            .http
            .post(&url)
            .basic_auth("admin", Some(password.expose()))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("Failed to reach {url}"))?;
        if !response.status().is_success() {
            bail!(
                "registering machine {name} failed with {}: {}",
                response.status(),
                error_text(response).await
            );
        }
        Ok(())
    }

    /// Posts one batch, retrying connection failures, 429 and 5xx with backoff; a 4xx other
    /// than 429 is the caller's mistake and is returned at once.
    pub async fn post_readings(
        &self,
        machine: &str,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> anyhow::Result<Posted> {
        let url = format!("{}/api/v1/machines/{machine}/readings", self.base);
        let mut delay = Duration::from_millis(200);
        let mut retries = 0;
        loop {
            let mut request = self
                .http
                .post(&url)
                .header(header::CONTENT_TYPE, content_type)
                .body(body.clone());
            if let Some(token) = &self.token {
                request = request.bearer_auth(token.expose());
            }
            let outcome = request.send().await;
            let retry_reason = match outcome {
                Ok(response) if response.status().is_success() => {
                    let answer: Value = response
                        .json()
                        .await
                        .context("Failed to read the ingest answer")?;
                    return Ok(Posted {
                        stored: answer["stored"].as_u64().unwrap_or_default(),
                        duplicates: answer["duplicates"].as_u64().unwrap_or_default(),
                        retries,
                    });
                }
                Ok(response)
                    if response.status() == StatusCode::TOO_MANY_REQUESTS
                        || response.status().is_server_error() =>
                {
                    format!("{} {}", response.status(), error_text(response).await)
                }
                Ok(response) => bail!(
                    "POST {url} was refused with {}: {}",
                    response.status(),
                    error_text(response).await
                ),
                Err(error) => error.to_string(),
            };
            retries += 1;
            if retries >= MAX_ATTEMPTS {
                bail!("POST {url} failed {retries} times, last: {retry_reason}");
            }
            tracing::debug!(%url, retries, %retry_reason, "retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

/// The service's error message, or the raw body.
async fn error_text(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or(text)
}
