//! `billwatch commitments --report FILE [--bucket-dir DIR] [--json]`: each Reserved Instance and
//! Savings Plan of a local CUR (1.0 or 2.0, a file or a manifest) with its utilization, unused
//! cost and end date, and coverage per service family, with no AWS call.
//! `billwatch commitments [--period YYYY-MM]`: the same from the stack, as stored with each
//! payer's live delivery of the period (kept when a commitment budget exists).

use crate::error::CliError;
use billwatch_core::commitment::expiry::{due, Due};
use billwatch_core::commitment::{Commitment, CommitmentKind, Coverage, Family, Summary};
use billwatch_core::money_text::{cents, percent};
use billwatch_core::report::{commitments_path, Limits};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A local CUR 1.0 or 2.0 report (CSV, gzip or zip) or its manifest; without it, the
    /// commitments stored with the live deliveries of --period.
    #[arg(long, value_name = "FILE", conflicts_with = "period")]
    pub report: Option<PathBuf>,
    /// Billing period, YYYY-MM, read from the stack (default: this month).
    #[arg(long)]
    pub period: Option<billwatch_core::period::Period>,
    /// Local folder standing in for the bucket root when the report is a manifest.
    #[arg(long, value_name = "DIR")]
    pub bucket_dir: Option<PathBuf>,
    /// Print one JSON object instead of the table (amounts and ratios as exact decimal strings).
    #[arg(long)]
    pub json: bool,
    /// The day the days left to each end are counted from (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Lead times, in days before a commitment's end, that list it as expiring.
    #[arg(
        long,
        value_name = "DAYS",
        value_delimiter = ',',
        default_value = "60,30,7"
    )]
    pub expiry_days: Vec<u32>,
    #[command(flatten)]
    pub aws: crate::aws::AwsArgs,
}

pub fn run(ctx: &crate::context::Ctx, args: Args) -> Result<String, CliError> {
    let summary = match &args.report {
        Some(report) => commitments_path(report, args.bucket_dir.as_deref(), &Limits::default())
            .map_err(|e| CliError::input(e.to_string()))?,
        None => stored(ctx, &args)?,
    };
    let today = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let expiring = due(&summary.commitments, today, &args.expiry_days, |_, _| false);
    Ok(if ctx.json(args.json) {
        serde_json::to_string_pretty(&as_json(&summary, &expiring)).expect("JSON of plain values")
    } else {
        text(&summary, &expiring)
    })
}

/// The commitments stored with each payer's live delivery of the period, together.
fn stored(ctx: &crate::context::Ctx, args: &Args) -> Result<Summary, CliError> {
    let period = args.period.unwrap_or_else(crate::period_arg::this_month);
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let pointers = s.reports.pointers(period).await?;
        if pointers.is_empty() {
            return Err(CliError::input(format!(
                "no delivery of {period} is live: nothing is stored for it yet"
            )));
        }
        let mut all = Summary::default();
        let mut found = false;
        for p in &pointers {
            if let Some(one) = s.totals.commitments(&p.payer, period, &p.version).await? {
                found = true;
                all.commitments.extend(one.commitments);
                for (key, c) in one.coverage {
                    let mine = all.coverage.entry(key).or_default();
                    mine.sp_covered += c.sp_covered;
                    mine.ri_covered_hours += c.ri_covered_hours;
                    mine.on_demand_cost += c.on_demand_cost;
                    mine.on_demand_hours += c.on_demand_hours;
                    mine.ri_covered_cost += c.ri_covered_cost;
                }
            }
        }
        if !found {
            return Err(CliError::input(format!(
                "the live deliveries of {period} hold no commitments: the ingest reads them when a \
                 commitment budget exists (kind = \"ri_utilization\", …; docs/budgets.md), from the \
                 next delivery on; `billwatch commitments --report FILE` reads a report offline"
            )));
        }
        Ok(all)
    })
}

fn kind_label(kind: CommitmentKind) -> &'static str {
    match kind {
        CommitmentKind::SavingsPlan => "Savings Plan",
        CommitmentKind::Reservation => "Reserved Instance",
    }
}

