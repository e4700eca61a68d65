//! `simulate --replay FILE.csv`: posts a CSV's rows to the first simulated machine, in batches,
//! at the chosen rate. AI4I 2020 headers are mapped to the profile's sensor keys and labels;
//! any other header is passed through for the service to check.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use super::client::IngestClient;
use crate::cli::SimulateArgs;
use crate::domain::profiles::Profile;

/// AI4I 2020 column names and the sensor keys they map to.
const AI4I_COLUMNS: [(&str, &str); 5] = [
    ("Air temperature [K]", "air_temperature"),
    ("Process temperature [K]", "process_temperature"),
    ("Rotational speed [rpm]", "rotational_speed"),
    ("Torque [Nm]", "torque"),
    ("Tool wear [min]", "tool_wear"),
];
const AI4I_MODES: [&str; 5] = ["TWF", "HDF", "PWF", "OSF", "RNF"];

/// How the input's columns become the ingest API's columns.
struct Mapping {
    header: Vec<String>,
    /// For each output column, the input column it copies.
    sources: Vec<usize>,
    /// Input columns of failure-mode flags (AI4I), folded into `failure_mode`.
    modes: Vec<(usize, &'static str)>,
}

impl Mapping {
    fn from_header(header: &csv::StringRecord) -> Mapping {
        let find = |name: &str| header.iter().position(|column| column == name);
        if find(AI4I_COLUMNS[0].0).is_none() {
            return Mapping {
                header: header.iter().map(str::to_string).collect(),
                sources: (0..header.len()).collect(),
                modes: Vec::new(),
            };
        }
        let mut columns: Vec<(String, usize)> = AI4I_COLUMNS
            .iter()
            .filter_map(|(name, key)| find(name).map(|index| (key.to_string(), index)))
            .collect();
        if let Some(index) = find("Machine failure") {
            columns.push(("failure".to_string(), index));
        }
        if let Some(index) = find("UDI") {
            columns.push(("seq".to_string(), index));
        }
        Mapping {
            header: columns.iter().map(|(key, _)| key.clone()).collect(),
            sources: columns.iter().map(|(_, index)| *index).collect(),
            modes: AI4I_MODES
                .iter()
                .filter_map(|mode| find(mode).map(|index| (index, *mode)))
                .collect(),
        }
    }

    fn output_header(&self) -> Vec<String> {
        let mut header = self.header.clone();
        if !self.modes.is_empty() {
            header.push("failure_mode".to_string());
        }
        header
    }

    fn output_row(&self, record: &csv::StringRecord) -> Vec<String> {
        let mut row: Vec<String> = self
            .sources
            .iter()
            .map(|&index| record.get(index).unwrap_or_default().to_string())
            .collect();
        if !self.modes.is_empty() {
            let mode = self
                .modes
                .iter()
                .find(|(index, _)| record.get(*index) == Some("1"))
                .map(|(_, mode)| *mode)
                .unwrap_or_default();
            row.push(mode.to_string());
        }
        row
    }
}

pub async fn run(client: &IngestClient, path: &Path, args: &SimulateArgs) -> anyhow::Result<()> {
    let profile = Profile::from_name(&args.profile).with_context(|| {
        format!(
            "--replay needs --profile ai4i2020 or turbofan, got {:?}",
            args.profile
        )
    })?;
    let machine = format!("{}-01", args.prefix);
    client.ensure_machine(&machine, profile, &[]).await?;

    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("Failed to open {}", path.display()))?;
    let mapping = Mapping::from_header(reader.headers()?);
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .with_context(|| format!("Failed to read {}", path.display()))?;
    if rows.is_empty() {
        bail!("{} has no rows to replay", path.display());
    }
    let progress = ProgressBar::new(rows.len() as u64).with_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} rows ({per_sec}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let pace = Duration::from_secs_f64(args.batch as f64 / args.rate);
    let mut ticker = tokio::time::interval(pace);
    let (mut stored, mut duplicates) = (0, 0);
    for chunk in rows.chunks(args.batch) {
        if args
            .duration
            .is_some_and(|limit| started.elapsed() >= limit)
        {
            break;
        }
        ticker.tick().await;
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(mapping.output_header())?;
        for record in chunk {
            writer.write_record(mapping.output_row(record))?;
        }
        let body = writer.into_inner().context("Failed to encode a batch")?;
        let posted = client.post_readings(&machine, "text/csv", body).await?;
        stored += posted.stored;
        duplicates += posted.duplicates;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    println!(
        "replayed {} to {machine}: {stored} stored, {duplicates} duplicates, in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
