//! `billwatch totals`: the live totals of a billing period, per payer, account, service and
//! currency (Query only), as a table, JSON or a month-to-date chart.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output;
use crate::period_arg::this_month;
use crate::table::{columns, money};
use crate::view::View;
use billwatch_aws::store::live_figures;
use billwatch_aws::store::{live_totals, ReportsStore, StoredTotal};
use billwatch_core::period::Period;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, default_value_t = this_month())]
    period: Period,
    /// Only this account (12 digits).
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    view: View,
    #[command(flatten)]
    aws: AwsArgs,
}

fn totals_table(totals: &[StoredTotal], exact: bool) -> String {
    let mut table = columns(
        &["PAYER", "ACCOUNT", "SERVICE", "CURRENCY", "COST", "STATUS"],
        &[4],
    );
    let mut grand: BTreeMap<&str, Option<Decimal>> = BTreeMap::new();
    for t in totals {
        let sum = grand.entry(&t.currency).or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|v| v.checked_add(t.cost));
        table.add_row(vec![
            t.payer.clone(),
            crate::table::account_cell(&t.account),
            t.service.clone(),
            t.currency.clone(),
            money(t.cost, exact),
            t.status.to_string(),
        ]);
    }
    let mut out = format!("{}\n", table.trim_fmt());
    if totals.iter().any(|t| crate::table::is_long(&t.account)) {
        let _ = writeln!(out, "{}", crate::table::LONG_NOTE);
    }
    for (currency, cost) in grand {
        let cost = cost.map_or_else(|| "(beyond the decimal range)".into(), |c| money(c, exact));
        let _ = writeln!(out, "Total {currency}: {cost}");
    }
    out
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let totals =
            live_totals(&s.reports, &s.totals, args.period, args.account.as_deref()).await?;
        if ctx.json(args.view.json) {
            let totals: Vec<_> = totals.iter().map(output::total).collect();
            return Ok(
                json!({ "billing_period": args.period, "totals": totals }).to_string() + "\n",
            );
        }
        if totals.is_empty() {
            let latest = latest_before(&s.reports, args.period).await?;
            return Ok(nothing_stored(args.period, latest));
        }
        if args.view.chart {
            let budget = args.view.budget(&aws).await?;
            // A budget the engine sums in its pass is charted on its own figures, not its
            // scope's totals (it may count amortized cost, a team's filter, a quarter).
            if let Some(b) = budget.as_ref().filter(|b| b.summed_in_pass()) {
                let live = live_figures(&s.reports, &s.totals, args.period).await?;
                let figures = live
                    .as_ref()
                    .and_then(|m| m.figures.iter().find(|f| f.name == b.name));
                return Ok(crate::spend_chart::budget_to_date(figures, args.period, b));
            }
            return Ok(crate::spend_chart::month_to_date(
                &totals,
                args.period,
                budget.as_ref(),
            ));
        }
        Ok(totals_table(&totals, args.view.exact))
    })
}

/// How many months before an empty one `totals` looks for one with a live report.
const LOOK_BACK: u32 = 12;

/// The latest of the [`LOOK_BACK`] months before `period` with a live report (one Query each,
/// newest first, stopping at the first found).
async fn latest_before(reports: &ReportsStore, period: Period) -> Result<Option<Period>, CliError> {
    let mut p = period;
    for _ in 0..LOOK_BACK {
        p = p.prev();
        if !reports.pointers(p).await?.is_empty() {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// What `totals` says for a month with nothing stored, pointing at the latest earlier month
/// that has data, if any.
fn nothing_stored(period: Period, latest: Option<Period>) -> String {
    match latest {
        Some(p) => format!(
            "no totals stored for {period}; the latest month with data is {p} \
             (billwatch totals --period {p})\n"
        ),
        None => format!("no totals stored for {period}, nor in the {LOOK_BACK} months before it\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_month_points_at_the_latest_month_with_data() {
        let dec: Period = "2026-12".parse().unwrap();
        assert_eq!(
            nothing_stored(dec, "2026-11".parse().ok()),
            "no totals stored for 2026-12; the latest month with data is 2026-11 \
             (billwatch totals --period 2026-11)\n"
        );
        assert_eq!(
            nothing_stored(dec, None),
            "no totals stored for 2026-12, nor in the 12 months before it\n"
        );
    }
    use billwatch_core::report::Status;

    fn total(account: &str, service: &str, cost: &str, status: Status) -> StoredTotal {
        StoredTotal {
            payer: "111111111111".into(),
            period: "2026-11".parse().unwrap(),
            version: "v1".into(),
            account: account.into(),
            service: service.into(),
            service_name: service.into(),
            currency: "USD".into(),
            cost: cost.parse().unwrap(),
            breakdown: vec![],
            daily: None,
            status,
            as_of: None,
            report_key: "k".into(),
            stored_at: "2026-11-20T09:00:00.000Z".into(),
        }
    }

    #[test]
    fn the_totals_table_stays_aligned_with_long_names_and_rounds_to_the_cent() {
        let long = "Amazon Elastic Container Service for Kubernetes – Extended Support";
        let totals = [
            total("222222222222", "S3", "0.0049", Status::Final),
            total("222222222222", long, "1234567.891", Status::Estimated),
            total("333333333333", "AWSDataTransfer", "12.5", Status::Final),
        ];
        let text = totals_table(&totals, false);
        let lines: Vec<&str> = text.lines().take(4).collect();
        // STATUS (the last column) starts in the same column on every line, so every column
        // before it lines up too.
        let status_at = |line: &str| {
            let word = line.rsplit(' ').next().unwrap();
            line.chars().count() - word.chars().count()
        };
        assert!(lines[0].ends_with("STATUS"), "{text}");
        for line in &lines {
            assert_eq!(status_at(line), status_at(lines[0]), "{text}");
        }
        assert!(lines[2].contains("1,234,567.89  estimated"), "{text}");
        assert!(lines[1].contains("0.00  final"), "{text}");
        assert!(text.ends_with("Total USD: 1,234,580.40\n"), "{text}");
        let exact = totals_table(&totals, true);
        assert!(exact.contains("1,234,567.891  estimated"), "{exact}");
        assert!(exact.ends_with("Total USD: 1,234,580.3959\n"), "{exact}");
    }
}
