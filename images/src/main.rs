//! The `images` binary: parses the command line, runs the command, and is the one place that
//! prints an error (with its causes) and exits with status 1.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use images::bump::{bump, Outcome};
use images::changed::{auto_build_images, changed_images};
use images::image_config::ImageConfig;
use images::{Error, Result};

/// Builds and bumps the container images listed in imageConfig.yaml.
#[derive(Parser)]
#[command(name = "images", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the images with `autoBuild: true` whose sources changed, one per line.
    Changed {
        /// The repository root, holding imageConfig.yaml.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The changed paths, relative to the root (otherwise read from standard input, one
        /// per line, as `git diff --name-only` prints them).
        #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with = "all")]
        files: Option<Vec<String>>,
        /// Print every `autoBuild` image (a first push, with nothing to compare with).
        #[arg(long)]
        all: bool,
    },
    /// Set `newTag` of the image in every kustomization under kubernetes/ naming it, when it
    /// has `autoUpdate: true`; print each file changed.
    Bump {
        /// The repository root, holding imageConfig.yaml and kubernetes/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The image, as named in imageConfig.yaml.
        #[arg(long)]
        image: String,
        /// The new tag.
        #[arg(long)]
        tag: String,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("images: error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Changed { root, files, all } => {
            let config = ImageConfig::load(&root)?;
            let names = if all {
                auto_build_images(&config)
            } else {
                let files = match files {
                    Some(files) => files,
                    None => read_stdin()?,
                };
                changed_images(&config, &files)
            };
            for name in names {
                println!("{name}");
            }
        }
        Command::Bump { root, image, tag } => match bump(&root, &image, &tag)? {
            Outcome::AutoUpdateOff => {
                eprintln!("{image} has autoUpdate: false in imageConfig.yaml: nothing changed");
            }
            Outcome::Bumped { changed, unchanged } => {
                for path in &unchanged {
                    eprintln!("{}: {image} is at {tag} already", path.display());
                }
                for path in &changed {
                    println!("{}", path.display());
                }
                if changed.is_empty() && unchanged.is_empty() {
                    eprintln!("no kustomization under kubernetes/ names {image}: nothing changed");
                }
            }
        },
    }
    Ok(())
}

/// The changed paths piped in, one per line.
fn read_stdin() -> Result<Vec<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Error::Stdin(std::io::Error::other(
            "it is a terminal: pipe the paths in, or give --files or --all",
        )));
    }
    stdin
        .lock()
        .lines()
        .collect::<Result<_, _>>()
        .map_err(Error::Stdin)
}
