//! Reading batches sent as JSON: one reading object or an array of them.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    check_mode, check_seq, check_time, check_time_to_failure, check_unique_seqs,
    parse_time_seconds, parse_time_text, BatchError, Labels, NewReading, Position, Problems,
};
use crate::domain::sensor_schema::RESERVED_COLUMNS;
use crate::domain::SensorSchema;

/// Parses a JSON body: one reading object, or an array of them, of at most `max_readings`.
///
/// A reading is `{"timestamp": "...", "seq": "...", "values": {"torque": 42.1, ...},
/// "failure": 0, "failure_mode": "HDF", "time_to_failure": 12.5}`; only `values` is required.
/// An array is read one reading at a time and refused at the first reading over the limit,
/// so a large body never becomes a whole document in memory.
pub fn parse_json_batch(
    body: &[u8],
    schema: &SensorSchema,
    now_ms: i64,
    max_readings: usize,
) -> Result<Vec<NewReading>, BatchError> {
    let mut batch = JsonBatch {
        schema,
        now_ms,
        max_readings,
        over_limit: false,
        not_readings: None,
        seen: 0,
        problems: Problems::default(),
        readings: Vec::new(),
        positions: Vec::new(),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = serde::Deserializer::deserialize_any(&mut deserializer, &mut batch)
        .and_then(|()| deserializer.end());
    if batch.over_limit {
        return Err(BatchError::TooMany {
            limit: max_readings,
        });
    }
    if let Some(kind) = batch.not_readings {
        return Err(BatchError::Malformed(format!(
            "expected a reading object or an array of them, got {kind}"
        )));
    }
    parsed.map_err(|e| {
        BatchError::Malformed(format!(
            "malformed JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let JsonBatch {
        mut problems,
        readings,
        positions,
        ..
    } = batch;
    check_unique_seqs(&readings, &positions, &mut problems);
    problems.into_result(readings)
}

/// A body being read: the readings so far, and what stopped it.
struct JsonBatch<'a> {
    schema: &'a SensorSchema,
    now_ms: i64,
    max_readings: usize,
    over_limit: bool,
    /// The kind of a top-level value that is neither an object nor an array.
    not_readings: Option<&'static str>,
    /// Items read so far, readings or not.
    seen: usize,
    problems: Problems,
    readings: Vec<NewReading>,
    positions: Vec<Position>,
}

impl JsonBatch<'_> {
    fn take(&mut self, item: Value) {
        self.seen += 1;
        let position = Position {
            reading: self.seen,
            line: None,
        };
        match item {
            Value::Object(object) => {
                let reading = json_reading(
                    object,
                    self.schema,
                    self.now_ms,
                    position,
                    &mut self.problems,
                );
                if let Some(reading) = reading {
                    self.readings.push(reading);
                    self.positions.push(position);
                }
            }
            other => self.problems.push(position.error(
                None,
                "",
                format!("expected a reading object, got {}", json_kind(&other)),
            )),
        }
    }
}

impl<'de> Visitor<'de> for &mut JsonBatch<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a reading object or an array of them")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while let Some(UniqueKeys(item)) = items.next_element()? {
            if self.seen == self.max_readings {
                self.over_limit = true;
                return Err(de::Error::custom("too many readings"));
            }
            self.take(item);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, object: A) -> Result<(), A::Error> {
        let object = UniqueKeysVisitor.visit_map(object)?;
        self.take(object);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_readings = Some("null");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_readings = Some("a boolean");
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_readings = Some("a number");
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_readings = Some("a number");
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_readings = Some("a number");
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_readings = Some("a string");
        Ok(())
    }
}

/// A JSON value whose objects, at every depth, name each key once. serde_json keeps the last
/// of a repeated key, where a proxy, a log or another reader may keep the first: a reading with
/// `"values"` twice would be stored as something else than what was checked or shown on the
/// way. A repeat is a syntax error, with its line and column.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // serde_json refuses non-finite numbers before they get here.
        Ok(Value::from(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut array = Vec::new();
        while let Some(UniqueKeys(item)) = items.next_element()? {
            array.push(item);
        }
        Ok(Value::Array(array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            let UniqueKeys(value) = entries.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
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
