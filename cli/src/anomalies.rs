//! `billwatch anomalies --report FILE`: the anomaly detection of the ingest function, run on a
//! local report (or manifest) with no AWS at all, printing what would alert, so sensitivity and
//! floors can be tuned on one's own CUR before deploying.

use crate::error::CliError;
use billwatch_core::anomaly::{self, Config, Prior};
use billwatch_core::period::Period;
use billwatch_core::report::{drivers_path, summarize_path_periods, Limits, ReportSummary};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct OfflineArgs {
    /// A local CUR 1.0, CUR 2.0 or FOCUS report, or a CUR manifest (its parts under
    /// --bucket-dir). Every complete day is judged, as the month's deliveries would have.
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    /// Last month's report of the same payer: baselines of the month's first two weeks reach
    /// into it (without it those days are judged on this month's days only).
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// Local folder standing in for the bucket root when a report is a manifest.
    #[arg(long, value_name = "DIR")]
    pub bucket_dir: Option<PathBuf>,
    /// Only this billing period (YYYY-MM) of a report that spans several.
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<Period>,
    /// Robust standard deviations above the baseline median a day must be (default 4).
    #[arg(long, value_name = "K")]
    pub sensitivity: Option<Decimal>,
    /// The least extra spend over the baseline median, in the report's currency (default 20).
    #[arg(long, value_name = "AMOUNT")]
    pub min_impact: Option<Decimal>,
    /// The least increase over the baseline median, in percent (default 50).
    #[arg(long, value_name = "PERCENT")]
    pub min_increase_percent: Option<Decimal>,
    /// Print one JSON object instead of the alert texts.
    #[arg(long)]
    pub json: bool,
    /// Answers to apply (see `Args::feedback`).
    #[arg(skip)]
    pub feedback: Vec<billwatch_core::anomaly::Feedback>,
}

fn summaries(path: &Path, dir: Option<&Path>) -> Result<Vec<ReportSummary>, CliError> {
    summarize_path_periods(path, dir, &Limits::default(), &Default::default())
        .map_err(|e| CliError::input(e.to_string()))
}

fn pick(
    all: Vec<ReportSummary>,
    period: Option<Period>,
    what: &Path,
) -> Result<ReportSummary, CliError> {
    let mut dated: Vec<(Period, ReportSummary)> = all
        .into_iter()
        .filter_map(|s| Some((s.billing_period?, s)))
        .collect();
    let found = match period {
        Some(p) => dated.into_iter().find(|(q, _)| *q == p),
        None => dated.pop(),
    };
    found.map(|(_, s)| s).ok_or_else(|| {
        CliError::input(format!(
            "{}: no billing period{} with daily data in this report",
            what.display(),
            period.map(|p| format!(" {p}")).unwrap_or_default()
        ))
    })
}

