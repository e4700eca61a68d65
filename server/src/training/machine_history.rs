//! A machine's own labelled readings as a training data set, in the layout of its profile so
//! the data set is recognised the same way an uploaded one would be.

use crate::db::machines::Machine;
use crate::db::readings::LabelledReading;
use crate::domain::profiles::Profile;
use ml::dataset::AI4I_MODES;

/// Why a machine's history cannot be trained on.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{machine} has no readings labelled with whether it failed yet")]
    NoLabels { machine: String },
    #[error("no run of {machine} has ended in a failure yet: remaining life needs whole runs")]
    NoCompleteRun { machine: String },
    #[error("{machine} is a {profile} machine; only built-in profiles can be exported")]
    UnknownProfile { machine: String, profile: String },
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

/// A machine's history written as CSV a reading at a time; [`HistoryCsv::take`] hands over
/// what is written so far, so a long history never sits whole in memory.
pub struct HistoryCsv {
    machine: String,
    layout: Layout,
    writer: csv::Writer<Vec<u8>>,
    rows: usize,
}

enum Layout {
    /// AI4I 2020's own header: every reading whose failure is known, with the mode flags.
    Milling { variant: String },
    /// Each run that ended in a failure is a unit, cycle by cycle; the run still going is left
    /// out, as its remaining life is not known.
    RunsToFailure {
        units: usize,
        run: Vec<LabelledReading>,
    },
}

