//! One batch of readings: the body format, parsing against the machine's schema, and writing
//! it in a transaction with each new reading scored by the machine's active model. The
//! writer (`writer.rs`) stages the batches of the ingest API and demo mode through here.

use std::time::Instant;

use axum::http::HeaderValue;

use crate::db;
use crate::db::alarms::Signal;
use crate::db::machines::{BatchRecord, LatestPrediction, LatestReading, Machine};
use crate::db::predictions::NewPrediction;
use crate::db::readings::{self, CountChange, StoredBatch};
use crate::db::writer_connection::WriteTransaction;
use crate::domain::{parse_csv_batch, parse_json_batch, status_of, BatchError, NewReading};
use crate::error::{ApiError, Error, Result};
use crate::ingest::scoring::{ActiveModel, Scored};
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

/// A machine's batch to write in a round, with the machine's active model.
pub(super) struct Pending<'a> {
    pub machine: &'a Machine,
    pub batch: &'a [NewReading],
    pub active: Option<&'a ActiveModel>,
}

/// Writes a round of validated batches, each for a different machine, in `tx`, and scores their
/// new readings with each machine's active model; durable once `tx` commits. Statements, not
/// rows, are what a write costs (each is a round trip to SQLite's worker thread), so the round
/// takes a fixed few for all its batches: the machines locked (MariaDB), retried readings
/// found, new readings inserted, their predictions inserted, and the machines' rows updated.
pub(super) async fn stage_round(
    tx: &mut WriteTransaction<'_>,
    metrics: &Metrics,
    round: &[Pending<'_>],
) -> Result<Vec<Staged>> {
    let newest_at = round
        .iter()
        .map(|p| p.batch.iter().map(|r| r.recorded_at).max())
        .collect::<Option<Vec<i64>>>()
        .ok_or_else(|| Error::Corrupt("an empty batch reached storage".into()))?;
    let machine_ids: Vec<i64> = round.iter().map(|p| p.machine.id).collect();
    tx.lock_machines(&machine_ids).await?;
    let batches: Vec<(i64, &[NewReading])> =
        round.iter().map(|p| (p.machine.id, p.batch)).collect();
    let fresh = readings::fresh(tx, &batches).await?;

    let mut scores = Vec::with_capacity(round.len());
    for (pending, fresh) in round.iter().zip(&fresh) {
        scores.push(match pending.active {
            Some(active) if !fresh.is_empty() => score(tx, metrics, pending, active, fresh).await?,
            _ => Vec::new(),
        });
    }
    let rows: Vec<(i64, &NewReading)> = round
        .iter()
        .zip(&fresh)
        .flat_map(|(pending, fresh)| fresh.iter().map(|r| (pending.machine.id, *r)))
        .collect();
    let ids = readings::insert(tx, &rows).await?;

    let mut predictions = Vec::new();
    let mut newest_readings = Vec::with_capacity(round.len());
    let mut alarming = Vec::new();
    let mut staged = Vec::with_capacity(round.len());
    let mut ids = ids.as_slice();
    for (((pending, fresh), scores), newest) in round.iter().zip(&fresh).zip(&scores).zip(newest_at)
    {
        let (these, rest) = ids.split_at(fresh.len());
        ids = rest;
        let mut done = Staged {
            ingested: Ingested {
                batch: StoredBatch {
                    stored: fresh.len(),
                    duplicates: pending.batch.len() - fresh.len(),
                    latest_at: newest,
                },
                scored: scores.len(),
                latest: None,
            },
            profile: pending.machine.profile.clone(),
            statuses: scores
                .iter()
                .map(|scored| status_of(scored.prediction.status))
                .collect(),
        };
        let Some(newest_fresh) = (0..fresh.len()).max_by_key(|&i| fresh[i].recorded_at) else {
            staged.push(done);
            continue;
        };
        let mut latest_prediction = None;
        if let Some(active) = pending.active {
            let drivers = active.drivers(&scores[newest_fresh]);
            predictions.extend(fresh.iter().zip(these).zip(scores).enumerate().map(
                |(index, ((reading, id), scored))| {
                    let p = &scored.prediction;
                    NewPrediction {
                        reading_id: *id,
                        machine_id: pending.machine.id,
                        model_version_id: active.version_id,
                        recorded_at: reading.recorded_at,
                        status: p.status.as_str().to_string(),
                        failure_probability: p.failure_probability,
                        failure_mode: p.failure_mode.clone(),
                        mode_probability: p.mode_probability,
                        remaining_life: p.remaining_life,
                        remaining_life_low: p.remaining_life_low,
                        remaining_life_high: p.remaining_life_high,
                        drivers: (index == newest_fresh)
                            .then(|| serde_json::to_string(&drivers).expect("drivers serialise")),
                    }
                },
            ));
            let p = &scores[newest_fresh].prediction;
            let latest = LatestPrediction {
                status: status_of(p.status),
                failure_probability: p.failure_probability,
                remaining_life: p.remaining_life,
                remaining_life_low: p.remaining_life_low,
                remaining_life_high: p.remaining_life_high,
                life_unit: active.model.card.life_unit.clone(),
                failure_mode: p.failure_mode.clone(),
                mode_probability: p.mode_probability,
            };
            if matches!(latest.status, Status::Warning | Status::Critical) {
                alarming.push(Alarming {
                    machine_id: pending.machine.id,
                    recorded_at: fresh[newest_fresh].recorded_at,
                    prediction: latest.clone(),
                    drivers: serde_json::to_string(&drivers).expect("drivers serialise"),
                    model_version_id: active.version_id,
                });
            }
            latest_prediction = Some(latest);
            done.ingested.latest = Some(LatestScore {
                model_version_id: active.version_id,
                recorded_at: fresh[newest_fresh].recorded_at,
                prediction: p.clone(),
                drivers,
            });
        }
        let counts = CountChange::of(fresh, these);
        newest_readings.push((
            pending.machine.id,
            fresh[newest_fresh],
            counts,
            latest_prediction,
        ));
        staged.push(done);
    }
    let records: Vec<BatchRecord<'_>> = newest_readings
        .iter()
        .map(|(machine_id, newest, counts, prediction)| BatchRecord {
            machine_id: *machine_id,
            counts: *counts,
            latest: LatestReading {
                recorded_at: newest.recorded_at,
                values: &newest.values,
                prediction: prediction.as_ref(),
            },
        })
        .collect();
    db::machines::record_batches(tx, &records).await?;
    db::predictions::insert(tx, &predictions).await?;
    let signals: Vec<Signal<'_>> = alarming.iter().map(Alarming::signal).collect();
    let announce = tx.announce_alarms;
    db::alarms::record(tx, &signals, announce).await?;
    Ok(staged)
}

/// A machine whose newest prediction in the round is warning or critical: what its alarm
/// records.
struct Alarming {
    machine_id: i64,
    recorded_at: i64,
    prediction: LatestPrediction,
    drivers: String,
    model_version_id: i64,
}

impl Alarming {
    fn signal(&self) -> Signal<'_> {
        let p = &self.prediction;
        Signal {
            machine_id: self.machine_id,
            recorded_at: self.recorded_at,
            severity: p.status.as_str(),
            risk_order: p.risk_order(),
            failure_probability: p.failure_probability,
            remaining_life: p.remaining_life,
            life_unit: p.life_unit.as_deref(),
            failure_mode: p.failure_mode.as_deref(),
            drivers: Some(&self.drivers),
            model_version_id: self.model_version_id,
        }
    }
}

/// Scores a batch's new readings with the machine's active model, reading the machine's current
/// run first when the model's features span a window of it.
async fn score(
    tx: &mut Transaction<'_, Any>,
    metrics: &Metrics,
    pending: &Pending<'_>,
    active: &ActiveModel,
    fresh: &[&NewReading],
) -> Result<Vec<Scored>> {
    let mut series = match active.window() {
        Some(window) => {
            let run =
                readings::current_run(tx, pending.machine.id, window.baseline, window.long).await?;
            Some(active.series(&run))
        }
        None => None,
    };
    // Only the model's work is timed: reading the run above is the database's.
    let scoring = Instant::now();
    let scores = fresh.iter().map(|r| active.score(r, &mut series)).collect();
    metrics.record_inference(scoring.elapsed());
    Ok(scores)
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
