//! Data sets: a CSV (or NASA C-MAPSS' own text layout) loaded into named columns, each with a
//! role that says how training may use it. Roles are detected from the header through the
//! built-in profiles and can be overridden.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Identifies a row or a product; never an input.
    Id,
    /// Orders rows in time (within a unit for run-to-failure series).
    Timestamp,
    /// Groups the rows of one unit in a run-to-failure series.
    Unit,
    /// A text input with a few levels.
    Categorical,
    /// A numeric input.
    Input,
    /// What the model predicts.
    Target,
    /// A known outcome other than the target (such as a failure-mode flag); never an input.
    Label,
    /// Not used.
    Ignored,
}

impl Role {
    /// The stored name, as the form offers it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Id => "id",
            Role::Timestamp => "timestamp",
            Role::Unit => "unit",
            Role::Categorical => "categorical",
            Role::Input => "input",
            Role::Target => "target",
            Role::Label => "label",
            Role::Ignored => "ignored",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "id" => Role::Id,
            "timestamp" | "time" => Role::Timestamp,
            "unit" | "group" => Role::Unit,
            "categorical" => Role::Categorical,
            "input" | "numeric" => Role::Input,
            "target" => Role::Target,
            "label" => Role::Label,
            "ignored" | "ignore" => Role::Ignored,
            _ => return None,
        })
    }
}

/// The kind of data set, recognised from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetProfile {
    /// The AI4I 2020 milling process (Matzka 2020).
    Ai4i2020,
    /// Units run until they fail; the target is each row's remaining life.
    RunToFailure,
    /// Numeric columns and a target.
    Generic,
}

impl DatasetProfile {
    pub fn name(self) -> &'static str {
        match self {
            DatasetProfile::Ai4i2020 => "ai4i2020",
            DatasetProfile::RunToFailure => "run_to_failure",
            DatasetProfile::Generic => "generic",
        }
    }

    pub fn parse(text: &str) -> Option<DatasetProfile> {
        match text {
            "ai4i2020" => Some(DatasetProfile::Ai4i2020),
            "run_to_failure" | "run-to-failure" | "turbofan" => Some(DatasetProfile::RunToFailure),
            "generic" => Some(DatasetProfile::Generic),
            _ => None,
        }
    }
}

/// How the file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Comma-separated with a header row.
    Csv,
    /// NASA C-MAPSS as distributed: space-separated, no header, 26 numeric columns.
    Cmapss,
}

/// The C-MAPSS columns, named like the turbofan profile's sensor keys.
pub const CMAPSS_COLUMNS: [&str; 26] = [
    "unit",
    "cycle",
    "setting_1",
    "setting_2",
    "setting_3",
    "t2",
    "t24",
    "t30",
    "t50",
    "p2",
    "p15",
    "p30",
    "nf",
    "nc",
    "epr",
    "ps30",
    "phi",
    "nrf",
    "nrc",
    "bpr",
    "farb",
    "htbleed",
    "nf_dmd",
    "pcnfr_dmd",
    "w31",
    "w32",
];

