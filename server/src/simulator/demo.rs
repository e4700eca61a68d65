//! Demo mode: a simulated fleet seeded on first start and kept streaming in-process, so the
//! site is alive from the first second; its failure models are trained at first start from
//! simulated data (nothing from outside ships with the product).

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::task::JoinHandle;

use app::model::Status;

use crate::db::machines::{self, Machine, NewMachine};
use crate::db::{model_versions, Database};
use crate::domain::profiles::{Profile, Variant};
use crate::domain::time::now_ms;
use crate::domain::MachineName;
use crate::ingest::Ingest;
use crate::simulator::ai4i::MillingMachine;
use crate::simulator::turbofan::Engine;
use crate::simulator::VirtualMachine;
use crate::training::local::ChildProgram;
use ml::{self, Algorithm, Dataset, Hyperparameters, LoadOptions, TrainOptions};

/// Readings of history each demo machine starts with.
const BACKFILL: usize = 120;

/// The demo fleet: (name, display name, kind).
const FLEET: [(&str, &str, &str, DemoKind); 12] = [
    (
        "mill-01",
        "Mill 01",
        "Hall A",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-02",
        "Mill 02",
        "Hall A",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-03",
        "Mill 03",
        "Hall A",
        DemoKind::Milling(Variant::Medium),
    ),
    (
        "mill-04",
        "Mill 04",
        "Hall A",
        DemoKind::Milling(Variant::High),
    ),
    (
        "mill-05",
        "Mill 05",
        "Hall B",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-06",
        "Mill 06",
        "Hall B",
        DemoKind::Milling(Variant::Medium),
    ),
    (
        "mill-07",
        "Mill 07",
        "Hall B",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-08",
        "Mill 08",
        "Hall B",
        DemoKind::Milling(Variant::High),
    ),
    (
        "mill-09",
        "Mill 09",
        "Hall C",
        DemoKind::Milling(Variant::Medium),
    ),
    (
        "engine-01",
        "Engine 01",
        "Test cell",
        DemoKind::Turbofan(0.1),
    ),
    (
        "engine-02",
        "Engine 02",
        "Test cell",
        DemoKind::Turbofan(0.5),
    ),
    (
        "engine-03",
        "Engine 03",
        "Test cell",
        DemoKind::Turbofan(0.85),
    ),
];

#[derive(Clone, Copy)]
enum DemoKind {
    Milling(Variant),
    /// An engine already this far through its life.
    Turbofan(f64),
}

/// Same seed, same demo: the fleet looks the same on every fresh start.
const SEED: u64 = 2020;

/// The demo's virtual machines; seeding and streaming advance the same simulation, so the
/// live readings carry on where the seeded history ends.
pub struct DemoFleet {
    rng: StdRng,
    machines: Vec<VirtualMachine>,
}

impl Default for DemoFleet {
    fn default() -> Self {
        let mut rng = StdRng::seed_from_u64(SEED);
        let machines = FLEET
            .iter()
            .map(|(_, _, _, kind)| match *kind {
                DemoKind::Milling(variant) => VirtualMachine::milling(variant, &mut rng),
                // New engines: seeding runs each through its history up to its wear.
                DemoKind::Turbofan(_) => VirtualMachine::turbofan(0.0, &mut rng),
            })
            .collect();
        DemoFleet { rng, machines }
    }
}

