//! Data sets: a CSV (or NASA C-MAPSS' own text layout) loaded into named columns, each with a
//! role that says how training may use it. Roles are detected from the header through the
//! built-in profiles and can be overridden.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

mod outline;
mod records;
mod roles;

pub use outline::{ColumnOutline, DatasetOutline, SAMPLES};
pub use roles::AI4I_MODES;

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
    /// Parses and checks a data set, detecting its layout, profile and column roles: its
    /// outline, then one more pass that stores each column's values once, in their final form.
    pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Dataset, DatasetError> {
        let outline = DatasetOutline::read(bytes, options)?;
        let mut values: Vec<Values> = outline
            .columns
            .iter()
            .take(if outline.life_from.is_some() {
                outline.columns.len() - 1
            } else {
                outline.columns.len()
            })
            .map(|column| {
                if column.numeric {
                    Values::Numeric(Vec::with_capacity(outline.rows))
                } else {
                    Values::Text(Vec::with_capacity(outline.rows))
                }
            })
            .collect();
        records::each(bytes, outline.layout, |_, fields| {
            for (values, field) in values.iter_mut().zip(fields) {
                match values {
                    Values::Numeric(numbers) => {
                        numbers.push(parse_number(field).expect("checked by the outline"))
                    }
                    Values::Text(texts) => texts.push(field.to_string()),
                }
            }
            Ok(())
        })?;
        if let (Some((unit, time)), Some(cap)) = (outline.life_from, outline.life_cap) {
            values.push(remaining_life(&values[unit], &values[time], cap));
        }
        let DatasetOutline {
            profile,
            columns,
            rows,
            fingerprint,
            life_cap,
            ..
        } = outline;
        Ok(Dataset {
            profile,
            columns: columns
                .into_iter()
                .zip(values)
                .map(|(column, values)| Column {
                    name: column.name,
                    header: column.header,
                    role: column.role,
                    values,
                })
                .collect(),
            rows,
            fingerprint,
            life_cap,
        })
    }

    /// Index of the column with this header or key.
    pub fn find(&self, name: &str) -> Option<usize> {
        position(self.columns.iter().map(|c| (&c.header, &c.name)), name)
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
}