/// The synthesised target of a run-to-failure series.
pub const REMAINING_LIFE: &str = "remaining_life";
/// Remaining life above this is counted as this (the usual C-MAPSS practice).
pub const DEFAULT_LIFE_CAP: f64 = 125.0;

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Numeric(Vec<f64>),
    Text(Vec<String>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Numeric(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_numeric(&self) -> Option<&[f64]> {
        match self {
            Values::Numeric(v) => Some(v),
            Values::Text(_) => None,
        }
    }

    /// The row's value as text, whatever the column's type.
    pub fn text(&self, row: usize) -> String {
        match self {
            Values::Numeric(v) => v[row].to_string(),
            Values::Text(v) => v[row].clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Normalised key: `Air temperature [K]` becomes `air_temperature`.
    pub name: String,
    /// As written in the file.
    pub header: String,
    pub role: Role,
    pub values: Values,
}

/// A CSV that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct DatasetError {
    /// 1-based line of the file.
    pub line: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

impl DatasetError {
    fn at(line: usize, column: Option<&str>, message: impl Into<String>) -> DatasetError {
        DatasetError {
            line: Some(line),
            column: column.map(str::to_string),
            message: message.into(),
        }
    }

    fn general(message: impl Into<String>) -> DatasetError {
        DatasetError {
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            (None, Some(column)) => write!(f, "column {column}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Choices that override detection.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub layout: Option<Layout>,
    pub profile: Option<DatasetProfile>,
    /// Target column (header or key); detection picks one when absent.
    pub target: Option<String>,
    /// Roles to set after detection, by header or key.
    pub roles: Vec<(String, Role)>,
    /// Cap of a run-to-failure target; `None` means the default cap.
    pub life_cap: Option<f64>,
}

/// A loaded data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub profile: DatasetProfile,
    pub columns: Vec<Column>,
    pub rows: usize,
    /// SHA-256 of the file's bytes, hex.
    pub fingerprint: String,
    /// Cap applied to a run-to-failure target.
    pub life_cap: Option<f64>,
}

impl Dataset {
    /// Parses and checks a data set, detecting its layout, profile and column roles.
    pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Dataset, DatasetError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            DatasetError::at(line, None, "the file is not UTF-8 text")
        })?;
        let fingerprint = hex::encode(Sha256::digest(bytes));
        let layout = options.layout.unwrap_or_else(|| detect_layout(text));
        let mut columns = match layout {
            Layout::Csv => read_csv(text)?,
            Layout::Cmapss => read_cmapss(text)?,
        };
        let rows = columns.first().map_or(0, |c| c.values.len());
        if rows == 0 {
            return Err(DatasetError::general("the data set has no rows"));
        }
        let profile = options
            .profile
            .unwrap_or_else(|| detect_profile(&columns, layout));
        let mut life_cap = None;
        assign_roles(&mut columns, profile);
        if profile == DatasetProfile::RunToFailure
            && options.target.is_none()
            && !columns.iter().any(|c| c.role == Role::Target)
        {
            let cap = options.life_cap.unwrap_or(DEFAULT_LIFE_CAP);
            life_cap = Some(cap);
            add_remaining_life(&mut columns, cap)?;
        }
        let mut dataset = Dataset {
            profile,
            columns,
            rows,
            fingerprint,
            life_cap,
        };
        if let Some(target) = &options.target {
            dataset.set_target(target)?;
        }
        for (name, role) in &options.roles {
            let index = dataset.require(name)?;
            dataset.columns[index].role = *role;
        }
        dataset.check()?;
        Ok(dataset)
    }

    /// Index of the column with this header or key.
    pub fn find(&self, name: &str) -> Option<usize> {
        let key = column_key(name);
        self.columns
            .iter()
            .position(|c| c.header == name || c.name == key)
    }

    fn require(&self, name: &str) -> Result<usize, DatasetError> {
        self.find(name).ok_or_else(|| {
            let known: Vec<&str> = self.columns.iter().map(|c| c.header.as_str()).collect();
            DatasetError {
                line: None,
                column: Some(name.to_string()),
                message: format!("no such column; the columns are {}", known.join(", ")),
            }
        })
    }

    fn set_target(&mut self, name: &str) -> Result<(), DatasetError> {
        let index = self.require(name)?;
        for column in &mut self.columns {
            if column.role == Role::Target {
                column.role = Role::Label;
            }
        }
        self.columns[index].role = Role::Target;
        Ok(())
    }

    pub fn target(&self) -> &Column {
        self.columns
            .iter()
            .find(|c| c.role == Role::Target)
            .expect("a checked data set has a target")
    }

    pub fn unit(&self) -> Option<&Column> {
        self.columns.iter().find(|c| c.role == Role::Unit)
    }

    pub fn timestamp(&self) -> Option<&Column> {
        self.columns.iter().find(|c| c.role == Role::Timestamp)
    }

    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(move |c| c.role == role)
    }

    /// Classification when the target holds only 0 and 1 (or two text levels).
    pub fn is_classification(&self) -> bool {
        match &self.target().values {
            Values::Numeric(v) => v.iter().all(|x| *x == 0.0 || *x == 1.0),
            Values::Text(v) => {
                let mut levels: Vec<&String> = v.iter().collect();
                levels.sort();
                levels.dedup();
                levels.len() <= 2
            }
        }
    }

    /// The target as numbers: 0/1 for classification, the value for regression.
    pub fn target_values(&self) -> Result<Vec<f64>, DatasetError> {
        let target = self.target();
        match &target.values {
            Values::Numeric(v) => Ok(v.clone()),
            Values::Text(v) => {
                let mut levels: Vec<&String> = v.iter().collect();
                levels.sort();
                levels.dedup();
                if levels.len() > 2 {
                    return Err(DatasetError {
                        line: None,
                        column: Some(target.header.clone()),
                        message: "a text target must have two levels".into(),
                    });
                }
                Ok(v.iter()
                    .map(|x| f64::from(u8::from(x == levels[levels.len() - 1])))
                    .collect())
            }
        }
    }

    fn check(&self) -> Result<(), DatasetError> {
        let targets: Vec<&Column> = self.with_role(Role::Target).collect();
        match targets.len() {
            0 => {
                return Err(DatasetError::general(
                    "no target column: name one with --target",
                ))
            }
            1 => {}
            _ => return Err(DatasetError::general("more than one target column")),
        }
        for column in &self.columns {
            if column.role == Role::Input && column.values.as_numeric().is_none() {
                let row = match &column.values {
                    Values::Text(v) => v.iter().position(|x| x.parse::<f64>().is_err()),
                    Values::Numeric(_) => None,
                };
                return Err(DatasetError {
                    line: row.map(|r| r + 2),
                    column: Some(column.header.clone()),
                    message: "a numeric input holds text; make it categorical or ignore it".into(),
                });
            }
        }
        if !self
            .columns
            .iter()
            .any(|c| matches!(c.role, Role::Input | Role::Categorical))
        {
            return Err(DatasetError::general("no input columns"));
        }
        if self.profile == DatasetProfile::RunToFailure && self.unit().is_none() {
            return Err(DatasetError::general(
                "a run-to-failure data set needs a unit column",
            ));
        }
        Ok(())
    }
}

/// `Air temperature [K]` → `air_temperature`; `Machine failure` → `machine_failure`.
pub fn column_key(header: &str) -> String {
    let without_unit = header.split(['[', '(']).next().unwrap_or(header).trim();
    let mut key = String::with_capacity(without_unit.len());
    for c in without_unit.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    key.trim_matches('_').to_string()
}

fn detect_layout(text: &str) -> Layout {
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

fn read_cmapss(text: &str) -> Result<Vec<Column>, DatasetError> {
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); CMAPSS_COLUMNS.len()];
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != CMAPSS_COLUMNS.len() {
            return Err(DatasetError::at(
                index + 1,
                None,
                format!(
                    "expected {} space-separated values (the C-MAPSS layout), found {}",
                    CMAPSS_COLUMNS.len(),
                    fields.len()
                ),
            ));
        }
        for (column, field) in fields.iter().enumerate() {
            let value = parse_number(field).ok_or_else(|| {
                DatasetError::at(
                    index + 1,
                    Some(CMAPSS_COLUMNS[column]),
                    format!("{field:?} is not a number"),
                )
            })?;
            values[column].push(value);
        }
    }
    Ok(CMAPSS_COLUMNS
        .iter()
        .zip(values)
        .map(|(name, values)| Column {
            name: name.to_string(),
            header: name.to_string(),
            role: Role::Ignored,
            values: Values::Numeric(values),
        })
        .collect())
}

