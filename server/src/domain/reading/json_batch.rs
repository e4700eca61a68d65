//! Reading batches sent as JSON: one reading object or an array of them.

use serde_json::{Map, Value};

use super::{
    check_mode, check_seq, check_time, check_time_to_failure, check_unique_seqs,
    parse_time_seconds, parse_time_text, BatchError, Labels, NewReading, Position, Problems,
};
use crate::domain::sensor_schema::RESERVED_COLUMNS;
use crate::domain::SensorSchema;

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
        let checked = match value.as_f64() {
            Some(number) if number.is_finite() => schema.check_value(index, number),
            _ => Err(format!("expected a finite number, got {value}")),
        };
        match checked {
            Ok(number) => values[index] = Some(number),
            Err(message) => problems.push(at.error(None, &field, message)),
        }
    }
}
