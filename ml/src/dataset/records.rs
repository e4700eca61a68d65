//! The rows of a data set's file, one record at a time, in either layout. Nothing is kept
//! between records, so a pass costs memory for one record, however long the file, and the
//! file may stay on disk: each pass reads it again from its start.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};

use sha2::{Digest, Sha256};

use super::{column_key, parse_number, DatasetError, Layout, CMAPSS_COLUMNS};

/// A data set's file, read from its start once per pass: bytes in memory, or a file on disk so
/// that checking an upload never holds it in memory.
pub(super) trait Source {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>>;
}

impl Source for [u8] {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(LineLimited::new(self)))
    }
}

impl Source for File {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        let mut file = self;
        file.rewind()?;
        Ok(Box::new(LineLimited::new(file)))
    }
}

/// The longest line a data set may have. A row of a few hundred columns is a few kilobytes;
/// without a limit, a file with no line ends would be read into memory whole, as one record.
pub(super) const MAX_LINE: usize = 1 << 20;

/// A reader that fails at the first line longer than [`MAX_LINE`], naming it.
struct LineLimited<R> {
    inner: R,
    /// Lines ended so far.
    lines: usize,
    /// Bytes of the line being read.
    in_line: usize,
}

impl<R> LineLimited<R> {
    fn new(inner: R) -> LineLimited<R> {
        LineLimited {
            inner,
            lines: 0,
            in_line: 0,
        }
    }
}

impl<R: Read> Read for LineLimited<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        for byte in &buffer[..read] {
            if *byte == b'\n' {
                self.lines += 1;
                self.in_line = 0;
            } else {
                self.in_line += 1;
                if self.in_line > MAX_LINE {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {} is longer than 1 MiB", self.lines + 1),
                    ));
                }
            }
        }
        Ok(read)
    }
}

fn unreadable(error: std::io::Error) -> DatasetError {
    DatasetError::general(format!("the file could not be read: {error}"))
}

fn not_utf8(line: usize) -> DatasetError {
    DatasetError::at(line, None, "the file is not UTF-8 text")
}

/// SHA-256 of the file's bytes, hex.
pub(super) fn fingerprint(source: &(impl Source + ?Sized)) -> Result<String, DatasetError> {
    let mut reader = source.open().map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 << 10];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => hasher.update(&buffer[..read]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(e)),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The file's lines, without their line ends (and trailing blanks, which neither reader of
/// lines minds), each as bytes with its 1-based number, until `each` answers false.
fn each_line(
    source: &(impl Source + ?Sized),
    mut each: impl FnMut(usize, &[u8]) -> Result<bool, DatasetError>,
) -> Result<(), DatasetError> {
    let mut reader = BufReader::with_capacity(64 << 10, source.open().map_err(unreadable)?);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(unreadable)? == 0 {
            return Ok(());
        }
        number += 1;
        if !each(number, line.trim_ascii_end())? {
            return Ok(());
        }
    }
}

pub(super) fn detect_layout(source: &(impl Source + ?Sized)) -> Result<Layout, DatasetError> {
    let mut layout = Layout::Csv;
    each_line(source, |_, line| {
        // A first line that is not text is reported by the pass that reads it as records.
        let Ok(first) = std::str::from_utf8(line) else {
            return Ok(false);
        };
        if first.trim().is_empty() {
            return Ok(true);
        }
        let fields: Vec<&str> = first.split_whitespace().collect();
        if !first.contains(',')
            && fields.len() == CMAPSS_COLUMNS.len()
            && fields.iter().all(|f| f.parse::<f64>().is_ok())
        {
            layout = Layout::Cmapss;
        }
        Ok(false)
    })?;
    Ok(layout)
}

/// The columns' headers as written, checked: each has a usable name, no two the same key.
pub(super) fn headers(
    source: &(impl Source + ?Sized),
    layout: Layout,
) -> Result<Vec<String>, DatasetError> {
    if layout == Layout::Cmapss {
        return Ok(CMAPSS_COLUMNS.iter().map(|c| c.to_string()).collect());
    }
    let headers: Vec<String> = csv_reader(source.open().map_err(unreadable)?)
        .headers()
        .map_err(|e| match e.kind() {
            csv::ErrorKind::Utf8 { .. } => not_utf8(1),
            csv::ErrorKind::Io(io) => {
                DatasetError::general(format!("the file could not be read: {io}"))
            }
            _ => DatasetError::at(1, None, format!("unreadable header: {e}")),
        })?
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
    source: &(impl Source + ?Sized),
    layout: Layout,
    mut each: impl FnMut(usize, &[&str]) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    match layout {
        Layout::Cmapss => each_line(source, |number, line| {
            let line = std::str::from_utf8(line).map_err(|_| not_utf8(number))?;
            if line.trim().is_empty() {
                return Ok(true);
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            check_cmapss(number, &fields)?;
            each(number, &fields)?;
            Ok(true)
        })?,
        Layout::Csv => {
            let mut reader = csv_reader(source.open().map_err(unreadable)?);
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

fn csv_reader<R: Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .buffer_capacity(64 << 10)
        .from_reader(reader)
}

fn record_error(error: csv::Error) -> DatasetError {
    let line = error.position().map_or(0, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "the file is not UTF-8 text".to_string(),
        csv::ErrorKind::Io(io) => {
            return DatasetError::general(format!("the file could not be read: {io}"))
        }
        other => format!("{other:?}"),
    };
    DatasetError::at(line, None, message)
}