fn parse_number(field: &str) -> Option<f64> {
    field.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn read_csv(text: &str) -> Result<Vec<Column>, DatasetError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
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
        if let Some(previous) = seen.insert(key.clone(), header) {
            return Err(DatasetError::at(
                1,
                Some(header),
                format!("the same name as column {previous:?}"),
            ));
        }
    }
    // Two passes over the text: the first checks every record and learns which columns are
    // all numbers, the second stores each column once in its final form. Holding every cell
    // as a string until the end took about 30 times the file's size.
    let mut numeric = vec![true; headers.len()];
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(record_error)?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        for (column, field) in record.iter().enumerate() {
            if field.is_empty() {
                return Err(DatasetError::at(
                    line,
                    Some(&headers[column]),
                    "empty value",
                ));
            }
            numeric[column] = numeric[column] && parse_number(field).is_some();
        }
        rows += 1;
    }
    let mut values: Vec<Values> = numeric
        .iter()
        .map(|numeric| {
            if *numeric {
                Values::Numeric(Vec::with_capacity(rows))
            } else {
                Values::Text(Vec::with_capacity(rows))
            }
        })
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(record_error)?;
        for (values, field) in values.iter_mut().zip(record.iter()) {
            match values {
                Values::Numeric(numbers) => {
                    numbers.push(parse_number(field).expect("checked in the first pass"))
                }
                Values::Text(texts) => texts.push(field.to_string()),
            }
        }
    }
    Ok(headers
        .into_iter()
        .zip(values)
        .map(|(header, values)| Column {
            name: column_key(&header),
            header,
            role: Role::Ignored,
            values,
        })
        .collect())
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

