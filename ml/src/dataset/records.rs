//! The rows of a data set's file, one record at a time, in either layout. Nothing is kept
//! between records, so a pass costs memory for one record, however long the file.

use std::collections::HashMap;

use super::{column_key, parse_number, DatasetError, Layout, CMAPSS_COLUMNS};

/// The file as text, or the line where it stops being UTF-8.
pub(super) fn text(bytes: &[u8]) -> Result<&str, DatasetError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        DatasetError::at(line, None, "the file is not UTF-8 text")
    })
}

pub(super) fn detect_layout(text: &str) -> Layout {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let fields: Vec<&str> = first.split_whitespace().collect();
    if !first.contains(',')
        && fields.len() == CMAPSS_COLUMNS.len()
        && fields.iter().all(|f| f.parse::<f64>().is_ok())
    {
        Layout::Cmapss
    } else {
        Layout::Csv
    }
}

/// The columns' headers as written, checked: each has a usable name, no two the same key.
pub(super) fn headers(text: &str, layout: Layout) -> Result<Vec<String>, DatasetError> {
    if layout == Layout::Cmapss {
        return Ok(CMAPSS_COLUMNS.iter().map(|c| c.to_string()).collect());
    }
    let headers: Vec<String> = csv_reader(text)
        .headers()
        .map_err(|e| DatasetError::at(1, None, format!("unreadable header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(DatasetError::at(1, None, "the header row is empty"));
    }
    let mut seen = HashMap::new();
    for (index, header) in headers.iter().enumerate() {
        let key = column_key(header);
        if key.is_empty() {
            return Err(DatasetError::at(
                1,
                Some(header),
                format!("column {} has no usable name", index + 1),
            ));
        }
        if let Some(previous) = seen.insert(key, header) {
            return Err(DatasetError::at(
                1,
                Some(header),
                format!("the same name as column {previous:?}"),
            ));
        }
    }
    Ok(headers)
}

/// Calls `each` with every record's 1-based line and its fields, trimmed, as many as the
/// header has. A ragged record, or text in the C-MAPSS layout (all numbers), stops the pass
/// with its line.
pub(super) fn each(
    text: &str,
    layout: Layout,
    mut each: impl FnMut(usize, &[&str]) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    let mut fields: Vec<&str> = Vec::with_capacity(CMAPSS_COLUMNS.len());
    match layout {
        Layout::Cmapss => {
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                fields.clear();
                fields.extend(line.split_whitespace());
                check_cmapss(index + 1, &fields)?;
                each(index + 1, &fields)?;
            }
        }
        Layout::Csv => {
            let mut reader = csv_reader(text);
            let mut record = csv::StringRecord::new();
            while reader.read_record(&mut record).map_err(record_error)? {
                let line = record.position().map_or(0, |p| p.line() as usize);
                let fields: Vec<&str> = record.iter().collect();
                each(line, &fields)?;
            }
        }
    }
    Ok(())
}

fn check_cmapss(line: usize, fields: &[&str]) -> Result<(), DatasetError> {
    if fields.len() != CMAPSS_COLUMNS.len() {
        return Err(DatasetError::at(
            line,
            None,
            format!(
                "expected {} space-separated values (the C-MAPSS layout), found {}",
                CMAPSS_COLUMNS.len(),
                fields.len()
            ),
        ));
    }
    for (column, field) in fields.iter().enumerate() {
        if parse_number(field).is_none() {
            return Err(DatasetError::at(
                line,
                Some(CMAPSS_COLUMNS[column]),
                format!("{field:?} is not a number"),
            ));
        }
    }
    Ok(())
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes())
}

fn record_error(error: csv::Error) -> DatasetError {
    let line = error.position().map_or(0, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, found {len}"),
        other => format!("{other:?}"),
    };
    DatasetError::at(line, None, message)
}