fn family_label(f: Family) -> &'static str {
    match f {
        Family::Ec2Compute => "EC2 compute",
        Family::Fargate => "Fargate",
        Family::Lambda => "Lambda",
        Family::Rds => "RDS",
        Family::ElastiCache => "ElastiCache",
        Family::OpenSearch => "OpenSearch",
        Family::Redshift => "Redshift",
    }
}

const FAMILIES: [Family; 7] = [
    Family::Ec2Compute,
    Family::Fargate,
    Family::Lambda,
    Family::Rds,
    Family::ElastiCache,
    Family::OpenSearch,
    Family::Redshift,
];

/// `87.5 %`, or `n/a` when there is nothing to divide by.
fn pct(ratio: Option<Decimal>) -> String {
    ratio.map_or_else(
        || "n/a".to_string(),
        |r| format!("{} %", percent(r * Decimal::ONE_HUNDRED)),
    )
}

/// What `committed` and `used` count: its name in JSON, and the words after a figure.
fn unit(c: &Commitment) -> (&'static str, &'static str) {
    match (c.kind, c.normalized) {
        (CommitmentKind::SavingsPlan, _) => ("money", ""),
        (CommitmentKind::Reservation, true) => ("normalized_units", " normalized units"),
        (CommitmentKind::Reservation, false) => ("hours", " hours"),
    }
}