const AI4I_INPUTS: [&str; 5] = [
    "air_temperature",
    "process_temperature",
    "rotational_speed",
    "torque",
    "tool_wear",
];
/// The AI4I failure-mode flags, in the data set's order.
pub const AI4I_MODES: [&str; 5] = ["twf", "hdf", "pwf", "osf", "rnf"];
const UNIT_NAMES: [&str; 5] = ["unit", "unit_number", "engine", "engine_id", "unit_id"];
const TIME_NAMES: [&str; 5] = ["cycle", "cycles", "time", "time_cycles", "timestamp"];

fn has(columns: &[Column], name: &str) -> bool {
    columns.iter().any(|c| c.name == name)
}

fn detect_profile(columns: &[Column], layout: Layout) -> DatasetProfile {
    if layout == Layout::Cmapss {
        return DatasetProfile::RunToFailure;
    }
    if AI4I_INPUTS.iter().all(|n| has(columns, n)) && has(columns, "machine_failure") {
        return DatasetProfile::Ai4i2020;
    }
    let has_unit = UNIT_NAMES.iter().any(|n| has(columns, n));
    let has_time = TIME_NAMES.iter().any(|n| has(columns, n));
    if has_unit && has_time {
        DatasetProfile::RunToFailure
    } else {
        DatasetProfile::Generic
    }
}

fn assign_roles(columns: &mut [Column], profile: DatasetProfile) {
    let last = columns.len() - 1;
    for (index, column) in columns.iter_mut().enumerate() {
        let name = column.name.as_str();
        column.role = match profile {
            DatasetProfile::Ai4i2020 => match name {
                "udi" | "product_id" => Role::Id,
                "type" => Role::Categorical,
                "machine_failure" => Role::Target,
                n if AI4I_MODES.contains(&n) => Role::Label,
                n if AI4I_INPUTS.contains(&n) => Role::Input,
                _ => Role::Ignored,
            },
            DatasetProfile::RunToFailure => match name {
                n if UNIT_NAMES.contains(&n) => Role::Unit,
                n if TIME_NAMES.contains(&n) => Role::Timestamp,
                "rul" | REMAINING_LIFE => Role::Target,
                _ => numeric_or_categorical(column),
            },
            DatasetProfile::Generic => match name {
                "id" | "uid" | "udi" => Role::Id,
                "timestamp" | "time" | "date" => Role::Timestamp,
                _ if index == last => Role::Target,
                _ => numeric_or_categorical(column),
            },
        };
    }
    if profile == DatasetProfile::RunToFailure {
        // Several unit- or time-like names: only the first of each is used.
        for role in [Role::Unit, Role::Timestamp] {
            let mut first = true;
            for column in columns.iter_mut().filter(|c| c.role == role) {
                if !first {
                    column.role = Role::Ignored;
                }
                first = false;
            }
        }
    }
    // A column that never changes carries no information (seven C-MAPSS sensors in FD001); in
    // a series, one that only flips between two adjacent readings is flat but for rounding.
    let most_levels_of_a_flat_column = if profile == DatasetProfile::RunToFailure {
        2
    } else {
        1
    };
    for column in columns.iter_mut().filter(|c| c.role == Role::Input) {
        if distinct_values(&column.values) <= most_levels_of_a_flat_column {
            column.role = Role::Ignored;
        }
    }
}

