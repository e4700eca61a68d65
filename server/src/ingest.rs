//! Taking in readings: the body format, parsing against the machine's schema, and storing.
//! The ingest API and demo mode both store through here.

use axum::http::HeaderValue;

use crate::db::machines::Machine;
use crate::db::readings::{self, StoredBatch};
use crate::db::Database;
use crate::domain::{parse_csv_batch, parse_json_batch, BatchError, NewReading};
use crate::error::{ApiError, Result};

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

    /// Parses and checks a whole body against the machine's schema.
    pub fn parse(
        self,
        body: &[u8],
        machine: &Machine,
        now_ms: i64,
    ) -> Result<Vec<NewReading>, BatchError> {
        match self {
            BodyFormat::Json => parse_json_batch(body, &machine.schema, now_ms),
            BodyFormat::Csv => parse_csv_batch(body, &machine.schema, now_ms),
        }
    }
}

/// Stores a validated batch for the machine; durable when this returns.
pub async fn store(db: &Database, machine: &Machine, batch: &[NewReading]) -> Result<StoredBatch> {
    readings::store_batch(db.pool(), machine.id, batch).await
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