impl HistoryCsv {
    /// Writes the header of the machine's profile.
    pub fn new(machine: &Machine) -> Result<HistoryCsv, HistoryError> {
        let (layout, header) = match Profile::from_name(&machine.profile) {
            Some(Profile::Ai4i2020) => {
                let mut header = vec!["UDI".to_string(), "Type".to_string()];
                header.extend(
                    machine
                        .schema
                        .sensors()
                        .iter()
                        .map(|s| format!("{} [{}]", s.label, s.unit)),
                );
                header.push("Machine failure".to_string());
                header.extend(AI4I_MODES.iter().map(|m| m.to_uppercase()));
                let variant = machine.attributes.get("type").cloned().unwrap_or_default();
                (Layout::Milling { variant }, header)
            }
            Some(Profile::Turbofan) => {
                let mut header = vec!["unit".to_string(), "cycle".to_string()];
                header.extend(machine.schema.keys().iter().map(|k| k.to_string()));
                let layout = Layout::RunsToFailure {
                    units: 0,
                    run: Vec::new(),
                };
                (layout, header)
            }
            None => {
                return Err(HistoryError::UnknownProfile {
                    machine: machine.name.clone(),
                    profile: machine.profile.clone(),
                })
            }
        };
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&header)?;
        Ok(HistoryCsv {
            machine: machine.name.clone(),
            layout,
            writer,
            rows: 0,
        })
    }

    /// The next reading, in the order they were recorded.
    pub fn push(&mut self, reading: LabelledReading) -> Result<(), HistoryError> {
        match &mut self.layout {
            Layout::Milling { variant } => {
                let Some(failure) = reading.failure else {
                    return Ok(());
                };
                self.rows += 1;
                let mut record = vec![self.rows.to_string(), variant.clone()];
                record.extend(reading.values.iter().map(f64::to_string));
                record.push(u8::from(failure != 0).to_string());
                let mode = reading
                    .failure_mode
                    .as_deref()
                    .unwrap_or_default()
                    .to_lowercase();
                record.extend(
                    AI4I_MODES
                        .iter()
                        .map(|m| u8::from(failure != 0 && mode.contains(m)).to_string()),
                );
                self.writer.write_record(&record)?;
            }
            Layout::RunsToFailure { units, run } => {
                let failed = reading.failure == Some(1);
                run.push(reading);
                if failed {
                    *units += 1;
                    for (cycle, reading) in run.drain(..).enumerate() {
                        let mut record = vec![units.to_string(), (cycle + 1).to_string()];
                        record.extend(reading.values.iter().map(f64::to_string));
                        self.writer.write_record(&record)?;
                        self.rows += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// The CSV written since the last call.
    pub fn take(&mut self) -> Result<Vec<u8>, HistoryError> {
        let written = std::mem::replace(&mut self.writer, csv::Writer::from_writer(Vec::new()));
        Ok(written
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?)
    }

    /// The rows written in all, or why the history cannot be trained on.
    pub fn finish(self) -> Result<usize, HistoryError> {
        let machine = self.machine;
        match self.layout {
            Layout::Milling { .. } if self.rows == 0 => Err(HistoryError::NoLabels { machine }),
            Layout::RunsToFailure { units: 0, .. } => Err(HistoryError::NoCompleteRun { machine }),
            _ => Ok(self.rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Status;
    use ml::dataset::DatasetProfile;
    use ml::{Dataset, LoadOptions};

    fn machine(profile: Profile, attributes: &[(&str, &str)]) -> Machine {
        Machine {
            id: 1,
            name: "m-1".into(),
            display_name: "M 1".into(),
            profile: profile.name().into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            schema: profile.schema(),
            ..Machine::example("m-1", Status::Unknown, None, None)
        }
    }

    /// The whole CSV of these readings, taken out in pieces as the export does.
    fn labelled_csv(
        machine: &Machine,
        readings: &[LabelledReading],
    ) -> Result<(Vec<u8>, usize), HistoryError> {
        let mut history = HistoryCsv::new(machine)?;
        let mut csv = Vec::new();
        for reading in readings {
            history.push(reading.clone())?;
            csv.append(&mut history.take()?);
        }
        Ok((csv, history.finish()?))
    }

    fn reading(values: Vec<f64>, failure: Option<i64>, mode: Option<&str>) -> LabelledReading {
        LabelledReading {
            values,
            failure,
            failure_mode: mode.map(str::to_string),
        }
    }

    #[test]
    fn a_mill_history_reads_back_as_ai4i_with_its_labels() {
        let mill = machine(Profile::Ai4i2020, &[("type", "M")]);
        let values = vec![298.1, 308.6, 1551.0, 42.8, 0.0];
        let readings = vec![
            reading(values.clone(), Some(0), None),
            reading(values.clone(), None, None),
            reading(values.clone(), Some(1), Some("HDF")),
            reading(values, Some(0), None),
        ];
        let (csv, rows) = labelled_csv(&mill, &readings).unwrap();
        assert_eq!(rows, 3, "the unlabelled reading is left out");
        let data = Dataset::load(&csv, &LoadOptions::default()).unwrap();
        assert_eq!(data.profile, DatasetProfile::Ai4i2020);
        assert_eq!(data.target().header, "Machine failure");
        assert_eq!(data.target_values().unwrap(), vec![0.0, 1.0, 0.0]);
        let hdf = &data.columns[data.find("HDF").unwrap()];
        assert_eq!(hdf.values.text(1), "1");
        assert_eq!(hdf.values.text(0), "0");
    }

    #[test]
    fn an_engine_history_keeps_only_runs_that_ended_in_a_failure() {
        let engine = machine(Profile::Turbofan, &[]);
        let sensors = engine.schema.keys().len();
        let cycle = |v: f64| vec![v; sensors];
        let mut readings = Vec::new();
        for run in 0..2 {
            for c in 0..40 {
                let last = c == 39;
                readings.push(reading(
                    cycle(f64::from(run * 100 + c)),
                    Some(i64::from(last)),
                    None,
                ));
            }
        }
        readings.push(reading(cycle(999.0), None, None));
        let (csv, rows) = labelled_csv(&engine, &readings).unwrap();
        assert_eq!(rows, 80, "the unfinished run is left out");
        let text = String::from_utf8(csv).unwrap();
        assert!(text.lines().nth(1).unwrap().starts_with("1,1,"));
        assert!(text.lines().nth(80).unwrap().starts_with("2,40,"));
        assert!(!text.contains("999"));

        let error = labelled_csv(&engine, &readings[..30]).unwrap_err();
        assert!(error.to_string().contains("ended in a failure"), "{error}");
    }
}