fn numeric_or_categorical(column: &Column) -> Role {
    match &column.values {
        Values::Numeric(_) => Role::Input,
        Values::Text(values) => {
            let mut levels: Vec<&String> = values.iter().collect();
            levels.sort();
            levels.dedup();
            if levels.len() <= 20 {
                Role::Categorical
            } else {
                Role::Id
            }
        }
    }
}

fn distinct_values(values: &Values) -> usize {
    match values {
        Values::Numeric(v) => {
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            sorted.len()
        }
        Values::Text(v) => {
            let mut sorted: Vec<&String> = v.iter().collect();
            sorted.sort();
            sorted.dedup();
            sorted.len()
        }
    }
}

/// Adds each row's remaining life: the unit's last time minus the row's, capped.
fn add_remaining_life(columns: &mut Vec<Column>, cap: f64) -> Result<(), DatasetError> {
    let unit = columns
        .iter()
        .find(|c| c.role == Role::Unit)
        .ok_or_else(|| DatasetError::general("a run-to-failure data set needs a unit column"))?;
    let time = columns
        .iter()
        .find(|c| c.role == Role::Timestamp)
        .ok_or_else(|| {
            DatasetError::general("a run-to-failure data set needs a time (cycle) column")
        })?;
    let Values::Numeric(times) = &time.values else {
        return Err(DatasetError {
            line: None,
            column: Some(time.header.clone()),
            message: "the time column must be numeric (cycles or hours)".into(),
        });
    };
    let units: Vec<String> = (0..times.len()).map(|r| unit.values.text(r)).collect();
    let mut last: HashMap<&str, f64> = HashMap::new();
    for (u, t) in units.iter().zip(times) {
        let entry = last.entry(u.as_str()).or_insert(*t);
        *entry = entry.max(*t);
    }
    let life = units
        .iter()
        .zip(times)
        .map(|(u, t)| (last[u.as_str()] - t).min(cap))
        .collect();
    columns.push(Column {
        name: REMAINING_LIFE.into(),
        header: REMAINING_LIFE.into(),
        role: Role::Target,
        values: Values::Numeric(life),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_back_from_its_name_and_serialises_as_it() {
        for role in [
            Role::Id,
            Role::Timestamp,
            Role::Unit,
            Role::Categorical,
            Role::Input,
            Role::Target,
            Role::Label,
            Role::Ignored,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
    }

    const AI4I: &str = "UDI,Product ID,Type,Air temperature [K],Process temperature [K],\
Rotational speed [rpm],Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF
1,M14860,M,298.1,308.6,1551,42.8,0,0,0,0,0,0,0
2,L47181,L,298.2,308.7,1408,46.3,3,1,0,1,0,0,0
";

    #[test]
    fn ai4i_header_is_recognised_with_modes_as_labels_never_inputs() {
        let data = Dataset::load(AI4I.as_bytes(), &LoadOptions::default()).unwrap();
        assert_eq!(data.profile, DatasetProfile::Ai4i2020);
        let role = |name: &str| data.columns[data.find(name).unwrap()].role;
        assert_eq!(role("Machine failure"), Role::Target);
        assert_eq!(role("HDF"), Role::Label);
        assert_eq!(role("Type"), Role::Categorical);
        assert_eq!(role("UDI"), Role::Id);
        assert_eq!(role("Product ID"), Role::Id);
        assert_eq!(role("Torque [Nm]"), Role::Input);
        assert!(data.is_classification());
        assert_eq!(data.target_values().unwrap(), vec![0.0, 1.0]);
    }

    #[test]
    fn cmapss_text_layout_is_read_as_is_with_remaining_life_capped() {
        let mut text = String::new();
        for unit in 1..=2 {
            let life = 130 + unit * 10;
            for cycle in 1..=life {
                let mut fields = vec![unit.to_string(), cycle.to_string()];
                fields.extend((0..24).map(|s| format!("{:.2}", s as f64 + cycle as f64 * 0.01)));
                text.push_str(&fields.join(" "));
                text.push_str("  \n");
            }
        }
        let data = Dataset::load(text.as_bytes(), &LoadOptions::default()).unwrap();
        assert_eq!(data.profile, DatasetProfile::RunToFailure);
        assert_eq!(data.unit().unwrap().name, "unit");
        assert_eq!(data.timestamp().unwrap().name, "cycle");
        let life = data.target_values().unwrap();
        assert_eq!(
            life[0], DEFAULT_LIFE_CAP,
            "first cycle of a 140-cycle unit is capped"
        );
        assert_eq!(life[139], 0.0, "the last cycle has no life left");
        assert_eq!(life[138], 1.0);
        assert!(!data.is_classification());
    }

    #[test]
    fn generic_target_defaults_to_the_last_column_and_can_be_chosen() {
        let csv = "a,b,c,broken\n1,2,3,0\n4,5,6,1\n7,8,9,0\n";
        let data = Dataset::load(csv.as_bytes(), &LoadOptions::default()).unwrap();
        assert_eq!(data.profile, DatasetProfile::Generic);
        assert_eq!(data.target().name, "broken");
        let options = LoadOptions {
            target: Some("c".into()),
            ..LoadOptions::default()
        };
        let data = Dataset::load(csv.as_bytes(), &options).unwrap();
        assert_eq!(data.target().name, "c");
        assert_eq!(data.columns[3].role, Role::Label);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let ragged = "a,b,target\n1,2,0\n3,4\n";
        let error = Dataset::load(ragged.as_bytes(), &LoadOptions::default()).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.to_string().contains("expected 3 fields"), "{error}");

        let empty = "a,b,target\n1,2,0\n3,,1\n";
        let error = Dataset::load(empty.as_bytes(), &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "line 3, column b: empty value");

        let cmapss_bad = format!("1 1 {}\n1 2 {} x\n", "0 ".repeat(24), "0 ".repeat(23));
        let error = Dataset::load(
            cmapss_bad.as_bytes(),
            &LoadOptions {
                layout: Some(Layout::Cmapss),
                ..LoadOptions::default()
            },
        )
        .unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.column.as_deref(), Some("w32"), "{error}");

        let unknown = LoadOptions {
            target: Some("nope".into()),
            ..LoadOptions::default()
        };
        let error = Dataset::load("a,b\n1,0\n".as_bytes(), &unknown).unwrap_err();
        assert!(
            error.to_string().starts_with("column nope: no such column"),
            "{error}"
        );
    }

    #[test]
    fn text_in_a_numeric_input_is_refused_where_it_is() {
        let options = LoadOptions {
            roles: vec![("kind".into(), Role::Input)],
            ..LoadOptions::default()
        };
        let csv = "a,kind,target\n1,x,0\n2,y,1\n";
        let error = Dataset::load(csv.as_bytes(), &options).unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.column.as_deref(), Some("kind"));
    }

    #[test]
    fn keys_drop_units_and_punctuation() {
        assert_eq!(column_key("Air temperature [K]"), "air_temperature");
        assert_eq!(column_key("Product ID"), "product_id");
        assert_eq!(column_key(" Tool wear (min) "), "tool_wear");
    }
}