fn text(s: &Summary, expiring: &Due) -> String {
    let mut out = String::new();
    if s.commitments.is_empty() {
        out.push_str("no Reserved Instance or Savings Plan in this report\n");
    }
    for c in &s.commitments {
        let _ = writeln!(out, "{} {}", kind_label(c.kind), c.id);
        let what = [
            c.offering.as_str(),
            c.region.as_str(),
            c.term.as_str(),
            c.payment_option.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        let _ = writeln!(out, "  account {}  {what}", c.account);
        let _ = writeln!(
            out,
            "  utilization {}: {} of {}{} used; {} of commitment unused",
            pct(c.utilization()),
            cents(c.used),
            cents(c.committed),
            unit(c).1,
            cents(c.unused_cost),
        );
        let end = if c.end.is_empty() { "unknown" } else { &c.end };
        let left = match expiring.warnings.iter().find(|w| w.id == c.id) {
            Some(w) => format!(
                " (in {} days: within {} days of its end)",
                w.days_left, w.lead
            ),
            None => String::new(),
        };
        let _ = writeln!(out, "  fees billed {}  ends {end}{left}", cents(c.fee));
    }
    for (id, end) in &expiring.unreadable {
        let _ = writeln!(out, "{id}: its end date '{end}' is not a date");
    }
    let mut lines = Vec::new();
    for f in FAMILIES {
        let cov = s.coverage_of(f);
        if cov == Coverage::default() {
            continue;
        }
        let sp = if f.savings_plans() {
            format!("Savings Plans {}", pct(cov.savings_plans()))
        } else {
            String::new()
        };
        let ri = if f.reservations() {
            format!("reservations {} of hours", pct(cov.reservations()))
        } else {
            String::new()
        };
        let both = [sp, ri]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(format!("  {}: {both}", family_label(f)));
    }
    if !lines.is_empty() {
        out.push_str("coverage\n");
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

fn ratio_json(r: Option<Decimal>) -> serde_json::Value {
    r.map_or(serde_json::Value::Null, |r| {
        json!(r.normalize().to_string())
    })
}

fn as_json(s: &Summary, expiring: &Due) -> serde_json::Value {
    let commitments: Vec<_> = s
        .commitments
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "kind": c.kind,
                "account": c.account,
                "offering": c.offering,
                "region": c.region,
                "term": c.term,
                "payment_option": c.payment_option,
                "start": c.start,
                "end": c.end,
                "committed": c.committed.normalize().to_string(),
                "used": c.used.normalize().to_string(),
                "unit": unit(c).0,
                "utilization": ratio_json(c.utilization()),
                "unused_cost": c.unused_cost.normalize().to_string(),
                "fee": c.fee.normalize().to_string(),
            })
        })
        .collect();
    let coverage: Vec<_> = FAMILIES
        .iter()
        .map(|f| (f, s.coverage_of(*f)))
        .filter(|(_, c)| *c != Coverage::default())
        .map(|(f, c)| {
            json!({
                "family": f,
                "savings_plans": if f.savings_plans() { ratio_json(c.savings_plans()) } else { serde_json::Value::Null },
                "reservations": if f.reservations() { ratio_json(c.reservations()) } else { serde_json::Value::Null },
                "covered_on_demand_cost": c.sp_covered.normalize().to_string(),
                "on_demand_cost": c.on_demand_cost.normalize().to_string(),
                "reserved_hours": c.ri_covered_hours.normalize().to_string(),
                "on_demand_hours": c.on_demand_hours.normalize().to_string(),
            })
        })
        .collect();
    json!({
        "commitments": commitments,
        "savings_plans_utilization": ratio_json(s.utilization(CommitmentKind::SavingsPlan)),
        "ri_utilization": ratio_json(s.utilization(CommitmentKind::Reservation)),
        "savings_plans_unused_cost": s.unused_cost(CommitmentKind::SavingsPlan).normalize().to_string(),
        "ri_unused_cost": s.unused_cost(CommitmentKind::Reservation).normalize().to_string(),
        "coverage": coverage,
        "expiring": expiring.warnings.iter().map(|w| json!({
            "id": w.id,
            "kind": w.kind,
            "end": w.end.to_string(),
            "days_left": w.days_left,
            "lead_days": w.lead,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::budget::cost::LineType;
    use billwatch_core::commitment::{Commitments, Line};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn summary() -> Summary {
        let mut c = Commitments::default();
        c.add(&Line {
            line_type: Some(LineType::SavingsPlanRecurringFee),
            account: "111111111111",
            sp_arn: "arn:sp/1",
            sp_total_commitment: d("1092.60"),
            sp_used_commitment: d("780.20"),
            sp_end: "2027-03-01T00:00:00Z",
            sp_term: "1yr",
            sp_offering_type: "ComputeSavingsPlans",
            cost: d("1092.60"),
            ..Line::default()
        });
        c.add(&Line {
            line_type: Some(LineType::Usage),
            account: "111111111111",
            product_code: "AmazonEC2",
            usage_type: "BoxUsage:m5.large",
            usage_amount: d("2"),
            on_demand_cost: d("0.192"),
            ..Line::default()
        });
        c.finish()
    }

    fn expiring(s: &Summary, today: &str) -> Due {
        due(
            &s.commitments,
            today.parse().unwrap(),
            &[60, 30, 7],
            |_, _| false,
        )
    }

    #[test]
    fn the_table_says_what_the_utilization_means_in_money() {
        let s = summary();
        let t = text(&s, &expiring(&s, "2027-02-10"));
        assert!(t.contains("Savings Plan arn:sp/1"), "{t}");
        assert!(
            t.contains("utilization 71.4 %: 780.20 of 1,092.60 used; 312.40 of commitment unused"),
            "{t}"
        );
        assert!(
            t.contains("ends 2027-03-01T00:00:00Z (in 19 days: within 30 days of its end)"),
            "{t}"
        );
        let far = text(&s, &expiring(&s, "2026-11-10"));
        assert!(far.contains("ends 2027-03-01T00:00:00Z\n"), "{far}");
        assert!(
            t.contains("EC2 compute: Savings Plans 0 %, reservations 0 % of hours"),
            "{t}"
        );
        assert!(text(&Summary::default(), &Due::default())
            .starts_with("no Reserved Instance or Savings Plan"));
    }

    #[test]
    fn json_keeps_every_digit_and_says_null_for_no_utilization() {
        let s = summary();
        let j = as_json(&s, &expiring(&s, "2027-02-25"));
        assert_eq!(j["expiring"][0]["days_left"], 4);
        assert_eq!(j["expiring"][0]["lead_days"], 7);
        assert_eq!(j["commitments"][0]["unused_cost"], "312.4");
        assert_eq!(
            j["commitments"][0]["utilization"],
            (d("780.20") / d("1092.60")).normalize().to_string()
        );
        assert_eq!(j["ri_utilization"], serde_json::Value::Null);
        assert_eq!(j["coverage"][0]["family"], "ec2_compute");
    }
}
