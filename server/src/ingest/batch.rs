//! One batch of readings: the body format, parsing against the machine's schema, and writing
//! it in a transaction with each new reading scored by the machine's active model. The
//! writer (`writer.rs`) stages the batches of the ingest API and demo mode through here.

use std::time::Instant;

use axum::http::HeaderValue;

use crate::db;
use crate::db::machines::{LatestPrediction, Machine};
use crate::db::predictions::NewPrediction;
use crate::db::readings::{self, StoredBatch};
use crate::domain::{parse_csv_batch, parse_json_batch, status_of, BatchError, NewReading};
use crate::error::{ApiError, Error, Result};
use crate::ingest::scoring::ActiveModel;
use crate::metrics::Metrics;
use app::model::Status;
use ml::model::Driver;
use ml::Prediction;
use sqlx::{Any, Transaction};

/// The formats a batch may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Csv,
}

impl BodyFormat {
    /// From the request's `Content-Type`; anything else is refused with the accepted types.
    pub fn from_content_type(value: Option<&HeaderValue>) -> Result<BodyFormat, ApiError> {
        let media_type = value
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        match media_type.as_deref() {
            Some("application/json") => Ok(BodyFormat::Json),
            Some("text/csv") => Ok(BodyFormat::Csv),
            Some(other) => Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {other} is not accepted: send application/json or text/csv"
            ))),
            None => Err(ApiError::UnsupportedMediaType(
                "Content-Type is missing: send application/json or text/csv".into(),
            )),
        }
    }

    /// Parses and checks a whole body of at most `max_readings` against the machine's schema.
    pub fn parse(
        self,
        body: &[u8],
        machine: &Machine,
        now_ms: i64,
        max_readings: usize,
    ) -> Result<Vec<NewReading>, BatchError> {
        match self {
            BodyFormat::Json => parse_json_batch(body, &machine.schema, now_ms, max_readings),
            BodyFormat::Csv => parse_csv_batch(body, &machine.schema, now_ms, max_readings),
        }
    }
}

/// The newest reading's prediction, as the ingest API answers it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatestScore {
    pub model_version_id: i64,
    /// Milliseconds since the epoch, UTC.
    pub recorded_at: i64,
    #[serde(flatten)]
    pub prediction: Prediction,
    pub drivers: Vec<Driver>,
}

/// What ingesting a batch did.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub batch: StoredBatch,
    /// Readings scored by the active model.
    pub scored: usize,
    pub latest: Option<LatestScore>,
}

/// A batch written in a transaction not yet committed: what to answer once it is, and what to
/// count then.
pub(super) struct Staged {
    ingested: Ingested,
    profile: String,
    statuses: Vec<Status>,
}

impl Staged {
    /// Counts the batch in `metrics` once it is durable (a rolled-back batch counts nothing)
    /// and answers what was stored.
    pub(super) fn committed(self, metrics: &Metrics) -> Ingested {
        metrics.record_ingested(&self.profile, self.ingested.batch.stored);
        for status in self.statuses {
            metrics.record_prediction(status);
        }
        self.ingested
    }
}

