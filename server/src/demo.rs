//! Demo mode: a simulated fleet seeded on first start and kept streaming in-process, so the
//! site is alive from the first second.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::db::machines::{self, Machine, NewMachine};
use crate::db::Database;
use crate::domain::MachineName;
use crate::ingest;
use crate::profiles::Variant;
use crate::simulator::VirtualMachine;
use crate::time::now_ms;

/// Readings of history each demo machine starts with.
const BACKFILL: usize = 120;

/// The demo fleet: (name, display name, kind).
const FLEET: [(&str, &str, DemoKind); 12] = [
    (
        "mill-01",
        "Mill 01 · hall A",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-02",
        "Mill 02 · hall A",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-03",
        "Mill 03 · hall A",
        DemoKind::Milling(Variant::Medium),
    ),
    (
        "mill-04",
        "Mill 04 · hall A",
        DemoKind::Milling(Variant::High),
    ),
    (
        "mill-05",
        "Mill 05 · hall B",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-06",
        "Mill 06 · hall B",
        DemoKind::Milling(Variant::Medium),
    ),
    (
        "mill-07",
        "Mill 07 · hall B",
        DemoKind::Milling(Variant::Low),
    ),
    (
        "mill-08",
        "Mill 08 · hall B",
        DemoKind::Milling(Variant::High),
    ),
    (
        "mill-09",
        "Mill 09 · hall C",
        DemoKind::Milling(Variant::Medium),
    ),
    (
        "engine-01",
        "Engine 01 · test cell",
        DemoKind::Turbofan(0.1),
    ),
    (
        "engine-02",
        "Engine 02 · test cell",
        DemoKind::Turbofan(0.5),
    ),
    (
        "engine-03",
        "Engine 03 · test cell",
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
            .map(|(_, _, kind)| match *kind {
                DemoKind::Milling(variant) => VirtualMachine::milling(variant, &mut rng),
                DemoKind::Turbofan(worn) => VirtualMachine::turbofan(worn, &mut rng),
            })
            .collect();
        DemoFleet { rng, machines }
    }
}

impl DemoFleet {
    /// Registers the demo fleet with some history, spaced like the live readings `interval`
    /// apart, unless the database has machines already.
    #[tracing::instrument(name = "Seeding the demo fleet", skip_all)]
    pub async fn seed(&mut self, db: &Database, interval: Duration) -> anyhow::Result<()> {
        if machines::count(db.pool()).await? > 0 {
            return Ok(());
        }
        let now = now_ms();
        let step = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        for ((name, display_name, _), machine) in FLEET.iter().zip(&mut self.machines) {
            let profile = machine.profile();
            let new = NewMachine {
                name: MachineName::parse(name).map_err(anyhow::Error::msg)?,
                display_name: display_name.to_string(),
                profile: profile.name().to_string(),
                attributes: machine.attributes().into_iter().collect::<BTreeMap<_, _>>(),
                schema: profile.schema(),
            };
            let registered = machines::insert(db.pool(), &new).await?;
            let history: Vec<_> = (0..BACKFILL)
                .map(|i| {
                    let at = now.saturating_sub((BACKFILL - i) as i64 * step.min(86_400_000));
                    machine.next(&mut self.rng).into_reading(at, None)
                })
                .collect();
            ingest::store(db, &registered, &history).await?;
        }
        tracing::info!(machines = FLEET.len(), "demo fleet seeded");
        Ok(())
    }

    /// Sends one reading per demo machine every `interval`, until the task is aborted.
    pub async fn stream(mut self, db: Database, interval: Duration) {
        let mut registered: Vec<Option<Machine>> = vec![None; FLEET.len()];
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            for (index, machine) in self.machines.iter_mut().enumerate() {
                let reading = machine.next(&mut self.rng).into_reading(now_ms(), None);
                if registered[index].is_none() {
                    registered[index] = machines::find(db.pool(), FLEET[index].0)
                        .await
                        .ok()
                        .flatten();
                }
                // A machine removed by an admin is simply no longer fed.
                let Some(target) = &registered[index] else {
                    continue;
                };
                if let Err(error) = ingest::store(&db, target, &[reading]).await {
                    tracing::warn!(machine = %target.name, %error, "demo reading not stored");
                }
            }
        }
    }
}
