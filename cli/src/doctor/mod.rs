//! `billwatch doctor`: is the deployed stack what template.yaml says, and does a delivery go
//! through? Run after `sam deploy` or `cargo lambda deploy`, and whenever alerts seem quiet.
//!
//! `gather` makes the describe calls (read-only), `judge` decides each check from plain data
//! (unit-tested), `live` makes the optional round trip (`--live`), `synthetic` is what that
//! round trip writes. This module prints: one line per check (`PASS`, `WARN`, `FAIL`, with the
//! fix), a summary line, and exits 1 when anything failed.

mod channels;
mod gather;
mod judge;
mod live;
mod synthetic;

use crate::error::CliError;
use judge::{Check, FunctionRole, Status, Tally};
use serde_json::json;
use std::io::Write;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Also send a synthetic report through the deployed function: upload it under
    /// `<ReportPrefix>billwatch-doctor/`, wait for its ingest record, totals and test alert
    /// (period 2000-01, account 000000000000, currency XTS: apart from every real report), then
    /// remove everything it wrote. Subscribers receive one alert of budget billwatch-doctor.
    #[arg(long)]
    live: bool,
    /// With --live: seconds to wait for the function to ingest the report and send the alert.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, requires = "live")]
    timeout: u64,
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    aws: crate::aws::AwsArgs,
}

/// The checks of the stack's pieces, in the order a delivery uses them.
fn static_checks(f: &gather::Facts) -> Vec<Check> {
    let e = &f.expected;
    let mut out = Vec::new();
    let ingest_arn = f.ingest.yes().map(|i| i.arn.as_str());
    out.push(judge::bucket(e, &f.bucket));
    match &f.rule {
        None => out.extend(judge::notifications(e, &f.bucket, ingest_arn)),
        Some(rule) => out.extend(judge::eventbridge(e, &f.bucket, rule, ingest_arn)),
    }
    out.extend(judge::function(FunctionRole::ReportIngest, e, &f.ingest));
    for (role, table) in &f.tables {
        out.push(judge::table(*role, e, table));
    }
    if let Some(err) = &f.topics_error {
        out.push(Check::fail(
            "topics",
            err.clone(),
            "see the error; then run doctor again",
        ));
    } else {
        for t in &f.topics {
            let mut checks = judge::subscriptions(t.label, t.arn.as_deref(), &t.subscriptions);
            if t.label == "ops" {
                // The operations topic carries CloudWatch alarms about billwatch itself: without
                // a subscriber they reach no one, but budget alerts still go out.
                for c in &mut checks {
                    if c.status == Status::Fail && c.detail.starts_with("none") {
                        c.status = Status::Warn;
                        c.detail = "none: billwatch's own alarms (ingest errors, failed events) reach no one".into();
                    }
                }
            }
            out.extend(checks);
        }
    }
    out.extend(judge::function(FunctionRole::HealthCheck, e, &f.health));
    out.push(judge::health_schedule(&f.health, &f.health_rules));
    out
}

/// The channels' checks (see [`channels`]): none when none is declared.
async fn channel_checks(aws: &crate::aws::Aws) -> Vec<Check> {
    let store = aws.budgets();
    let (declared, budgets) = match (store.channels().await, store.list().await) {
        (Ok(c), Ok(b)) => (c, b),
        (Err(e), _) | (_, Err(e)) => {
            return vec![Check::fail(
                "channels",
                format!("could not read the channels and budgets: {e}"),
                "see the error; then run doctor again",
            )]
        }
    };
    let clients = billwatch_aws::clients::Clients::from_sdk(&aws.config);
    let secrets = billwatch_aws::channels::secrets::Secrets::new(clients.ssm, clients.secrets);
    let reads = channels::read(&declared, &secrets).await;
    channels::judge(&declared, &reads, &budgets)
}

fn line(c: &Check) -> String {
    let mut text = format!("{}  {:<34} {}", c.status.label(), c.name, c.detail);
    if let Some(fix) = &c.fix {
        text += &format!("\n      fix: {fix}");
    }
    text + "\n"
}

fn progress(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "      … {message}");
}

pub fn run(ctx: &crate::context::Ctx, args: Args) -> Result<String, CliError> {
    let json_out = ctx.json(args.json);
    let (checks, expected) = ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let clients = gather::Clients::new(&aws);
        let facts = gather::facts(&clients, &aws).await;
        let mut checks = static_checks(&facts);
        checks.extend(channel_checks(&aws).await);
        if !json_out {
            crate::error::print(&format!(
                "billwatch doctor: stack {}{}, bucket {}\n",
                facts.expected.stack,
                aws.region_note(),
                facts.expected.bucket
            ))?;
            for c in &checks {
                crate::error::print(&line(c))?;
            }
        }
        if args.live {
            let failed = Tally::of(&checks).failed;
            if failed > 0 {
                let c = Check::fail(
                    "live: round trip",
                    format!("not run: {failed} check(s) above failed"),
                    "fix those first, then run doctor --live again",
                );
                if !json_out {
                    crate::error::print(&line(&c))?;
                }
                checks.push(c);
            } else {
                let timeout = Duration::from_secs(args.timeout);
                let live = live::round_trip(&clients, &facts.expected, timeout, &progress).await;
                if !json_out {
                    for c in &live {
                        crate::error::print(&line(c))?;
                    }
                }
                checks.extend(live);
            }
        }
        Ok::<_, CliError>((checks, facts.expected))
    })?;
    let tally = Tally::of(&checks);
    let text = if json_out {
        json!({
            "stack": expected.stack,
            "bucket": expected.bucket,
            "report_prefix": expected.report_prefix,
            "checks": checks,
            "passed": tally.passed,
            "warnings": tally.warnings,
            "failed": tally.failed,
        })
        .to_string()
            + "\n"
    } else {
        format!("\n{}\n", tally.line())
    };
    if tally.failed > 0 {
        crate::error::print(&text)?;
        return Err(CliError::failed(format!(
            "doctor: {} check(s) failed (see FAIL above, each with its fix)",
            tally.failed
        )));
    }
    Ok(text)
}
