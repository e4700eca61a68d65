//! Reading batches sent as CSV: a header of sensor keys and optional fields, one reading per
//! line.

use std::collections::HashSet;

use super::{
    check_mode, check_seq, check_time, check_time_to_failure, check_unique_seqs,
    parse_time_seconds, parse_time_text, BatchError, FieldError, Labels, NewReading, Position,
    Problems,
};
use crate::domain::sensor_schema::RESERVED_COLUMNS;
use crate::domain::SensorSchema;

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
/// `failure`, `failure_mode` and `time_to_failure`, then one reading per line, at most
/// `max_readings` of them.
pub fn parse_csv_batch(
    body: &[u8],
    schema: &SensorSchema,
    now_ms: i64,
    max_readings: usize,
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
        if index == max_readings {
            return Err(BatchError::TooMany {
                limit: max_readings,
            });
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
    let mut names = HashSet::with_capacity(header.len());
    for (index, name) in header.iter().enumerate() {
        // Twice the same column: which of the two a reader takes is a guess.
        if !names.insert(name) {
            return Err(header_error(index + 1, name, "column appears twice".into()));
        }
        let column = match name {
            "timestamp" => CsvColumn::Timestamp,
            "seq" => CsvColumn::Seq,
            "failure" => CsvColumn::Failure,
            "failure_mode" => CsvColumn::FailureMode,
            "time_to_failure" => CsvColumn::TimeToFailure,
            key => match schema.index_of(key) {
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
                Ok(number) if number.is_finite() => schema
                    .check_value(*sensor, number)
                    .map(|number| values[*sensor] = number),
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
