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
use chrono::NaiveDate;
use rust_decimal::Decimal;
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
            let last = last_reported(t.as_of.as_deref());
            let (text, rows) = render_days(first, days, last, |day| flagged.contains(&key_of(day)));
            out += &text;
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

/// The last day the data covers: the date of its `as_of` (None: every day is reported).
fn last_reported(as_of: Option<&str>) -> Option<NaiveDate> {
    let as_of = as_of?;
    billwatch_core::timestamp::Timestamp::parse(as_of)
        .map(|t| t.utc().date_naive())
        .ok()
        .or_else(|| as_of.get(..10).and_then(|d| d.parse().ok()))
}

/// The series from `first`, a line and a JSON row per day: a bar for each day the data covers,
/// "not reported yet" for the days after `last` (their spend is not 0, it is unknown).
fn render_days(
    first: NaiveDate,
    days: &[Decimal],
    last: Option<NaiveDate>,
    anomaly_on: impl Fn(NaiveDate) -> bool,
) -> (String, Vec<serde_json::Value>) {
    let dated: Vec<(NaiveDate, Decimal, bool)> = days
        .iter()
        .enumerate()
        .map(|(i, spend)| {
            let day = first + chrono::Days::new(i as u64);
            (day, *spend, last.is_none_or(|l| day <= l))
        })
        .collect();
    let reported = || dated.iter().filter(|(_, _, r)| *r);
    let max = reported().map(|(_, s, _)| *s).max().unwrap_or_default();
    let width = reported()
        .map(|(_, s, _)| cents(*s).len())
        .max()
        .unwrap_or(4);
    let mut out = String::new();
    let mut rows = Vec::new();
    for (day, spend, reported) in dated {
        if !reported {
            let _ = writeln!(out, "  {day}  {:>width$}  not reported yet", "-");
            rows.push(serde_json::json!({
                "day": day.to_string(), "spend": null, "reported": false, "anomaly": false,
            }));
            continue;
        }
        let anomaly = anomaly_on(day);
        let _ = writeln!(
            out,
            "  {day}  {:>width$}  {}{}",
            cents(spend),
            crate::chart::bar(spend, max),
            if anomaly { "  ◀ anomaly" } else { "" }
        );
        rows.push(serde_json::json!({
            "day": day.to_string(), "spend": spend.to_string(), "reported": true,
            "anomaly": anomaly,
        }));
    }
    (out, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_days_after_the_datas_as_of_are_not_reported_yet_not_zero() {
        let first: NaiveDate = "2026-11-01".parse().unwrap();
        let days = [d("10"), d("20"), d("0"), d("0")];
        let last = last_reported(Some("2026-11-02T08:00:00.000Z"));
        assert_eq!(last, "2026-11-02".parse().ok());
        let (text, rows) = render_days(first, &days, last, |day| day.to_string() == "2026-11-02");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("  2026-11-01  10.00  "), "{text}");
        assert!(lines[1].ends_with("◀ anomaly"), "{text}");
        assert_eq!(lines[2], "  2026-11-03      -  not reported yet");
        assert_eq!(lines[3], "  2026-11-04      -  not reported yet");
        assert!(!text.contains(" 0.00 "), "{text}");
        assert_eq!(rows[1]["spend"], "20");
        assert_eq!(rows[2]["spend"], serde_json::Value::Null);
        assert_eq!(rows[2]["reported"], false);
        // Without an as_of (a final bill) every day is reported, zeros included.
        let (text, _) = render_days(first, &days, None, |_| false);
        assert_eq!(text.matches(" 0.00 ").count(), 2, "{text}");
    }
}
