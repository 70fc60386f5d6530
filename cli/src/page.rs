//! `billwatch page --report FILE [--budgets FILE] -o month.html`: the month page of a local
//! report (billwatch_core::page), with no AWS: one self-contained HTML file, per budget of the
//! file (or per currency without one) the month to date against the budget with the forecast and
//! its range, the spend per day with the report's anomalies marked, and what moved.

use crate::error::CliError;
use billwatch_core::anomaly::{self, Config};
use billwatch_core::budget::spec::specs_of;
use billwatch_core::page::{month_page, sections, Page};
use billwatch_core::report::{summarize_path_periods, Limits};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A local report (CUR 1.0 or 2.0, FOCUS, legacy CSV, DBR; a file or a manifest).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    /// Local folder standing in for the bucket root when the report is a manifest.
    #[arg(long, value_name = "DIR")]
    pub bucket_dir: Option<PathBuf>,
    /// A budgets file: one part of the page per budget (its [anomalies] settings too).
    #[arg(long, value_name = "FILE")]
    pub budgets: Option<PathBuf>,
    /// Where to write the page (one HTML file).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<String, CliError> {
    let (budgets, config) = match &args.budgets {
        Some(path) => (
            crate::budgets::budgets_of(path)?,
            crate::budgets::anomaly_config(path)?,
        ),
        None => (Vec::new(), Config::default()),
    };
    let specs = specs_of(&budgets);
    let summaries = summarize_path_periods(
        &args.report,
        args.bucket_dir.as_deref(),
        &Limits::default(),
        &specs,
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    // The newest month of the report (a FOCUS dataset may hold several).
    let summary = summaries
        .last()
        .ok_or_else(|| CliError::input(format!("{}: no billing month", args.report.display())))?;
    let period = summary.billing_period.ok_or_else(|| {
        CliError::input(format!(
            "{}: the report names no billing period",
            args.report.display()
        ))
    })?;
    let findings = anomaly::find(summary, period, &[], &config);
    let page = Page {
        period,
        status: summary.status,
        as_of: summary.as_of.clone(),
        report_key: args.report.display().to_string(),
        sections: sections(summary, &budgets, &findings),
    };
    let html = month_page(&page);
    std::fs::write(&args.out, &html)
        .map_err(|e| CliError::input(format!("{}: cannot write: {e}", args.out.display())))?;
    Ok(format!(
        "wrote {} ({} bytes, {} part(s)) for {period}\n",
        args.out.display(),
        html.len(),
        page.sections.len()
    ))
}