/// Each row's remaining life: its unit's last time minus the row's, capped.
fn remaining_life(unit: &Values, time: &Values, cap: f64) -> Values {
    let times = time
        .as_numeric()
        .expect("the outline checked the time column");
    let units: Vec<String> = (0..times.len()).map(|r| unit.text(r)).collect();
    let mut last: HashMap<&str, f64> = HashMap::new();
    for (u, t) in units.iter().zip(times) {
        let entry = last.entry(u.as_str()).or_insert(*t);
        *entry = entry.max(*t);
    }
    Values::Numeric(
        units
            .iter()
            .zip(times)
            .map(|(u, t)| (last[u.as_str()] - t).min(cap))
            .collect(),
    )
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

fn parse_number(field: &str) -> Option<f64> {
    field.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Index of the column with this header or key, among (header, key) pairs.
fn position<'a>(
    mut columns: impl Iterator<Item = (&'a String, &'a String)>,
    name: &str,
) -> Option<usize> {
    let key = column_key(name);
    columns.position(|(header, k)| header == name || *k == key)
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
    fn bytes_that_are_not_utf8_are_refused_with_their_line_in_either_layout() {
        let mut csv = AI4I.as_bytes().to_vec();
        let third = csv.len() - 10;
        csv[third] = 0xff;
        let error = Dataset::load(&csv, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "line 3: the file is not UTF-8 text");

        let mut header = AI4I.as_bytes().to_vec();
        header[1] = 0xc3;
        let error = DatasetOutline::read(&header, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "line 1: the file is not UTF-8 text");

        let line = |cycle: usize| format!("1 {cycle} {}\n", "0.5 ".repeat(24));
        let mut cmapss = format!("{}{}", line(1), line(2)).into_bytes();
        let second = cmapss.len() - 3;
        cmapss[second] = 0xfe;
        let options = LoadOptions {
            layout: Some(Layout::Cmapss),
            ..LoadOptions::default()
        };
        let error = Dataset::load(&cmapss, &options).unwrap_err();
        assert_eq!(error.to_string(), "line 2: the file is not UTF-8 text");
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_naming_it() {
        let mut csv = AI4I.to_string();
        csv.push_str(&"9".repeat(records::MAX_LINE + 1));
        let error = DatasetOutline::read(csv.as_bytes(), &LoadOptions::default()).unwrap_err();
        assert!(
            error.to_string().contains("line 4 is longer than 1 MiB"),
            "{error}"
        );
        let no_line_ends = "1,".repeat(records::MAX_LINE);
        let error = Dataset::load(no_line_ends.as_bytes(), &LoadOptions::default()).unwrap_err();
        assert!(
            error.to_string().contains("line 1 is longer than 1 MiB"),
            "{error}"
        );
    }

    #[test]
    fn a_file_on_disk_outlines_as_its_bytes_do() {
        let path = std::env::temp_dir().join(format!("ml-outline-{}.csv", std::process::id()));
        std::fs::write(&path, AI4I).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let from_file = DatasetOutline::read_file(&file, &LoadOptions::default()).unwrap();
        // Read twice: each reading starts again from the top of the file.
        let again = DatasetOutline::read_file(&file, &LoadOptions::default()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let from_bytes = DatasetOutline::read(AI4I.as_bytes(), &LoadOptions::default()).unwrap();
        for outline in [&from_file, &again] {
            assert_eq!(outline.columns, from_bytes.columns);
            assert_eq!(outline.rows, 2);
            assert_eq!(outline.fingerprint, from_bytes.fingerprint);
            assert_eq!(outline.profile, DatasetProfile::Ai4i2020);
        }
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
        let csv = "a,kind,target\n1,2,0\n2,y,1\n";
        let error = DatasetOutline::read(csv.as_bytes(), &options).unwrap_err();
        assert_eq!(error.line, Some(3), "the first text, not the first row");
    }

    /// The outline of a file agrees with the data set loaded from it, column by column.
    fn assert_outline_matches_load(bytes: &[u8], options: &LoadOptions) -> DatasetOutline {
        let outline = DatasetOutline::read(bytes, options).unwrap();
        let data = Dataset::load(bytes, options).unwrap();
        assert_eq!(outline.rows, data.rows);
        assert_eq!(outline.profile, data.profile);
        assert_eq!(outline.fingerprint, data.fingerprint);
        assert_eq!(outline.life_cap, data.life_cap);
        assert_eq!(outline.columns.len(), data.columns.len());
        for (outlined, loaded) in outline.columns.iter().zip(&data.columns) {
            assert_eq!(outlined.header, loaded.header);
            assert_eq!(outlined.name, loaded.name);
            assert_eq!(outlined.role, loaded.role, "{}", loaded.header);
            assert_eq!(outlined.numeric, loaded.values.as_numeric().is_some());
            let first: Vec<String> = (0..data.rows.min(SAMPLES))
                .map(|row| loaded.values.text(row))
                .collect();
            assert_eq!(outlined.samples, first, "{}", loaded.header);
        }
        outline
    }

    #[test]
    fn an_outline_agrees_with_the_loaded_data_set() {
        let outline = assert_outline_matches_load(AI4I.as_bytes(), &LoadOptions::default());
        assert_eq!(outline.columns[2].role, Role::Categorical);

        // Remaining life counted from each unit's last cycle; units written 1.0 and 1 are one.
        let series = "unit,cycle,s1,s2\n1.0,1,5,0.1\n1,2,6,0.2\n1,3,7,0.3\n2,1,5,0.1\n2,2,9,0.4\n";
        let outline = assert_outline_matches_load(series.as_bytes(), &LoadOptions::default());
        let life = outline.find(REMAINING_LIFE).unwrap();
        assert_eq!(outline.columns[life].samples, ["2", "1", "0", "1"]);
        assert_eq!(outline.columns[life].role, Role::Target);

        // A text column with more levels than a category is an identifier; two numbers in a
        // generic set make an input, one makes it flat.
        let mut generic = String::from("serial,flat,speed,broken\n");
        for row in 0..30 {
            generic.push_str(&format!("s{row},1,{},{}\n", row % 2, row % 3 / 2));
        }
        let outline = assert_outline_matches_load(generic.as_bytes(), &LoadOptions::default());
        let roles: Vec<Role> = outline.columns.iter().map(|c| c.role).collect();
        assert_eq!(
            roles,
            [Role::Id, Role::Ignored, Role::Input, Role::Target],
            "{outline:?}"
        );

        let chosen = LoadOptions {
            target: Some("speed".into()),
            roles: vec![("serial".into(), Role::Categorical)],
            ..LoadOptions::default()
        };
        assert_outline_matches_load(generic.as_bytes(), &chosen);
    }

    #[test]
    fn keys_drop_units_and_punctuation() {
        assert_eq!(column_key("Air temperature [K]"), "air_temperature");
        assert_eq!(column_key("Product ID"), "product_id");
        assert_eq!(column_key(" Tool wear (min) "), "tool_wear");
    }
}
