//! The `icantkube` binary: parses the command line and runs the chosen command.

use clap::Parser;
use icantkube::cli::offline;
use icantkube::cli::{Cli, Command};
use icantkube::training::worker;
use icantkube::{db, simulator, startup, telemetry};

fn main() -> anyhow::Result<()> {
    icantkube::allocator::limit_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    match cli.command.unwrap_or_default() {
        Command::Serve(args) => {
            let app = startup::Application::build(args.into_settings()?).await?;
            app.run_until_stopped().await
        }
        Command::Migrate(args) => {
            let database =
                db::Database::connect(&args.database_url, args.database_max_connections).await?;
            database.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Simulate(args) => simulator::run(args).await,
        Command::Train(args) if args.demo => {
            let database = db::Database::connect(
                &args.database.database_url,
                args.database.database_max_connections,
            )
            .await?;
            database.migrate().await?;
            let result = simulator::demo::train_models(database.clone()).await;
            database.close().await;
            result
        }
        Command::Train(args) => match args.run_id {
            Some(run_id) => {
                let database = db::Database::connect(
                    &args.database.database_url,
                    args.database.database_max_connections,
                )
                .await?;
                database.migrate().await?;
                let tracking = args.tracking.into_settings();
                let result = worker::run(&database, run_id, &args.runner, tracking.as_ref()).await;
                database.close().await;
                result
            }
            None => offline::train(*args),
        },
        Command::Evaluate(args) => offline::evaluate(args),
        Command::Predict(args) => offline::predict(args),
    }
}
