//! A data set's outline: its columns with their roles, kinds and first values, its row count
//! and profile, learned in passes over the file that keep no column's values. Checking an
//! upload or showing its columns needs no more, so neither costs memory in proportion to the
//! file (holding every value took about 30 times its size).

use std::collections::HashMap;
use std::fs::File;

use super::records::Source;
use super::roles::{assign_roles, detect_profile, CATEGORY_LEVELS, FLAT_LEVELS};
use super::{
    parse_number, records, DatasetError, DatasetProfile, Layout, LoadOptions, Role,
    DEFAULT_LIFE_CAP, REMAINING_LIFE,
};

/// First values of each column kept for showing.
pub const SAMPLES: usize = 4;

/// One column, without its values.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnOutline {
    /// Normalised key: `Air temperature [K]` becomes `air_temperature`.
    pub name: String,
    /// As written in the file.
    pub header: String,
    pub role: Role,
    /// Every value is a finite number.
    pub numeric: bool,
    /// The first values, as text ([`SAMPLES`] at most).
    pub samples: Vec<String>,
    /// Distinct values, counted up to one past what role detection asks about.
    pub(super) levels: usize,
    /// Line of the first value that is not a number.
    pub(super) first_text_line: Option<usize>,
}

/// A data set's shape, roles and fingerprint, checked as [`super::Dataset::load`] checks it.
#[derive(Debug, Clone)]
pub struct DatasetOutline {
    pub profile: DatasetProfile,
    /// The file's columns in order, then the synthesised remaining life if there is one.
    pub columns: Vec<ColumnOutline>,
    pub rows: usize,
    /// SHA-256 of the file's bytes, hex.
    pub fingerprint: String,
    /// Cap applied to a run-to-failure target.
    pub life_cap: Option<f64>,
    pub(super) layout: Layout,
    /// The unit and time columns the remaining life is counted from.
    pub(super) life_from: Option<(usize, usize)>,
}

impl DatasetOutline {
    /// Reads a data set's outline, detecting its layout, profile and column roles, and checks
    /// it. Fails exactly where loading the data set would.
    pub fn read(bytes: &[u8], options: &LoadOptions) -> Result<DatasetOutline, DatasetError> {
        Self::read_from(bytes, options)
    }

    /// [`DatasetOutline::read`] of a file on disk, read again for each pass and never held in
    /// memory.
    pub fn read_file(file: &File, options: &LoadOptions) -> Result<DatasetOutline, DatasetError> {
        Self::read_from(file, options)
    }

    pub(super) fn read_from(
        source: &(impl Source + ?Sized),
        options: &LoadOptions,
    ) -> Result<DatasetOutline, DatasetError> {
        let fingerprint = records::fingerprint(source)?;
        let layout = match options.layout {
            Some(layout) => layout,
            None => records::detect_layout(source)?,
        };
        let (mut columns, rows) = survey(source, layout)?;
        if rows == 0 {
            return Err(DatasetError::general("the data set has no rows"));
        }
        let profile = options
            .profile
            .unwrap_or_else(|| detect_profile(&columns, layout));
        assign_roles(&mut columns, profile);
        let mut outline = DatasetOutline {
            profile,
            columns,
            rows,
            fingerprint,
            life_cap: None,
            layout,
            life_from: None,
        };
        if profile == DatasetProfile::RunToFailure
            && options.target.is_none()
            && !outline.columns.iter().any(|c| c.role == Role::Target)
        {
            outline.add_remaining_life(source, options.life_cap.unwrap_or(DEFAULT_LIFE_CAP))?;
        }
        if let Some(target) = &options.target {
            outline.set_target(target)?;
        }
        for (name, role) in &options.roles {
            let index = outline.require(name)?;
            outline.columns[index].role = *role;
        }
        outline.check()?;
        Ok(outline)
    }

