//! Readings as machines send them: parsed from JSON (`json_batch`) or CSV (`csv_batch`) and
//! checked against the machine's sensor schema before anything is stored. The checks every
//! field goes through whatever the format live here.

use std::collections::HashMap;
use std::fmt;

mod csv_batch;
mod json_batch;

pub use csv_batch::parse_csv_batch;
pub use json_batch::parse_json_batch;

use crate::domain::time::parse_rfc3339;

/// 2000-01-01T00:00:00Z: anything earlier is a clock that was never set.
pub const MIN_TIMESTAMP_MS: i64 = 946_684_800_000;
/// How far ahead of the server's clock a reading may claim to be.
pub const MAX_FUTURE_SKEW_MS: i64 = 24 * 3_600_000;
/// Errors listed in one answer; the rest are counted, not listed.
const MAX_LISTED_ERRORS: usize = 50;
const MAX_SEQ_LEN: usize = 128;
const MAX_MODE_LEN: usize = 32;

/// Labels known for a reading (used later for retraining).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels {
    pub failure: Option<bool>,
    /// For example `HDF`.
    pub failure_mode: Option<String>,
    /// Observed time (hours, or cycles for run-to-failure units) until the machine failed.
    pub time_to_failure: Option<f64>,
}

/// A validated reading, values in schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReading {
    /// Milliseconds since the epoch, UTC.
    pub recorded_at: i64,
    /// The client's id for this reading, so a retried batch stores nothing twice.
    pub client_seq: Option<String>,
    pub values: Vec<f64>,
    pub labels: Labels,
}

/// One problem with one field of one reading.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldError {
    /// 1-based position of the reading in the batch.
    pub reading: usize,
    /// 1-based line of the CSV body (CSV only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column of the CSV body (CSV only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The field, such as `values.torque` (JSON) or `torque` (CSV).
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(
                f,
                "line {line}, column {column} ({}): {}",
                self.field, self.message
            ),
            (Some(line), None) => write!(f, "line {line} ({}): {}", self.field, self.message),
            _ => write!(
                f,
                "reading {}, field {:?}: {}",
                self.reading, self.field, self.message
            ),
        }
    }
}

/// Why a batch was refused; nothing of it is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchError {
    /// The body is not well-formed JSON or CSV.
    Malformed(String),
    /// The body holds no reading.
    Empty,
    /// The body holds more readings than a batch may.
    TooMany { limit: usize },
    /// Some readings do not fit the schema; `total` counts all problems, `errors` lists the
    /// first ones.
    Invalid {
        errors: Vec<FieldError>,
        total: usize,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Malformed(message) => f.write_str(message),
            BatchError::Empty => f.write_str("the batch holds no reading"),
            BatchError::TooMany { limit } => write!(
                f,
                "a batch holds at most {limit} readings (ICANTKUBE_MAX_BATCH_READINGS): send smaller batches"
            ),
            BatchError::Invalid { errors, total } => {
                let first = errors.first().map(ToString::to_string).unwrap_or_default();
                if *total > 1 {
                    write!(f, "{first} (and {} more problems)", total - 1)
                } else {
                    f.write_str(&first)
                }
            }
        }
    }
}

/// Collects field errors, listing the first few.
#[derive(Default)]
struct Problems {
    listed: Vec<FieldError>,
    total: usize,
}

impl Problems {
    fn push(&mut self, error: FieldError) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed.push(error);
        }
    }

    fn into_result(self, readings: Vec<NewReading>) -> Result<Vec<NewReading>, BatchError> {
        if self.total > 0 {
            return Err(BatchError::Invalid {
                errors: self.listed,
                total: self.total,
            });
        }
        if readings.is_empty() {
            return Err(BatchError::Empty);
        }
        Ok(readings)
    }
}

/// Where a field sits, for error messages.
#[derive(Clone, Copy)]
struct Position {
    reading: usize,
    line: Option<u64>,
}

