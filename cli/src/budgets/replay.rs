//! `billwatch budgets replay --budgets FILE REPORT...`: the reports as deliveries, in the order
//! given, as the function would see them (each billing month's live report is the latest
//! delivered), and every budget alert that would have been sent, when (the delivery and its
//! report's "as of") and why, each threshold once per budget and span, as claims make it.

use super::offline::{cost_word, crossing_text, live, read_reports, stand};
use super::*;
use billwatch_core::budget::spec::specs_of;
use billwatch_core::budget::standing::span_period;
use billwatch_core::money_text;
use std::collections::{BTreeMap, HashSet};

#[derive(clap::Args)]
pub struct Args {
    /// The budgets file (see budgets.example.toml).
    #[arg(long)]
    pub budgets: PathBuf,
    /// The reports, in the order they were delivered.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// JSON: one object per alert.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let budgets = read_file(&args.budgets, "not valid").map_err(CliError::Input)?;
    let specs = specs_of(&budgets);
    let reads = read_reports(&args.reports, &specs, &budgets)?;
    let json_out = ctx.json(args.json);
    let mut sent: HashSet<String> = HashSet::new();
    let mut alerts = Vec::new();
    let mut out = String::new();
    for (i, read) in reads.iter().enumerate() {
        let all = live(&reads[..=i]);
        let mut lines = Vec::new();
        for summary in &read.summaries {
            let Some(period) = summary.billing_period else {
                continue;
            };
            // What the function sees when this period is delivered: the months up to it.
            let seen: BTreeMap<_, _> = all.range(..=period).map(|(p, s)| (*p, *s)).collect();
            for b in &budgets {
                if b.watch().is_some() {
                    for a in super::commitment_status::planned(b, summary, &read.path) {
                        if !sent.insert(format!("{}#{}", a.period, a.key)) {
                            continue;
                        }
                        lines.push(format!("  alert {}: {}", b.name, a.reason));
                        alerts.push(json!({
                            "delivery": i + 1,
                            "report": read.path,
                            "billing_period": period.to_string(),
                            "as_of": summary.as_of,
                            "status": summary.status.name(),
                            "budget": b.name,
                            "kind": a.kind.as_str(),
                            "claim_period": a.period.to_string(),
                            "key": a.key,
                            "reason": a.reason,
                        }));
                    }
                    continue;
                }
                let Some(s) = stand(b, &seen) else { continue };
                for c in &s.crossings {
                    let claim = format!("{}#{}#{}", b.name, span_period(s.span), c.claim_key());
                    if !sent.insert(claim) {
                        continue;
                    }
                    let value = match c.basis {
                        Basis::Forecast => c.forecast.unwrap_or(c.actual),
                        Basis::Actual => c.actual,
                    };
                    let threshold = crossing_text(b, c);
                    let amount = s.amount.unwrap_or(b.amount);
                    let why = format!(
                        "{} {} {} {} passed {threshold} of {} {} ({} {})",
                        c.basis,
                        cost_word(b),
                        money_text::cents(value),
                        b.currency,
                        money_text::cents(amount),
                        b.currency,
                        b.model.cadence.name(),
                        s.span,
                    );
                    lines.push(format!("  alert {}: {why}", b.name));
                    alerts.push(json!({
                        "delivery": i + 1,
                        "report": read.path,
                        "billing_period": period.to_string(),
                        "as_of": summary.as_of,
                        "status": summary.status.name(),
                        "budget": b.name,
                        "period": s.span.to_string(),
                        "threshold": threshold,
                        "basis": c.basis.as_str(),
                        "value": value.normalize().to_string(),
                        "amount": amount.normalize().to_string(),
                        "currency": b.currency,
                        "escalation": c.escalation,
                        "reason": why,
                    }));
                }
            }
        }
        let periods: Vec<String> = read
            .summaries
            .iter()
            .map(|s| {
                format!(
                    "{} {}{}",
                    s.billing_period.map(|p| p.to_string()).unwrap_or_default(),
                    s.status.name(),
                    s.as_of
                        .as_deref()
                        .map(|a| format!(", as of {a}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        out += &format!(
            "delivery {}: {} ({})\n",
            i + 1,
            read.path,
            periods.join("; ")
        );
        if lines.is_empty() {
            out += "  no alert\n";
        }
        for l in lines {
            out += &l;
            out += "\n";
        }
    }
    if json_out {
        return Ok(Value::Array(alerts).to_string() + "\n");
    }
    Ok(out)
}
