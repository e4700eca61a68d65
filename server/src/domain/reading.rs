//! Readings as machines send them: parsed from JSON or CSV and checked against the machine's
//! sensor schema before anything is stored.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use super::sensor_schema::{SensorSchema, RESERVED_COLUMNS};
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

/// Parses a JSON body: one reading object, or an array of them.
///
/// A reading is `{"timestamp": "...", "seq": "...", "values": {"torque": 42.1, ...},
/// "failure": 0, "failure_mode": "HDF", "time_to_failure": 12.5}`; only `values` is required.
pub fn parse_json_batch(
    body: &[u8],
    schema: &SensorSchema,
    now_ms: i64,
) -> Result<Vec<NewReading>, BatchError> {
    let document: Value = serde_json::from_slice(body).map_err(|e| {
        BatchError::Malformed(format!(
            "malformed JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let items = match document {
        Value::Array(items) => items,
        Value::Object(object) => vec![Value::Object(object)],
        other => {
            return Err(BatchError::Malformed(format!(
                "expected a reading object or an array of them, got {}",
                json_kind(&other)
            )))
        }
    };
    let mut problems = Problems::default();
    let mut readings = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let position = Position {
            reading: index + 1,
            line: None,
        };
        match item {
            Value::Object(object) => {
                if let Some(reading) = json_reading(object, schema, now_ms, position, &mut problems)
                {
                    readings.push(reading);
                    positions.push(position);
                }
            }
            other => problems.push(position.error(
                None,
                "",
                format!("expected a reading object, got {}", json_kind(&other)),
            )),
        }
    }
    check_unique_seqs(&readings, &positions, &mut problems);
    problems.into_result(readings)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_reading(
    object: Map<String, Value>,
    schema: &SensorSchema,
    now_ms: i64,
    at: Position,
    problems: &mut Problems,
) -> Option<NewReading> {
    let before = problems.total;
    let mut recorded_at = now_ms;
    let mut client_seq = None;
    let mut values: Vec<Option<f64>> = vec![None; schema.len()];
    let mut labels = Labels::default();
    let mut has_values = false;

    for (key, value) in object {
        match key.as_str() {
            "timestamp" => {
                let parsed = match &value {
                    Value::Null => Ok(now_ms),
                    Value::String(text) => parse_time_text(text),
                    Value::Number(n) => parse_time_seconds(n.as_f64().unwrap_or(f64::NAN)),
                    other => Err(format!(
                        "expected an RFC 3339 string or Unix seconds, got {}",
                        json_kind(other)
                    )),
                }
                .and_then(|ms| check_time(ms, now_ms));
                match parsed {
                    Ok(ms) => recorded_at = ms,
                    Err(message) => problems.push(at.error(None, "timestamp", message)),
                }
            }
            "seq" => {
                let parsed = match value {
                    Value::String(text) => check_seq(text),
                    Value::Number(n) if n.is_u64() => Ok(n.to_string()),
                    other => Err(format!(
                        "expected a string or a non-negative integer, got {}",
                        json_kind(&other)
                    )),
                };
                match parsed {
                    Ok(seq) => client_seq = Some(seq),
                    Err(message) => problems.push(at.error(None, "seq", message)),
                }
            }
            "values" => {
                has_values = true;
                match value {
                    Value::Object(sensors) => {
                        json_values(sensors, schema, at, &mut values, problems)
                    }
                    other => problems.push(at.error(
                        None,
                        "values",
                        format!(
                            "expected an object of sensor values, got {}",
                            json_kind(&other)
                        ),
                    )),
                }
            }
            "failure" => match value {
                Value::Null => {}
                Value::Bool(flag) => labels.failure = Some(flag),
                Value::Number(n) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => {
                    labels.failure = Some(n.as_u64() == Some(1))
                }
                other => problems.push(at.error(
                    None,
                    "failure",
                    format!("expected 0, 1, true or false, got {other}"),
                )),
            },
            "failure_mode" => match value {
                Value::Null => {}
                Value::String(text) => match check_mode(&text) {
                    Ok(mode) => labels.failure_mode = mode,
                    Err(message) => problems.push(at.error(None, "failure_mode", message)),
                },
                other => problems.push(at.error(
                    None,
                    "failure_mode",
                    format!("expected a string, got {}", json_kind(&other)),
                )),
            },
            "time_to_failure" => match value {
                Value::Null => {}
                Value::Number(n) => match check_time_to_failure(n.as_f64().unwrap_or(f64::NAN)) {
                    Ok(v) => labels.time_to_failure = Some(v),
                    Err(message) => problems.push(at.error(None, "time_to_failure", message)),
                },
                other => problems.push(at.error(
                    None,
                    "time_to_failure",
                    format!("expected a number, got {}", json_kind(&other)),
                )),
            },
            unknown => problems.push(at.error(
                None,
                unknown,
                format!(
                    "unknown field; a reading has {} (sensor values go inside \"values\")",
                    RESERVED_COLUMNS
                        .iter()
                        .chain(std::iter::once(&"values"))
                        .map(|name| format!("{name:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if !has_values {
        problems.push(at.error(
            None,
            "values",
            format!(
                "missing: a reading needs \"values\" with {}",
                schema.keys().join(", ")
            ),
        ));
        return None;
    }
    for (sensor, value) in schema.sensors().iter().zip(&values) {
        if value.is_none() && problems.total == before {
            problems.push(at.error(
                None,
                &format!("values.{}", sensor.key),
                "missing sensor value",
            ));
        }
    }
    if problems.total > before {
        return None;
    }
    Some(NewReading {
        recorded_at,
        client_seq,
        values: values.into_iter().map(|v| v.unwrap_or_default()).collect(),
        labels,
    })
}

fn json_values(
    sensors: Map<String, Value>,
    schema: &SensorSchema,
    at: Position,
    values: &mut [Option<f64>],
    problems: &mut Problems,
) {
    for (key, value) in sensors {
        let field = format!("values.{key}");
        let Some(index) = schema.index_of(&key) else {
            problems.push(at.error(
                None,
                &field,
                format!(
                    "unknown sensor; this machine has {}",
                    schema.keys().join(", ")
                ),
            ));
            continue;
        };
        match value.as_f64() {
            Some(number) if number.is_finite() => values[index] = Some(number),
            _ => problems.push(at.error(
                None,
                &field,
                format!("expected a finite number, got {value}"),
            )),
        }
    }
}

/// What each CSV column holds.
#[derive(Clone, Copy)]
enum CsvColumn {
    Sensor(usize),
    Timestamp,
    Seq,
    Failure,
    FailureMode,
    TimeToFailure,
}

/// Parses a CSV body: a header of sensor keys (any order), optionally `timestamp`, `seq`,
/// `failure`, `failure_mode` and `time_to_failure`, then one reading per line.
pub fn parse_csv_batch(
    body: &[u8],
    schema: &SensorSchema,
    now_ms: i64,
) -> Result<Vec<NewReading>, BatchError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| BatchError::Malformed(format!("malformed CSV header: {e}")))?
        .clone();
    let columns = csv_columns(&header, schema)?;

    let mut problems = Problems::default();
    let mut readings = Vec::new();
    let mut positions = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut index = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or_default();
                return Err(BatchError::Malformed(format!(
                    "malformed CSV at line {line}: {}",
                    csv_error_message(&e)
                )));
            }
        }
        index += 1;
        let position = Position {
            reading: index,
            line: record.position().map(|p| p.line()),
        };
        if let Some(reading) = csv_reading(
            &record,
            &header,
            &columns,
            schema,
            now_ms,
            position,
            &mut problems,
        ) {
            readings.push(reading);
            positions.push(position);
        }
    }
    check_unique_seqs(&readings, &positions, &mut problems);
    problems.into_result(readings)
}

fn csv_error_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8".to_string(),
        _ => error.to_string(),
    }
}

fn csv_columns(
    header: &csv::StringRecord,
    schema: &SensorSchema,
) -> Result<Vec<CsvColumn>, BatchError> {
    let header_error = |column: usize, field: &str, message: String| BatchError::Invalid {
        errors: vec![FieldError {
            reading: 0,
            line: Some(1),
            column: Some(column),
            field: field.to_string(),
            message,
        }],
        total: 1,
    };
    let mut columns = Vec::with_capacity(header.len());
    let mut seen = vec![false; schema.len()];
    for (index, name) in header.iter().enumerate() {
        let column = match name {
            "timestamp" => CsvColumn::Timestamp,
            "seq" => CsvColumn::Seq,
            "failure" => CsvColumn::Failure,
            "failure_mode" => CsvColumn::FailureMode,
            "time_to_failure" => CsvColumn::TimeToFailure,
            key => match schema.index_of(key) {
                Some(sensor) if seen[sensor] => {
                    return Err(header_error(index + 1, key, "column appears twice".into()))
                }
                Some(sensor) => {
                    seen[sensor] = true;
                    CsvColumn::Sensor(sensor)
                }
                None => {
                    return Err(header_error(
                        index + 1,
                        key,
                        format!(
                            "unknown column; this machine has {} (and optionally {})",
                            schema.keys().join(", "),
                            RESERVED_COLUMNS.join(", ")
                        ),
                    ))
                }
            },
        };
        columns.push(column);
    }
    if let Some(missing) = seen.iter().position(|present| !present) {
        let key = &schema.sensors()[missing].key;
        return Err(header_error(
            header.len() + 1,
            key,
            "missing column: every sensor of the machine needs one".into(),
        ));
    }
    Ok(columns)
}

fn csv_reading(
    record: &csv::StringRecord,
    header: &csv::StringRecord,
    columns: &[CsvColumn],
    schema: &SensorSchema,
    now_ms: i64,
    at: Position,
    problems: &mut Problems,
) -> Option<NewReading> {
    let before = problems.total;
    let mut values = vec![0.0; schema.len()];
    let mut recorded_at = now_ms;
    let mut client_seq = None;
    let mut labels = Labels::default();
    for (index, (cell, column)) in record.iter().zip(columns).enumerate() {
        let field = header.get(index).unwrap_or_default();
        let column_no = Some(index + 1);
        let result: Result<(), String> = match column {
            CsvColumn::Sensor(sensor) => match cell.parse::<f64>() {
                Ok(number) if number.is_finite() => {
                    values[*sensor] = number;
                    Ok(())
                }
                _ if cell.is_empty() => Err("missing sensor value".to_string()),
                _ => Err(format!("expected a finite number, got {cell:?}")),
            },
            CsvColumn::Timestamp if cell.is_empty() => Ok(()),
            CsvColumn::Timestamp => {
                let parsed = match cell.parse::<f64>() {
                    Ok(seconds) => parse_time_seconds(seconds),
                    Err(_) => parse_time_text(cell),
                };
                parsed
                    .and_then(|ms| check_time(ms, now_ms))
                    .map(|ms| recorded_at = ms)
            }
            CsvColumn::Seq if cell.is_empty() => Ok(()),
            CsvColumn::Seq => check_seq(cell.to_string()).map(|seq| client_seq = Some(seq)),
            CsvColumn::Failure => match cell {
                "" => Ok(()),
                "0" | "false" => {
                    labels.failure = Some(false);
                    Ok(())
                }
                "1" | "true" => {
                    labels.failure = Some(true);
                    Ok(())
                }
                other => Err(format!("expected 0, 1, true or false, got {other:?}")),
            },
            CsvColumn::FailureMode => check_mode(cell).map(|mode| labels.failure_mode = mode),
            CsvColumn::TimeToFailure if cell.is_empty() => Ok(()),
            CsvColumn::TimeToFailure => match cell.parse::<f64>() {
                Ok(value) => {
                    check_time_to_failure(value).map(|value| labels.time_to_failure = Some(value))
                }
                Err(_) => Err(format!("expected a number, got {cell:?}")),
            },
        };
        if let Err(message) = result {
            problems.push(at.error(column_no, field, message));
        }
    }
    (problems.total == before).then_some(NewReading {
        recorded_at,
        client_seq,
        values,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Sensor;

    const NOW: i64 = 1_796_000_000_000;

    fn schema() -> SensorSchema {
        SensorSchema::parse(
            ["air_temperature", "torque"]
                .into_iter()
                .map(|key| Sensor {
                    key: key.into(),
                    label: key.into(),
                    unit: String::new(),
                })
                .collect(),
        )
        .unwrap()
    }

    fn json(body: &str) -> Result<Vec<NewReading>, BatchError> {
        parse_json_batch(body.as_bytes(), &schema(), NOW)
    }

    fn csv(body: &str) -> Result<Vec<NewReading>, BatchError> {
        parse_csv_batch(body.as_bytes(), &schema(), NOW)
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