impl Position {
    fn error(self, column: Option<usize>, field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            reading: self.reading,
            line: self.line,
            column,
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Checks a timestamp against the plausible range.
fn check_time(ms: i64, now_ms: i64) -> Result<i64, String> {
    if ms < MIN_TIMESTAMP_MS {
        return Err(format!(
            "{} is before 2000-01-01: the clock looks unset",
            crate::domain::time::to_rfc3339(ms)
        ));
    }
    if ms > now_ms + MAX_FUTURE_SKEW_MS {
        return Err(format!(
            "{} is more than 24 hours ahead of the server's clock",
            crate::domain::time::to_rfc3339(ms)
        ));
    }
    Ok(ms)
}

/// RFC 3339 text, or Unix seconds as a number.
fn parse_time_text(text: &str) -> Result<i64, String> {
    parse_rfc3339(text)
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 time such as 2026-11-27T10:15:00Z"))
}

fn parse_time_seconds(seconds: f64) -> Result<i64, String> {
    if !seconds.is_finite() || seconds.abs() > 1e12 {
        return Err(format!("{seconds} is not a plausible Unix time in seconds"));
    }
    Ok((seconds * 1000.0).round() as i64)
}

fn check_seq(seq: String) -> Result<String, String> {
    if seq.is_empty() || seq.len() > MAX_SEQ_LEN {
        return Err(format!("must be 1 to {MAX_SEQ_LEN} characters"));
    }
    // A NUL, a newline or an escape sequence would end up in logs, exports and terminals.
    if seq.chars().any(char::is_control) {
        return Err(format!("{seq:?} holds a control character"));
    }
    Ok(seq)
}

fn check_mode(mode: &str) -> Result<Option<String>, String> {
    let mode = mode.trim();
    if mode.is_empty() {
        return Ok(None);
    }
    if mode.len() > MAX_MODE_LEN
        || !mode
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{mode:?} is not a failure mode name (letters, digits, '_' or '-', at most {MAX_MODE_LEN})"
        ));
    }
    Ok(Some(mode.to_string()))
}

fn check_time_to_failure(value: f64) -> Result<f64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{value} is not a finite, non-negative duration"))
    }
}