/// Runs detection offline with `config` (the budgets file's `[anomalies]`, or defaults) under
/// the flags.
pub fn offline(args: OfflineArgs, config: Config) -> Result<String, CliError> {
    let config = Config {
        sensitivity: args.sensitivity.or(config.sensitivity),
        min_impact: args.min_impact.or(config.min_impact),
        min_increase_percent: args.min_increase_percent.or(config.min_increase_percent),
        ..config
    };
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(CliError::Input(problems));
    }
    let dir = args.bucket_dir.as_deref();
    let summary = pick(summaries(&args.report, dir)?, args.period, &args.report)?;
    let period = summary.billing_period.expect("picked by period");
    if summary.totals.iter().all(|t| t.daily_usage.is_none()) {
        return Err(CliError::input(format!(
            "{}: a {} report has no daily series; anomalies are found in CUR and FOCUS reports",
            args.report.display(),
            summary.format.name()
        )));
    }
    let prior: Vec<Prior> = match &args.previous {
        None => Vec::new(),
        Some(path) => {
            let last = pick(summaries(path, dir)?, Some(period.prev()), path)?;
            last.totals
                .into_iter()
                .filter_map(|t| {
                    Some(Prior {
                        days: t.daily_usage?,
                        account: t.account_id,
                        service: t.service,
                        currency: t.currency,
                        period: period.prev(),
                    })
                })
                .collect()
        }
    };
    let findings = anomaly::find_every_day(&summary, period, &prior, &config, &args.feedback);
    let table = if findings.is_empty() {
        Default::default()
    } else {
        drivers_path(
            &args.report,
            dir,
            &Limits::default(),
            period,
            &anomaly::watch_keys(&findings),
        )
        .map_err(|e| CliError::input(e.to_string()))?
    };
    let report_key = args.report.display().to_string();
    let (alerts, silenced) =
        anomaly::explained(period, &findings, &table, &report_key, &args.feedback);
    let last = anomaly::last_complete_day(period, summary.as_of.as_deref(), summary.status);
    if args.json {
        let payloads: Vec<_> = alerts.iter().map(|a| a.message.payload.clone()).collect();
        return Ok(serde_json::json!({
            "source": report_key,
            "billing_period": period,
            "last_complete_day": last.map(|d| d.to_string()),
            "series": anomaly::series_of(&summary, period, &prior).len(),
            "anomalies": payloads,
            "silenced": silenced.iter().map(|(f, a)| serde_json::json!({
                "finding": f, "verdict": a.verdict.name(), "answered_day": a.day.to_string(),
                "until": a.until().to_string(),
            })).collect::<Vec<_>>(),
        })
        .to_string()
            + "\n");
    }
    let judged = match last {
        Some(d) => format!("{} to {d}", period.start().date_naive()),
        None => "no complete day yet".into(),
    };
    let mut out = format!(
        "{} anomal{} in {period} ({} series, days judged: {judged})\n",
        alerts.len(),
        if alerts.len() == 1 { "y" } else { "ies" },
        anomaly::series_of(&summary, period, &prior).len(),
    );
    for (f, a) in &silenced {
        out += &format!(
            "silenced: {} in {} on {} ({} {}): answered {} on {}, quiet until {}\n",
            f.service,
            f.account,
            f.day,
            f.spend,
            f.currency,
            a.verdict.name(),
            a.day,
            a.until()
        );
    }
    for a in &alerts {
        out += &format!(
            "\n{}\n{}\n{}",
            "-".repeat(72),
            a.message.subject,
            a.message.text
        );
    }
    Ok(out)
}

/// `billwatch anomalies`: offline on a report, or what was detected for a period.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<AnomaliesCommand>,
    /// With --report: answers to try before storing them (a TOML file of `[[feedback]]`
    /// tables: account, service, day, verdict, and optionally currency, driver, days, note).
    #[arg(long, value_name = "FILE", requires = "report")]
    pub feedback: Option<PathBuf>,
    /// Billing period, YYYY-MM (default: this month; with --report, the report's latest).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<Period>,
    /// Only this account (12 digits).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Run detection on a local report instead (no AWS).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// With --report: last month's report of the same payer, for early-month baselines.
    #[arg(long, value_name = "FILE", requires = "report")]
    pub previous: Option<PathBuf>,
    /// With --report: local folder standing in for the bucket root of a manifest.
    #[arg(long, value_name = "DIR", requires = "report")]
    pub bucket_dir: Option<PathBuf>,
    /// With --report: the budgets file whose `[anomalies]` settings to use.
    #[arg(long, value_name = "FILE", requires = "report")]
    pub budgets: Option<PathBuf>,
    /// With --report: robust standard deviations above the baseline median (default 4).
    #[arg(long, value_name = "K", requires = "report")]
    pub sensitivity: Option<Decimal>,
    /// With --report: least extra spend over the baseline median, in its currency (default 20).
    #[arg(long, value_name = "AMOUNT", requires = "report")]
    pub min_impact: Option<Decimal>,
    /// With --report: least increase over the baseline median, in percent (default 50).
    #[arg(long, value_name = "PERCENT", requires = "report")]
    pub min_increase_percent: Option<Decimal>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,
}

#[derive(clap::Subcommand)]
pub enum AnomaliesCommand {
    /// Answer an anomaly alert: `expected` or `planned` stop alerts on the same account,
    /// service and driver for --days after its day (and widen that series' tolerance for 90
    /// days); `real` confirms it. Shown in `anomalies` listings and digests.
    Feedback {
        /// The alert's id ("Alert id:" in the message, or `billwatch anomalies`).
        id: String,
        /// expected | planned | real
        verdict: String,
        /// Why, in a few words (shown with the anomaly).
        #[arg(long)]
        note: Option<String>,
        /// Days after the anomaly's day that stay quiet (1-90).
        #[arg(long, default_value_t = billwatch_core::anomaly::feedback::DEFAULT_WINDOW_DAYS)]
        days: u32,
    },
}

