//! `billwatch reports`: the reports ingested for a billing period, and which one is live.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output;
use crate::period_arg::this_month;
use billwatch_core::period::Period;
use serde_json::json;
use std::fmt::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, default_value_t = this_month())]
    period: Period,
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let period = args.period;
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let records = s.reports.list(period).await?;
        let pointers = s.reports.pointers(period).await?;
        if ctx.json(args.json) {
            let live: Vec<_> = pointers.iter().map(output::record).collect();
            let reports: Vec<_> = records.iter().map(output::record).collect();
            return Ok(
                json!({ "billing_period": period, "live": live, "reports": reports }).to_string()
                    + "\n",
            );
        }
        let mut out = String::new();
        for p in &pointers {
            let _ = writeln!(
                out,
                "live for payer {}: {} ({}, {}, stored {})",
                p.payer,
                p.report_key,
                p.format,
                p.status,
                output::timestamp(&p.stored_at)
            );
        }
        for r in &records {
            let _ = writeln!(
                out,
                "{}  {:<9} {:<22} {:<9} rows {:>8}  {} ms  {}{}",
                output::timestamp(&r.received_at),
                r.outcome,
                r.format.map_or("-", |f| f.name()),
                r.status.map_or("-", |f| f.name()),
                r.rows_read,
                r.duration_ms,
                r.key,
                r.error
                    .as_ref()
                    .map(|e| format!("\n    error: {e}"))
                    .unwrap_or_default()
            );
        }
        if records.is_empty() {
            let _ = writeln!(out, "no reports ingested for {period}");
        }
        Ok(out)
    })
}
