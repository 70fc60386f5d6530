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
    use billwatch_aws::store::{live_figures, live_totals};
    use billwatch_core::alert::AlertKind;
    use billwatch_core::budget::Scope;
    use billwatch_core::digest::OpenAnomaly;
    use billwatch_core::report::{ReportSummary, Status};
    let period = args.period.unwrap_or_else(crate::period_arg::this_month);
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let pointers = s.reports.pointers(period).await?;
        let Some(first) = pointers.first() else {
            return Err(CliError::input(format!(
                "no delivery of {period} is live: nothing is stored for it yet"
            )));
        };
        let stored = live_totals(&s.reports, &s.totals, period, None).await?;
        let figures = live_figures(&s.reports, &s.totals, period)
            .await?
            .map(|m| m.figures)
            .unwrap_or_default();
        // A plain tag budget's spend comes from the report's tag totals, which are not stored.
        let budgets: Vec<_> = aws
            .budgets()
            .list()
            .await?
            .into_iter()
            .filter(|b| b.summed_in_pass() || !matches!(b.scope, Scope::Tag { .. }))
            .collect();
        let flags: Vec<Flag> = s
            .alerts
            .list(period)
            .await?
            .into_iter()
            .filter(|a| a.kind == AlertKind::Anomaly)
            .filter_map(|a| OpenAnomaly::from_key(&a.key, &a.reason))
            .filter_map(|a| {
                Some(Flag {
                    day: chrono::NaiveDate::parse_from_str(&a.day, "%Y-%m-%d").ok()?,
                    account: a.account,
                    service: a.service,
                    currency: a.currency,
                    impact: None,
                })
            })
            .collect();
        let status = if pointers.iter().all(|p| p.status == Status::Final) {
            Status::Final
        } else {
            Status::Estimated
        };
        let as_of = pointers.iter().filter_map(|p| p.as_of.clone()).max();
        let totals = billwatch_aws::store::core_totals(&stored, period);
        let summary = ReportSummary {
            source: "stack".into(),
            format: first.format,
            payer_account_id: (pointers.len() == 1).then(|| first.payer.clone()),
            billing_period: Some(period),
            status,
            as_of: as_of.clone(),
            rows_read: 0,
            rows_summed: 0,
            totals,
            grand_totals: Vec::new(),
            checks: Vec::new(),
            skipped: Default::default(),
            warnings: Vec::new(),
            tag_totals: Vec::new(),
            budgets: figures,
            objects_read: 0,
            delivery_id: None,
            commitments: None,
        };
        let keys: Vec<&str> = pointers.iter().map(|p| p.report_key.as_str()).collect();
        Ok(Page {
            period,
            status,
            as_of,
            report_key: keys.join(", "),
            sections: sections(&summary, &budgets, &flags),
        })
    })
}

/// The page of a local report.
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
    let findings: Vec<Flag> = anomaly::find(summary, period, &[], &config)
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
