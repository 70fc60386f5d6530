//! `billwatch`: summarize AWS billing reports, locally or from S3.

mod aws;
mod generate;
mod summarize;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "billwatch",
    version,
    about = "Watch an AWS bill as it is written"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sum a billing report (any AWS format) per account, service and currency.
    Summarize(summarize::Args),
    /// Write a synthetic CUR-shaped report (for benchmarks and demos).
    Generate(generate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Summarize(args) => summarize::run(args),
        Command::Generate(args) => generate::run(args),
    }
}
