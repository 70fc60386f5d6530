//! `billwatch daily --account A --service S`: the daily series of one account and service in a
//! billing period (CUR and FOCUS deliveries), with a bar per day and the anomalies detected.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use crate::period_arg::this_month;
use billwatch_aws::store::live_totals;
use billwatch_core::alert::plan::AlertKind;
use billwatch_core::money_text::cents;
use billwatch_core::period::Period;
use std::collections::HashSet;
use std::fmt::Write;

#[derive(clap::Args)]
pub struct Args {
    /// The account (12 digits).
    #[arg(long, value_name = "ID")]
    pub account: String,
    /// The service's product code, e.g. AmazonEC2.
    #[arg(long, value_name = "CODE")]
    pub service: String,
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<Period>,
    /// Print one JSON object instead of the chart.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let period = args.period.unwrap_or_else(this_month);
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let totals = live_totals(&s.reports, &s.totals, period, Some(&args.account)).await?;
        let mine: Vec<_> = totals
            .iter()
            .filter(|t| t.service == args.service)
            .collect();
        if mine.is_empty() {
            return Err(CliError::input(format!(
                "no spend of {} in account {} in {period}",
                args.service, args.account
            )));
        }
        let flagged: HashSet<String> = s
            .alerts
            .list(period)
            .await?
            .into_iter()
            .filter(|a| a.kind == AlertKind::Anomaly)
            .map(|a| a.key)
            .collect();
        let first = period.start().date_naive();
        let mut out = String::new();
        let mut series_json = Vec::new();
        for t in mine {
            let Some(days) = &t.daily else {
                let _ = writeln!(
                    out,
                    "{} in {} ({}): {} {} this period; the live report ({}) has no daily data",
                    t.service,
                    t.account,
                    t.currency,
                    cents(t.cost),
                    t.currency,
                    t.report_key
                );
                continue;
            };
            let max = days.iter().copied().max().unwrap_or_default();
            let key_of = |day: chrono::NaiveDate| {
                billwatch_core::anomaly::claim_key_of(&t.account, &t.service, &t.currency, day)
            };
            let _ = writeln!(
                out,
                "{} ({}) in {}, {period}, {}: {} this period{}",
                t.service,
                t.service_name,
                t.account,
                t.currency,
                cents(t.cost),
                t.as_of
                    .as_deref()
                    .map(|a| format!(", data as of {a}"))
                    .unwrap_or_default()
            );
            let width = days.iter().map(|d| cents(*d).len()).max().unwrap_or(4);
            let mut rows = Vec::new();
            for (i, spend) in days.iter().enumerate() {
                let day = first + chrono::Days::new(i as u64);
                let anomaly = flagged.contains(&key_of(day));
                let _ = writeln!(
                    out,
                    "  {day}  {:>width$}  {}{}",
                    cents(*spend),
                    crate::chart::bar(*spend, max),
                    if anomaly { "  ◀ anomaly" } else { "" }
                );
                rows.push(serde_json::json!({
                    "day": day.to_string(), "spend": spend.to_string(), "anomaly": anomaly,
                }));
            }
            series_json.push(serde_json::json!({
                "account_id": t.account, "service": t.service, "service_name": t.service_name,
                "currency": t.currency, "cost": t.cost.to_string(), "as_of": t.as_of,
                "report_key": t.report_key, "days": rows,
            }));
        }
        if ctx.json(args.json) {
            return Ok(
                serde_json::json!({ "billing_period": period, "series": series_json }).to_string()
                    + "\n",
            );
        }
        Ok(out)
    })
}