    /// Index of the column with this header or key.
    pub fn find(&self, name: &str) -> Option<usize> {
        super::position(self.columns.iter().map(|c| (&c.header, &c.name)), name)
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

    /// Adds the remaining-life target, with its first values counted in one more pass that
    /// keeps each unit's last time only.
    fn add_remaining_life(
        &mut self,
        source: &(impl Source + ?Sized),
        cap: f64,
    ) -> Result<(), DatasetError> {
        let unit = self
            .columns
            .iter()
            .position(|c| c.role == Role::Unit)
            .ok_or_else(|| {
                DatasetError::general("a run-to-failure data set needs a unit column")
            })?;
        let time = self
            .columns
            .iter()
            .position(|c| c.role == Role::Timestamp)
            .ok_or_else(|| {
                DatasetError::general("a run-to-failure data set needs a time (cycle) column")
            })?;
        if !self.columns[time].numeric {
            return Err(DatasetError {
                line: None,
                column: Some(self.columns[time].header.clone()),
                message: "the time column must be numeric (cycles or hours)".into(),
            });
        }
        let unit_is_numeric = self.columns[unit].numeric;
        let mut last: HashMap<String, f64> = HashMap::new();
        let mut first_rows = Vec::with_capacity(SAMPLES);
        records::each(source, self.layout, |_, fields| {
            let key = unit_key(fields[unit], unit_is_numeric);
            let t = parse_number(fields[time]).expect("the time column is numeric");
            if first_rows.len() < SAMPLES {
                first_rows.push((key.clone(), t));
            }
            let entry = last.entry(key).or_insert(t);
            *entry = entry.max(t);
            Ok(())
        })?;
        let samples = first_rows
            .iter()
            .map(|(u, t)| (last[u] - t).min(cap).to_string())
            .collect();
        self.columns.push(ColumnOutline {
            name: REMAINING_LIFE.into(),
            header: REMAINING_LIFE.into(),
            role: Role::Target,
            numeric: true,
            samples,
            levels: usize::MAX,
            first_text_line: None,
        });
        self.life_cap = Some(cap);
        self.life_from = Some((unit, time));
        Ok(())
    }

    fn check(&self) -> Result<(), DatasetError> {
        match self
            .columns
            .iter()
            .filter(|c| c.role == Role::Target)
            .count()
        {
            0 => {
                return Err(DatasetError::general(
                    "no target column: name one with --target",
                ))
            }
            1 => {}
            _ => return Err(DatasetError::general("more than one target column")),
        }
        if let Some(column) = self
            .columns
            .iter()
            .find(|c| c.role == Role::Input && !c.numeric)
        {
            return Err(DatasetError {
                line: column.first_text_line,
                column: Some(column.header.clone()),
                message: "a numeric input holds text; make it categorical or ignore it".into(),
            });
        }
        if !self
            .columns
            .iter()
            .any(|c| matches!(c.role, Role::Input | Role::Categorical))
        {
            return Err(DatasetError::general("no input columns"));
        }
        if self.profile == DatasetProfile::RunToFailure
            && !self.columns.iter().any(|c| c.role == Role::Unit)
        {
            return Err(DatasetError::general(
                "a run-to-failure data set needs a unit column",
            ));
        }
        Ok(())
    }
}

/// A unit's name as its column's values give it, so `1.0` and `1` are one unit.
pub(super) fn unit_key(field: &str, numeric: bool) -> String {
    match parse_number(field) {
        Some(number) if numeric => number.to_string(),
        _ => field.to_string(),
    }
}

/// What one column has shown so far in the survey.
struct Tally {
    header: String,
    numeric: bool,
    /// Distinct numbers (as bits), up to one past a flat series' most.
    numbers: Vec<u64>,
    /// Distinct texts, up to one past a categorical column's most.
    texts: Vec<String>,
    first_text_line: Option<usize>,
    samples: Vec<String>,
}

impl Tally {
    fn observe(&mut self, line: usize, field: &str) {
        match parse_number(field) {
            Some(number) => {
                let bits = number.to_bits();
                if self.numbers.len() <= FLAT_LEVELS && !self.numbers.contains(&bits) {
                    self.numbers.push(bits);
                }
            }
            None => {
                if self.numeric {
                    self.first_text_line = Some(line);
                }
                self.numeric = false;
            }
        }
        if self.texts.len() <= CATEGORY_LEVELS && !self.texts.iter().any(|t| t == field) {
            self.texts.push(field.to_string());
        }
        if self.samples.len() < SAMPLES {
            self.samples.push(field.to_string());
        }
    }

    fn outline(self) -> ColumnOutline {
        let (levels, samples) = if self.numeric {
            let samples = self
                .samples
                .iter()
                .map(|s| parse_number(s).expect("a numeric column").to_string())
                .collect();
            (self.numbers.len(), samples)
        } else {
            (self.texts.len(), self.samples)
        };
        ColumnOutline {
            name: super::column_key(&self.header),
            header: self.header,
            role: Role::Ignored,
            numeric: self.numeric,
            samples,
            levels,
            first_text_line: self.first_text_line,
        }
    }
}

/// One pass over the records: every one checked, each column's kind and levels learned.
fn survey(
    source: &(impl Source + ?Sized),
    layout: Layout,
) -> Result<(Vec<ColumnOutline>, usize), DatasetError> {
    let mut tallies: Vec<Tally> = records::headers(source, layout)?
        .into_iter()
        .map(|header| Tally {
            header,
            numeric: true,
            numbers: Vec::new(),
            texts: Vec::new(),
            first_text_line: None,
            samples: Vec::new(),
        })
        .collect();
    let mut rows = 0;
    records::each(source, layout, |line, fields| {
        for (tally, field) in tallies.iter_mut().zip(fields) {
            if field.is_empty() {
                return Err(DatasetError::at(line, Some(&tally.header), "empty value"));
            }
            tally.observe(line, field);
        }
        rows += 1;
        Ok(())
    })?;
    Ok((tallies.into_iter().map(Tally::outline).collect(), rows))
}