/// Writes a validated batch for the machine in `tx` and scores its new readings with `active`,
/// the machine's active model; durable once `tx` commits.
pub(super) async fn stage(
    tx: &mut Transaction<'_, Any>,
    active: Option<&ActiveModel>,
    metrics: &Metrics,
    machine: &Machine,
    batch: &[NewReading],
) -> Result<Staged> {
    let newest = batch
        .iter()
        .max_by_key(|r| r.recorded_at)
        .ok_or_else(|| Error::Corrupt("an empty batch reached storage".into()))?;
    readings::begin_batch(tx, machine.id).await?;
    let fresh = readings::fresh(tx, machine.id, batch).await?;
    let summary = StoredBatch {
        stored: fresh.len(),
        duplicates: batch.len() - fresh.len(),
        latest_at: newest.recorded_at,
    };
    let Some(latest_fresh) = fresh.iter().copied().max_by_key(|r| r.recorded_at) else {
        return Ok(Staged {
            ingested: Ingested {
                batch: summary,
                scored: 0,
                latest: None,
            },
            profile: machine.profile.clone(),
            statuses: Vec::new(),
        });
    };

    let mut scores = Vec::new();
    if let Some(active) = active {
        let mut series = match active.window() {
            Some(window) => {
                let run =
                    readings::current_run(tx, machine.id, window.baseline, window.long).await?;
                Some(active.series(&run))
            }
            None => None,
        };
        // Only the model's work is timed: reading the run above is the database's.
        let scoring = Instant::now();
        scores = fresh.iter().map(|r| active.score(r, &mut series)).collect();
        metrics.record_inference(scoring.elapsed());
    }
    let ids = readings::insert(tx, machine.id, &fresh).await?;
    let mut latest = None;
    let mut latest_prediction = None;
    if let Some(active) = active {
        let newest_index = fresh
            .iter()
            .position(|r| std::ptr::eq(*r, latest_fresh))
            .expect("the newest fresh reading is fresh");
        let drivers = active.drivers(&scores[newest_index]);
        let life_unit = active.model.card.life_unit.clone();
        let rows: Vec<NewPrediction> = fresh
            .iter()
            .zip(&ids)
            .zip(&scores)
            .enumerate()
            .map(|(index, ((reading, id), scored))| {
                let p = &scored.prediction;
                NewPrediction {
                    reading_id: *id,
                    model_version_id: active.version_id,
                    recorded_at: reading.recorded_at,
                    status: p.status.as_str().to_string(),
                    failure_probability: p.failure_probability,
                    failure_mode: p.failure_mode.clone(),
                    mode_probability: p.mode_probability,
                    remaining_life: p.remaining_life,
                    remaining_life_low: p.remaining_life_low,
                    remaining_life_high: p.remaining_life_high,
                    drivers: (index == newest_index)
                        .then(|| serde_json::to_string(&drivers).expect("drivers serialise")),
                }
            })
            .collect();
        db::predictions::insert(tx, machine.id, &rows).await?;
        let p = &scores[newest_index].prediction;
        latest_prediction = Some(LatestPrediction {
            status: status_of(p.status),
            failure_probability: p.failure_probability,
            remaining_life: p.remaining_life,
            remaining_life_low: p.remaining_life_low,
            remaining_life_high: p.remaining_life_high,
            life_unit,
            failure_mode: p.failure_mode.clone(),
            mode_probability: p.mode_probability,
        });
        latest = Some(LatestScore {
            model_version_id: active.version_id,
            recorded_at: latest_fresh.recorded_at,
            prediction: p.clone(),
            drivers,
        });
    }
    db::machines::record_latest(
        tx,
        machine.id,
        latest_fresh.recorded_at,
        &latest_fresh.values,
        latest_prediction.as_ref(),
    )
    .await?;
    Ok(Staged {
        ingested: Ingested {
            batch: summary,
            scored: scores.len(),
            latest,
        },
        profile: machine.profile.clone(),
        statuses: scores
            .iter()
            .map(|scored| status_of(scored.prediction.status))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_matched_without_parameters_or_case() {
        let json = HeaderValue::from_static("Application/JSON; charset=utf-8");
        assert_eq!(
            BodyFormat::from_content_type(Some(&json)).unwrap(),
            BodyFormat::Json
        );
        let csv = HeaderValue::from_static("text/csv");
        assert_eq!(
            BodyFormat::from_content_type(Some(&csv)).unwrap(),
            BodyFormat::Csv
        );
    }

    #[test]
    fn other_or_missing_content_types_are_refused_naming_the_accepted_ones() {
        let xml = HeaderValue::from_static("application/xml");
        let error = BodyFormat::from_content_type(Some(&xml)).unwrap_err();
        assert!(error.to_string().contains("application/json or text/csv"));
        assert!(BodyFormat::from_content_type(None).is_err());
    }
}
