//! `billwatch`: summarize AWS billing reports, locally or from S3.

mod alert_order;
mod alerts;
mod alerts_channel;
mod anomalies;
mod anomaly_feedback;
mod aws;
mod aws_error;
mod budgets;
mod chart;
mod commitments;
mod context;
mod daily;
mod doctor;
mod error;
mod generate;
mod history;
mod output;
mod page;
mod period_arg;
mod reports;
mod spend_chart;
mod summarize;
mod table;
mod totals;
mod view;

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
    /// The AWS flags before the subcommand (`billwatch --stack NAME alerts`): accepted,
    /// hidden; each command that calls AWS lists them in its own help.
    #[command(flatten)]
    aws: aws::TopAwsArgs,
    /// Output format of every command: table (for people) or json (one object).
    #[arg(long, global = true, value_enum, default_value_t = output::Output::Table)]
    output: output::Output,
}

#[derive(Subcommand)]
enum Command {
    /// Sum a billing report (any AWS format) per account, service and currency.
    Summarize(summarize::Args),
    /// Write a synthetic CUR-shaped report (for benchmarks and demos).
    Generate(generate::Args),
    /// Live totals of a billing period, per payer, account, service and currency.
    Totals(totals::Args),
    /// Month-by-month totals of one account and service.
    History(history::Args),
    /// The reports ingested for a billing period, and which one is live.
    Reports(reports::Args),
    /// What was alerted for a billing period, when and why; `alerts test` checks subscriptions.
    Alerts(alerts::Args),
    /// Cost anomalies: what was detected for a period, or (--report FILE) what a local
    /// report would raise, with no AWS.
    Anomalies(anomalies::Args),
    /// Day-by-day spend of one account and service in a period, charted, anomalies marked.
    Daily(daily::Args),
    /// Reserved Instances and Savings Plans: utilization, unused cost, end dates and coverage,
    /// from the stack (--period) or a local report (--report FILE).
    Commitments(commitments::Args),
    /// The month page: one self-contained HTML file (month to date against each budget,
    /// forecast and range, spend per day, anomalies, movers), from the stack (--period) or a
    /// local report (--report FILE).
    Page(page::Args),
    /// Manage budgets.
    #[command(subcommand)]
    Budgets(budgets::Command),
    /// Check a deployed stack against the template (bucket, notifications or rule, tables,
    /// topics, subscriptions, functions); --live also sends a test report through it.
    Doctor(doctor::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = context::Ctx::new(cli.output, cli.aws.into());
    match try_main(&ctx, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(ctx.connection()),
    }
}

fn try_main(ctx: &context::Ctx, command: Command) -> Result<(), CliError> {
    let text = match command {
        Command::Summarize(args) => summarize::run(ctx, args)?,
        Command::Generate(args) => generate::run(args)?,
        Command::Totals(args) => totals::run(ctx, args)?,
        Command::History(args) => history::run(ctx, args)?,
        Command::Reports(args) => reports::run(ctx, args)?,
        Command::Alerts(args) => alerts::run(ctx, args)?,
        Command::Anomalies(args) => anomalies::run(ctx, args)?,
        Command::Daily(args) => daily::run(ctx, args)?,
        Command::Commitments(args) => commitments::run(ctx, args)?,
        Command::Page(args) => page::run(ctx, args)?,
        Command::Budgets(command) => budgets::run(ctx, command)?,
        Command::Doctor(args) => doctor::run(ctx, args)?,
    };
    error::print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every subcommand, flag and argument of the whole tree, as `path: what`, that has no help.
    fn missing_help(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                missing.push(format!("{path}: {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_name() != "help"
                && sub
                    .get_about()
                    .is_none_or(|h| h.to_string().trim().is_empty())
            {
                missing.push(sub_path.clone());
            }
            missing_help(sub, &sub_path, missing);
        }
    }

    #[test]
    fn every_subcommand_flag_and_argument_has_help() {
        let command = Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        missing_help(&command, "billwatch", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