pub fn run(ctx: &crate::context::Ctx, args: Args) -> Result<String, CliError> {
    if let Some(AnomaliesCommand::Feedback {
        id,
        verdict,
        note,
        days,
    }) = args.command
    {
        return crate::anomaly_feedback::answer(ctx, &args.aws, &id, &verdict, note, days);
    }
    let Some(report) = args.report else {
        return detected(
            ctx,
            &args.aws,
            args.period.unwrap_or_else(crate::period_arg::this_month),
            args.account,
            args.json,
        );
    };
    let config = match &args.budgets {
        Some(path) => crate::budgets::anomaly_config(path)?,
        None => Config::default(),
    };
    let feedback = match &args.feedback {
        Some(path) => crate::anomaly_feedback::read_file(path)?,
        None => Vec::new(),
    };
    let offline_args = OfflineArgs {
        feedback,
        report,
        previous: args.previous,
        bucket_dir: args.bucket_dir,
        period: args.period,
        sensitivity: args.sensitivity,
        min_impact: args.min_impact,
        min_increase_percent: args.min_increase_percent,
        json: ctx.json(args.json),
    };
    let mut out = offline(offline_args, config)?;
    if let Some(account) = &args.account {
        out = format!(
            "(--account {account} is for listing detected anomalies; ignored with --report)\n{out}"
        );
    }
    Ok(out)
}

/// The anomaly alerts of `period` from the alerts table: what was detected and why.
fn detected(
    ctx: &crate::context::Ctx,
    aws: &crate::aws::AwsArgs,
    period: Period,
    account: Option<String>,
    json: bool,
) -> Result<String, CliError> {
    ctx.block_on(async {
        let aws = ctx.aws(aws).await?;
        let s = aws.stores();
        let feedback = aws.budgets().feedback().await?;
        let mut found: Vec<_> = s
            .alerts
            .list(period)
            .await?
            .into_iter()
            .filter(|a| a.kind == billwatch_core::alert::plan::AlertKind::Anomaly)
            .filter(|a| {
                account
                    .as_deref()
                    .is_none_or(|acct| a.key.split('#').nth(1) == Some(acct))
            })
            .collect();
        found.sort_by(|a, b| {
            a.key
                .rsplit('#')
                .next()
                .cmp(&b.key.rsplit('#').next())
                .then(a.key.cmp(&b.key))
        });
        let answer_of =
            |key: &str| billwatch_core::digest::OpenAnomaly::from_key(key, "")?.answer(&feedback);
        if ctx.json(json) {
            let found: Vec<_> = found
                .iter()
                .map(|a| {
                    let mut r = crate::output::record(a);
                    r["feedback"] = serde_json::to_value(answer_of(&a.key)).unwrap_or_default();
                    r
                })
                .collect();
            return Ok(
                serde_json::json!({ "billing_period": period, "anomalies": found }).to_string()
                    + "\n",
            );
        }
        if found.is_empty() {
            return Ok(format!("no anomalies detected in {period}\n"));
        }
        let mut out = String::new();
        for a in &found {
            out += &format!(
                "{}\n    why:  {}\n    sent: {}  id: {}\n",
                a.subject.trim_start_matches("billwatch: "),
                a.reason,
                crate::output::timestamp_or(
                    a.published_at.as_deref(),
                    "NOT published (claim pending)"
                ),
                a.alert_id
            );
            if let Some(f) = answer_of(&a.key) {
                out += &format!(
                    "    answered: {}{}{}{}\n",
                    f.verdict.name(),
                    if f.verdict.silences() {
                        format!(" (quiet until {})", f.until())
                    } else {
                        String::new()
                    },
                    f.by.as_deref()
                        .map(|b| format!(" by {b}"))
                        .unwrap_or_default(),
                    f.note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                );
            }
        }
        Ok(out)
    })
}