/// Refuses a sequence id that appears twice in one batch.
fn check_unique_seqs(readings: &[NewReading], positions: &[Position], problems: &mut Problems) {
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (reading, position) in readings.iter().zip(positions) {
        if let Some(seq) = reading.client_seq.as_deref() {
            if let Some(first) = first_seen.insert(seq, position.reading) {
                problems.push(position.error(
                    None,
                    "seq",
                    format!("{seq:?} already used by reading {first} of this batch"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SensorSchema;
    use app::model::Sensor;

    const NOW: i64 = 1_796_000_000_000;
    const LIMIT: usize = 100;

    fn schema() -> SensorSchema {
        SensorSchema::parse(
            ["air_temperature", "torque"]
                .into_iter()
                .map(|key| Sensor::new(key, key, ""))
                .collect(),
        )
        .unwrap()
    }

    fn json(body: &str) -> Result<Vec<NewReading>, BatchError> {
        parse_json_batch(body.as_bytes(), &schema(), NOW, LIMIT)
    }

    fn csv(body: &str) -> Result<Vec<NewReading>, BatchError> {
        parse_csv_batch(body.as_bytes(), &schema(), NOW, LIMIT)
    }

    fn first_error(result: Result<Vec<NewReading>, BatchError>) -> FieldError {
        match result {
            Err(BatchError::Invalid { errors, .. }) => errors[0].clone(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_single_json_reading_keeps_schema_order_and_labels() {
        let readings = json(
            r#"{"timestamp":"2026-11-20T00:00:00Z","seq":7,"values":{"torque":40.5,"air_temperature":300.1},"failure":1,"failure_mode":"HDF"}"#,
        )
        .unwrap();
        assert_eq!(readings.len(), 1);
        assert_eq!(readings[0].values, vec![300.1, 40.5]);
        assert_eq!(readings[0].client_seq.as_deref(), Some("7"));
        assert_eq!(readings[0].labels.failure, Some(true));
        assert_eq!(readings[0].labels.failure_mode.as_deref(), Some("HDF"));
        assert_eq!(
            readings[0].recorded_at,
            parse_rfc3339("2026-11-20T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn a_reading_without_timestamp_takes_the_server_time() {
        let readings = json(r#"[{"values":{"torque":1,"air_temperature":2}}]"#).unwrap();
        assert_eq!(readings[0].recorded_at, NOW);
    }

    #[test]
    fn json_errors_name_the_reading_and_the_field() {
        let error = first_error(json(
            r#"[{"values":{"torque":1,"air_temperature":2}},{"values":{"torque":"high","air_temperature":2}}]"#,
        ));
        assert_eq!(error.reading, 2);
        assert_eq!(error.field, "values.torque");
        assert!(error.to_string().contains("reading 2"), "{error}");
    }

    #[test]
    fn unknown_and_missing_sensors_are_refused() {
        let unknown = first_error(json(
            r#"{"values":{"torque":1,"air_temperature":2,"humidity":3}}"#,
        ));
        assert_eq!(unknown.field, "values.humidity");
        let missing = first_error(json(r#"{"values":{"torque":1}}"#));
        assert_eq!(missing.field, "values.air_temperature");
        assert!(missing.message.contains("missing"));
    }

    #[test]
    fn absurd_and_unparseable_timestamps_are_refused() {
        let old = first_error(json(
            r#"{"timestamp":"1970-01-02T00:00:00Z","values":{"torque":1,"air_temperature":2}}"#,
        ));
        assert_eq!(old.field, "timestamp");
        let future = first_error(json(&format!(
            r#"{{"timestamp":{},"values":{{"torque":1,"air_temperature":2}}}}"#,
            (NOW + 2 * MAX_FUTURE_SKEW_MS) / 1000
        )));
        assert!(future.message.contains("ahead"), "{}", future.message);
        let garbage = first_error(json(
            r#"{"timestamp":"yesterday","values":{"torque":1,"air_temperature":2}}"#,
        ));
        assert!(garbage.message.contains("RFC 3339"));
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        match json("[{\"values\":\n{\"torque\": 1,,}}]") {
            Err(BatchError::Malformed(message)) => {
                assert!(message.contains("line 2"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_batch_over_the_reading_limit_is_refused_naming_the_limit() {
        let one = r#"{"values":{"torque":1,"air_temperature":2}}"#;
        let parse_json = |n: usize, tail: &str| {
            let body = format!("[{}{tail}", vec![one; n].join(","));
            parse_json_batch(body.as_bytes(), &schema(), NOW, 3)
        };
        assert_eq!(parse_json(3, "]").unwrap().len(), 3);
        assert!(matches!(
            parse_json(4, "]"),
            Err(BatchError::TooMany { limit: 3 })
        ));
        // Refused at the first reading over: what follows is never read.
        assert!(matches!(
            parse_json(4, ", nonsense"),
            Err(BatchError::TooMany { limit: 3 })
        ));
        let parse_csv = |n: usize| {
            let body = format!("torque,air_temperature\n{}", "1,2\n".repeat(n));
            parse_csv_batch(body.as_bytes(), &schema(), NOW, 3)
        };
        assert_eq!(parse_csv(3).unwrap().len(), 3);
        let error = parse_csv(4).unwrap_err();
        assert!(matches!(error, BatchError::TooMany { limit: 3 }));
        assert!(error.to_string().contains("at most 3 readings"), "{error}");
    }

    #[test]
    fn a_json_body_that_is_not_readings_says_what_it_got() {
        for (body, kind) in [("42", "a number"), ("\"x\"", "a string"), ("null", "null")] {
            match json(body) {
                Err(BatchError::Malformed(message)) => assert!(message.contains(kind), "{message}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            json(r#"{"values":{"torque":1,"air_temperature":2}} x"#),
            Err(BatchError::Malformed(_))
        ));
    }

    #[test]
    fn an_empty_array_is_an_empty_batch() {
        assert_eq!(json("[]"), Err(BatchError::Empty));
        assert_eq!(csv("torque,air_temperature\n"), Err(BatchError::Empty));
    }

    #[test]
    fn a_sequence_id_repeated_within_a_batch_is_refused() {
        let error = first_error(json(
            r#"[{"seq":"a","values":{"torque":1,"air_temperature":2}},{"seq":"a","values":{"torque":1,"air_temperature":2}}]"#,
        ));
        assert_eq!(error.reading, 2);
        assert!(error.message.contains("reading 1"));
    }

    #[test]
    fn a_key_given_twice_in_one_object_is_malformed_at_any_depth() {
        for body in [
            r#"{"values":{"torque":1,"air_temperature":2},"values":{"torque":3,"air_temperature":4}}"#,
            r#"[{"seq":"a","seq":"b","values":{"torque":1,"air_temperature":2}}]"#,
            r#"{"values":{"torque":1,"torque":5,"air_temperature":2}}"#,
        ] {
            match json(body) {
                Err(BatchError::Malformed(message)) => {
                    assert!(message.contains("appears twice"), "{message}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn sequence_ids_with_control_characters_are_refused() {
        for seq in [
            r#""a\u0000b""#,
            r#""gw1\n2""#,
            r#""\u001b[2J""#,
            r#""\u007f""#,
        ] {
            let error = first_error(json(&format!(
                r#"{{"seq":{seq},"values":{{"torque":1,"air_temperature":2}}}}"#
            )));
            assert_eq!(error.field, "seq");
            assert!(error.message.contains("control character"), "{error}");
        }
        let error = first_error(csv("seq,torque,air_temperature\na\u{0}b,1,2\n"));
        assert_eq!((error.line, error.column), (Some(2), Some(1)));
    }

    #[test]
    fn a_csv_column_given_twice_is_refused_naming_it() {
        for column in [
            "air_temperature",
            "timestamp",
            "seq",
            "failure",
            "failure_mode",
        ] {
            let body = format!("{column},torque,{column},air_temperature\n1,1,2,1\n");
            let error = first_error(csv(&body));
            assert_eq!((error.line, error.column), (Some(1), Some(3)), "{column}");
            assert_eq!(error.field, column);
            assert!(error.message.contains("twice"), "{error}");
        }
    }

    #[test]
    fn csv_columns_may_come_in_any_order_with_optional_fields() {
        let readings = csv(
            "seq,torque,timestamp,air_temperature,failure\n1,40,2026-11-20T00:00:00Z,300,0\n2,41,,301,\n",
        )
        .unwrap();
        assert_eq!(readings.len(), 2);
        assert_eq!(readings[1].values, vec![301.0, 41.0]);
        assert_eq!(readings[1].recorded_at, NOW);
        assert_eq!(readings[0].labels.failure, Some(false));
        assert_eq!(readings[1].labels.failure, None);
    }

    #[test]
    fn finite_values_beyond_physical_sense_are_refused_naming_the_field() {
        // Two such readings once made the machine's chart range infinite.
        let error = first_error(json(
            r#"[{"values":{"torque":1,"air_temperature":1e308}},{"values":{"torque":1,"air_temperature":-1e308}}]"#,
        ));
        assert_eq!(
            (error.reading, error.field.as_str()),
            (1, "values.air_temperature")
        );
        assert!(
            error.message.contains("beyond any physical reading"),
            "{error}"
        );
        let error = first_error(csv("air_temperature,torque\n300,-1e308\n"));
        assert_eq!((error.line, error.column), (Some(2), Some(2)));
        assert!(
            error.message.contains("beyond any physical reading"),
            "{error}"
        );
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let error = first_error(csv("air_temperature,torque\n300,40\n301,NaN\n"));
        assert_eq!((error.line, error.column), (Some(3), Some(2)));
        assert_eq!(error.field, "torque");
        assert_eq!(
            error.to_string(),
            "line 3, column 2 (torque): expected a finite number, got \"NaN\""
        );
    }

    #[test]
    fn csv_header_problems_name_the_column() {
        let unknown = first_error(csv("air_temperature,torque,humidity\n1,2,3\n"));
        assert_eq!((unknown.line, unknown.column), (Some(1), Some(3)));
        let missing = first_error(csv("air_temperature\n1\n"));
        assert_eq!(missing.field, "torque");
    }

    #[test]
    fn a_ragged_csv_row_is_malformed_with_its_line() {
        match csv("air_temperature,torque\n1,2\n3\n") {
            Err(BatchError::Malformed(message)) => {
                assert!(message.contains("line 3"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
