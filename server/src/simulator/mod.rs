//! `icantkube simulate`: virtual machines (or a replayed CSV) posting readings to a running
//! icantkube over HTTP at a chosen rate.

pub mod ai4i;
mod client;
pub mod demo;
pub mod fleet;
mod replay;
pub mod turbofan;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cli::SimulateArgs;
use crate::domain::time::{now_ms, to_rfc3339};
pub use client::{IngestClient, Posted};
pub use fleet::{SimulatedReading, VirtualMachine};

/// Requests in flight at once, so a high rate is not capped by one request's latency.
const MAX_IN_FLIGHT: usize = 16;

/// Runs the simulator until `--duration` passes or Ctrl-C.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!("--rate must be a positive number of readings per second");
    }
    if args.machines == 0 || args.batch == 0 {
        bail!("--machines and --batch must be at least 1");
    }
    let client = IngestClient::new(
        &args.target,
        args.token.clone(),
        args.admin_password.clone(),
    )?;
    if let Some(path) = &args.replay {
        return replay::run(&client, path, &args).await;
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut machines = build_fleet(&args, &mut rng)?;
    for (name, machine) in &machines {
        client
            .ensure_machine(name, machine.profile(), &machine.attributes())
            .await?;
    }
    let run_id: u32 = rng.random();
    let progress = progress_bar(&args);
    let started = Instant::now();
    let pace = Duration::from_secs_f64(args.batch as f64 / args.rate);
    let mut ticker = tokio::time::interval(pace);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut posts: JoinSet<anyhow::Result<Posted>> = JoinSet::new();
    let mut totals = Posted::default();
    let mut counter: u64 = 0;
    let mut next_machine = 0;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        if args
            .duration
            .is_some_and(|limit| started.elapsed() >= limit)
        {
            break;
        }
        tokio::select! {
            _ = &mut ctrl_c => break,
            _ = ticker.tick() => {}
            Some(done) = posts.join_next() => {
                add(&mut totals, done.context("a post task panicked")??, &progress);
                continue;
            }
        }
        let (name, machine) = &mut machines[next_machine];
        next_machine = (next_machine + 1) % args.machines;
        let profile = machine.profile();
        let batch: Vec<serde_json::Value> = (0..args.batch)
            .map(|_| {
                counter += 1;
                let mut reading = machine
                    .next(&mut rng)
                    .to_json(profile, &format!("{run_id:08x}-{counter}"));
                reading["timestamp"] = serde_json::json!(to_rfc3339(now_ms()));
                reading
            })
            .collect();
        let body = serde_json::to_vec(&batch).context("Failed to encode a batch")?;
        let permit = in_flight.clone().acquire_owned().await?;
        let client = client.clone();
        let name = name.clone();
        posts.spawn(async move {
            let _permit = permit;
            client.post_readings(&name, "application/json", body).await
        });
    }
    while let Some(done) = posts.join_next().await {
        add(
            &mut totals,
            done.context("a post task panicked")??,
            &progress,
        );
    }
    progress.finish_and_clear();
    println!(
        "stored {} readings ({} duplicates, {} retries) on {} machines in {:.1} s",
        totals.stored,
        totals.duplicates,
        totals.retries,
        args.machines,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn add(totals: &mut Posted, posted: Posted, progress: &ProgressBar) {
    totals.stored += posted.stored;
    totals.duplicates += posted.duplicates;
    totals.retries += posted.retries;
    progress.inc(posted.stored + posted.duplicates);
    progress.set_message(format!(
        "{} stored, {} retries",
        totals.stored, totals.retries
    ));
}

/// The progress bar: a bar when the end is known, a counter otherwise.
fn progress_bar(args: &SimulateArgs) -> ProgressBar {
    match args.duration {
        Some(duration) => {
            let expected = (duration.as_secs_f64() * args.rate).ceil() as u64;
            ProgressBar::new(expected).with_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} readings ({per_sec}) {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            )
        }
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{elapsed_precise} {pos} readings ({per_sec}) {msg}")
                .expect("valid template"),
        ),
    }
}

/// The virtual machines named `PREFIX-01`, `PREFIX-02`, ...
fn build_fleet(
    args: &SimulateArgs,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<(String, VirtualMachine)>> {
    (1..=args.machines)
        .map(|index| {
            let machine = match args.profile.as_str() {
                "ai4i2020" => VirtualMachine::milling(ai4i::Variant::draw(rng), rng),
                "turbofan" => VirtualMachine::turbofan(rng.random_range(0.0..0.8), rng),
                "mixed" if index % 4 == 0 => {
                    VirtualMachine::turbofan(rng.random_range(0.0..0.8), rng)
                }
                "mixed" => VirtualMachine::milling(ai4i::Variant::draw(rng), rng),
                other => bail!("unknown --profile {other:?}: use ai4i2020, turbofan or mixed"),
            };
            Ok((format!("{}-{index:02}", args.prefix), machine))
        })
        .collect()
}
