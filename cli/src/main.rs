//! `billwatch`: summarize AWS billing reports, locally or from S3.

mod alert_order;
mod anomalies;
mod budgets;
mod daily;
mod error;
mod generate;
mod queries;
mod summarize;
mod table;

use clap::{Parser, Subcommand};
use error::CliError;
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
    /// Live totals of a billing period, per payer, account, service and currency.
    Totals(queries::TotalsArgs),
    /// Month-by-month totals of one account and service.
    History(queries::HistoryArgs),
    /// The reports ingested for a billing period, and which one is live.
    Reports(queries::PeriodArgs),
    /// What was alerted for a billing period, when and why; `alerts test` checks subscriptions.
    Alerts(queries::AlertsArgs),
    /// Cost anomalies: what was detected for a period, or (--report FILE) what a local
    /// report would raise, with no AWS.
    Anomalies(anomalies::Args),
    /// Day-by-day spend of one account and service in a period, charted, anomalies marked.
    Daily(daily::Args),
    /// Manage budgets.
    #[command(subcommand)]
    Budgets(budgets::Command),
}

fn main() -> ExitCode {
    match try_main(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

fn try_main(cli: Cli) -> Result<(), CliError> {
    let text = match cli.command {
        Command::Summarize(args) => summarize::run(args)?,
        Command::Generate(args) => generate::run(args)?,
        Command::Totals(args) => queries::totals(args)?,
        Command::History(args) => queries::history(args)?,
        Command::Reports(args) => queries::reports(args)?,
        Command::Alerts(args) => queries::alerts(args)?,
        Command::Anomalies(args) => anomalies::run(args)?,
        Command::Daily(args) => daily::run(args)?,
        Command::Budgets(command) => budgets::run(command)?,
    };
    error::print(&text)
}