/// Seeds the demo fleet (first start only), then keeps it streaming and trains its models in
/// the background; answers the two tasks, for the server to stop with it. The models are
/// trained by `training`, a child process (`icantkube train --demo`) as the local runner
/// trains a run, so the forests' working memory never lands in the server; stopping the task
/// kills the process.
pub async fn start(
    db: &Database,
    ingest: &Ingest,
    interval: Duration,
    training: ChildProgram,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut fleet = DemoFleet::default();
    fleet.seed(db, ingest, interval).await?;
    let streaming = tokio::spawn(fleet.stream(db.clone(), ingest.clone(), interval));
    let db = db.clone();
    let trained = tokio::spawn(async move {
        // A busy database can refuse a write; the demo must not stay unscored for it.
        for attempt in 1..=TRAINING_ATTEMPTS {
            match train_in_child(&db, &training).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::error!(%error, attempt, "demo models not trained");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    });
    Ok(vec![streaming, trained])
}

/// Times the demo's training process is started before the demo is left unscored.
const TRAINING_ATTEMPTS: u32 = 3;

/// Why the demo's training process did not train the demo models.
#[derive(Debug, thiserror::Error)]
pub enum DemoTrainingError {
    #[error("the demo machines could not be read: {0}")]
    Storage(#[from] crate::error::Error),
    #[error("the demo's training process ({executable}) could not be started: {source}")]
    Start {
        executable: String,
        source: std::io::Error,
    },
    #[error("the demo's training process could not be waited for: {0}")]
    Wait(std::io::Error),
    /// It ran and failed: how it ended and the last lines of its log.
    #[error("the demo's training process failed: {0}")]
    Failed(String),
}

/// Starts `icantkube train --demo` when a demo machine has no model yet, and waits for it.
async fn train_in_child(db: &Database, training: &ChildProgram) -> Result<(), DemoTrainingError> {
    if waiting(db).await?.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut child =
        training
            .spawn(&["train", "--demo"])
            .map_err(|source| DemoTrainingError::Start {
                executable: training.executable.display().to_string(),
                source,
            })?;
    let process = child.id();
    tracing::info!(process, "demo models training in a child process");
    let status = child.wait().await.map_err(DemoTrainingError::Wait)?;
    if !status.success() {
        return Err(DemoTrainingError::Failed(child.reason(status)));
    }
    tracing::info!(
        process,
        seconds = started.elapsed().as_secs_f64(),
        "demo models trained in the child process"
    );
    Ok(())
}

impl DemoFleet {
    /// Registers the demo fleet with some history, spaced like the live readings `interval`
    /// apart, unless the database has machines already.
    #[tracing::instrument(name = "Seeding the demo fleet", skip_all)]
    pub async fn seed(
        &mut self,
        db: &Database,
        ingest: &Ingest,
        interval: Duration,
    ) -> anyhow::Result<()> {
        if machines::count(db.pool()).await? > 0 {
            return Ok(());
        }
        let now = now_ms();
        let step = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        for ((name, display_name, place, kind), machine) in FLEET.iter().zip(&mut self.machines) {
            let profile = machine.profile();
            let new = NewMachine {
                name: MachineName::parse(name).map_err(anyhow::Error::msg)?,
                display_name: display_name.to_string(),
                profile: profile.name().to_string(),
                attributes: machine.attributes().into_iter().collect::<BTreeMap<_, _>>(),
                place: Some(place.to_string()),
                schema: profile.schema(),
            };
            let registered = machines::insert(db.pool(), &new).await?;
            let mut history = Vec::new();
            match kind {
                DemoKind::Milling(_) => {
                    history.extend((0..BACKFILL).map(|_| machine.next(&mut self.rng)));
                }
                // An engine's series features count from its first cycle, so it gets its whole
                // life so far.
                DemoKind::Turbofan(worn) => loop {
                    let reading = machine.next(&mut self.rng);
                    let remaining = reading.labels.time_to_failure.unwrap_or(0.0);
                    history.push(reading);
                    let cycles = history.len() as f64;
                    if cycles / (cycles + remaining) >= *worn {
                        break;
                    }
                },
            }
            let count = history.len() as i64;
            let history: Vec<_> = history
                .into_iter()
                .enumerate()
                .map(|(i, reading)| {
                    let at = now.saturating_sub((count - i as i64) * step.min(86_400_000));
                    reading.into_reading(at, None)
                })
                .collect();
            ingest.store(&registered, history).await?;
            machines::set_status(db.pool(), registered.id, Status::Training).await?;
        }
        tracing::info!(machines = FLEET.len(), "demo fleet seeded");
        Ok(())
    }

    /// Sends one reading per demo machine every `interval`, until the task is aborted.
    pub async fn stream(mut self, db: Database, ingest: Ingest, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // Read afresh each tick: a promotion changes which model scores the next reading.
            let registered = match machines::list(db.pool()).await {
                Ok(list) => list,
                Err(error) => {
                    tracing::warn!(%error, "demo machines not read");
                    continue;
                }
            };
            for ((name, _, _, _), machine) in FLEET.iter().zip(self.machines.iter_mut()) {
                let reading = machine.next(&mut self.rng).into_reading(now_ms(), None);
                // A machine removed by an admin is simply no longer fed.
                let Some(target) = registered.iter().find(|m| m.name == *name) else {
                    continue;
                };
                if let Err(error) = ingest.store(target, vec![reading]).await {
                    tracing::warn!(machine = %target.name, %error, "demo reading not stored");
                }
            }
        }
    }
}

/// Simulated processes per milling machine, and machines, in the demo's training data.
const TRAINING_PROCESSES: usize = 1_250;
const TRAINING_MILLS: usize = 8;
/// Engines run to failure for the demo's remaining-life model.
const TRAINING_ENGINES: usize = 50;

/// The demo machines without a model yet.
async fn waiting(db: &Database) -> crate::error::Result<Vec<Machine>> {
    Ok(machines::list(db.pool())
        .await?
        .into_iter()
        .filter(|m| m.active_model_version_id.is_none())
        .filter(|m| FLEET.iter().any(|demo| demo.0 == m.name))
        .collect())
}

/// Trains a model per demo profile from simulated data, registers it and promotes it to the
/// demo machines that have no model yet: what `icantkube train --demo` does, in the child
/// process a demo-mode server starts after seeding.
#[tracing::instrument(name = "Training the demo models", skip_all)]
pub async fn train_models(db: Database) -> anyhow::Result<()> {
    for profile in Profile::ALL {
        let waiting: Vec<Machine> = waiting(&db)
            .await?
            .into_iter()
            .filter(|m| m.profile == profile.name())
            .collect();
        if waiting.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let model = tokio::task::spawn_blocking(move || train_demo_model(profile)).await??;
        let registered = model_versions::insert(
            db.pool(),
            model_versions::NewModelVersion {
                profile: profile.name(),
                machine_id: None,
                training_run_id: None,
                algorithm: model.card.algorithm.name(),
                metrics: serde_json::to_string(&model.card.evaluation)?,
                threshold: model.card.threshold,
                artifact: model.to_bytes(),
            },
        )
        .await?;
        for machine in &waiting {
            if let Err(error) =
                model.bind(&machine.name, &machine.schema.keys(), &machine.attributes)
            {
                tracing::error!(%error, "demo model not promoted");
                continue;
            }
            model_versions::promote(
                db.pool(),
                machine.id,
                registered.id,
                "demo",
                "trained on simulated data at first start",
            )
            .await?;
            machines::set_status(db.pool(), machine.id, Status::Unknown).await?;
        }
        tracing::info!(
            profile = profile.name(),
            version = registered.version,
            seconds = started.elapsed().as_secs_f64(),
            "demo model trained and promoted"
        );
    }
    Ok(())
}

fn train_demo_model(profile: Profile) -> anyhow::Result<ml::Model> {
    let mut rng = StdRng::seed_from_u64(SEED + 1);
    let (csv, options) = match profile {
        Profile::Ai4i2020 => (
            simulated_milling_csv(&mut rng, TRAINING_MILLS, TRAINING_PROCESSES)?,
            TrainOptions::default(),
        ),
        Profile::Turbofan => (
            simulated_engines_csv(&mut rng, TRAINING_ENGINES)?,
            // Fewer trees and folds: this one runs while the demo site is already serving.
            TrainOptions {
                algorithm: Some(Algorithm::RandomForest),
                hyperparameters: Some(Hyperparameters {
                    trees: 40,
                    ..Hyperparameters::defaults(Algorithm::RandomForest, false)
                }),
                folds: 3,
                derived: Vec::new(),
            },
        ),
    };
    let dataset = Dataset::load(csv.as_bytes(), &LoadOptions::default())?;
    Ok(ml::train(&dataset, &options, &mut |_: &str, _: u8| {})?)
}

/// Milling processes in the AI4I 2020 layout, labelled by the simulation.
pub fn simulated_milling_csv(
    rng: &mut StdRng,
    mills: usize,
    processes: usize,
) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "UDI",
        "Type",
        "Air temperature [K]",
        "Process temperature [K]",
        "Rotational speed [rpm]",
        "Torque [Nm]",
        "Tool wear [min]",
        "Machine failure",
        "TWF",
        "HDF",
        "PWF",
        "OSF",
        "RNF",
    ])?;
    let flag = |fired: bool| u8::from(fired).to_string();
    let mut udi = 0;
    for _ in 0..mills {
        let mut mill = MillingMachine::new(Some(Variant::draw(rng)), rng);
        for _ in 0..processes {
            let p = mill.next(rng);
            udi += 1;
            writer.write_record([
                udi.to_string(),
                p.variant.letter().to_string(),
                p.air_temperature.to_string(),
                p.process_temperature.to_string(),
                p.rotational_speed.to_string(),
                p.torque.to_string(),
                p.tool_wear.to_string(),
                flag(p.modes.any()),
                flag(p.modes.twf),
                flag(p.modes.hdf),
                flag(p.modes.pwf),
                flag(p.modes.osf),
                flag(p.modes.rnf),
            ])?;
        }
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// Engines run to failure, one row per cycle, sensors named like the turbofan profile's.
pub fn simulated_engines_csv(rng: &mut StdRng, engines: usize) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let schema = Profile::Turbofan.schema();
    let mut header = vec!["unit".to_string(), "cycle".to_string()];
    header.extend(schema.keys().iter().map(|k| k.to_string()));
    writer.write_record(&header)?;
    for unit in 1..=engines {
        let mut engine = Engine::new(0.0, rng);
        loop {
            let cycle = engine.next(rng);
            let mut record = vec![unit.to_string(), cycle.cycle.to_string()];
            record.extend(cycle.values.iter().map(f64::to_string));
            writer.write_record(&record)?;
            if cycle.remaining == 0 {
                break;
            }
        }
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
