//! `billwatch page --report FILE [--budgets FILE] -o month.html`: the month page of a local
//! report (billwatch_core::page), with no AWS: one self-contained HTML file, per budget of the
//! file (or per currency without one) the month to date against the budget with the forecast and
//! its range, the spend per day with the report's anomalies marked, and what moved.
//! `billwatch page --period YYYY-MM -o month.html`: the same from the stack: the live
//! deliveries' totals and figures, the stack's budgets and the anomalies it alerted.

use crate::error::CliError;
use billwatch_core::anomaly::{self, Config};
use billwatch_core::budget::spec::specs_of;
use billwatch_core::page::{month_page, sections, Flag, Page};
use billwatch_core::report::{summarize_path_periods, Limits};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A local report (CUR 1.0 or 2.0, FOCUS, legacy CSV, DBR; a file or a manifest); without
    /// it, the stack's live deliveries of --period.
    #[arg(long, value_name = "FILE", conflicts_with = "period")]
    pub report: Option<PathBuf>,
    /// Billing period, YYYY-MM, read from the stack (default: this month).
    #[arg(long)]
    pub period: Option<billwatch_core::period::Period>,
    /// Local folder standing in for the bucket root when the report is a manifest.
    #[arg(long, value_name = "DIR")]
    pub bucket_dir: Option<PathBuf>,
    /// A budgets file: one part of the page per budget (its [anomalies] settings too).
    #[arg(long, value_name = "FILE")]
    pub budgets: Option<PathBuf>,
    /// Where to write the page (one HTML file).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,
}

pub fn run(ctx: &crate::context::Ctx, args: Args) -> Result<String, CliError> {
    let page = match &args.report {
        Some(report) => offline(&args, report)?,
        None => stored(ctx, &args)?,
    };
    write(&args, &page)
}

/// Writes the page, and says so.
fn write(args: &Args, page: &Page) -> Result<String, CliError> {
    let html = month_page(page);
    std::fs::write(&args.out, &html)
        .map_err(|e| CliError::input(format!("{}: cannot write: {e}", args.out.display())))?;
    Ok(format!(
        "wrote {} ({} bytes, {} part(s)) for {}\n",
        args.out.display(),
        html.len(),
        page.sections.len(),
        page.period
    ))
}

/// The page of the stack's live deliveries of the period.
fn stored(ctx: &crate::context::Ctx, args: &Args) -> Result<Page, CliError> {
    let period = args.period.unwrap_or_else(crate::period_arg::this_month);
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let budgets = aws.budgets().list().await?;
        billwatch_aws::page::stored_page(&s.reports, &s.totals, &s.alerts, budgets, period)
            .await?
            .ok_or_else(|| {
                CliError::input(format!(
                    "no delivery of {period} is live: nothing is stored for it yet"
                ))
            })
    })
}

fn offline(args: &Args, report: &std::path::Path) -> Result<Page, CliError> {
    let (budgets, config) = match &args.budgets {
        Some(path) => (
            crate::budgets::budgets_of(path)?,
            crate::budgets::anomaly_config(path)?,
        ),
        None => (Vec::new(), Config::default()),
    };
    let specs = specs_of(&budgets);
    let summaries = summarize_path_periods(
        report,
        args.bucket_dir.as_deref(),
        &Limits::default(),
        &specs,
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    // The newest month of the report (a FOCUS dataset may hold several).
    let summary = summaries
        .last()
        .ok_or_else(|| CliError::input(format!("{}: no billing month", report.display())))?;
    let period = summary.billing_period.ok_or_else(|| {
        CliError::input(format!(
            "{}: the report names no billing period",
            report.display()
        ))
    })?;
    let findings: Vec<Flag> = anomaly::find(summary, period, &[], &config, &[])
        .iter()
        .map(Flag::from)
        .collect();
    Ok(Page {
        period,
        status: summary.status,
        as_of: summary.as_of.clone(),
        report_key: report.display().to_string(),
        sections: sections(summary, &budgets, &findings),
    })
}
