//! Commitment budgets against local reports (`budgets status`, `budgets replay`): a gauge's
//! utilization or coverage as an exact percentage with what it means in money, the commitments
//! within an expiry budget's lead times, and the alerts a delivery would send, planned by the
//! same code the function runs.

use super::*;
use billwatch_core::alert::commitment_render::{headline, pct};
use billwatch_core::alert::plan::{plan_delivery, Alert, Delivery};
use billwatch_core::budget::standing::figures_in;
use billwatch_core::commitment::expiry::due;
use billwatch_core::commitment::watch::{lows, not_read};
use billwatch_core::commitment::Watch;
use billwatch_core::report::ReportSummary;

/// A commitment budget at the newest report: one line of text and its JSON.
pub(super) fn status(b: &Budget, watch: &Watch, newest: &ReportSummary) -> (String, Value) {
    let period = newest
        .billing_period
        .map(|p| p.to_string())
        .unwrap_or_default();
    match watch {
        Watch::Gauge(gauge) => {
            let f = figures_in(b, newest);
            let measure = gauge.measure();
            match (&f.answer, &f.gauge) {
                (Ok(_), Some(g)) => {
                    let levels: Vec<Decimal> = b
                        .thresholds
                        .iter()
                        .filter_map(|t| match t.level {
                            Level::Percent(p) => Some(p),
                            Level::Absolute(_) => None,
                        })
                        .collect();
                    let last = last_complete(newest);
                    let crossed: Vec<String> = lows(&levels, g, last)
                        .iter()
                        .map(|l| format!("below {}%", l.line.normalize()))
                        .collect();
                    let percent = g.percent().unwrap_or_default();
                    let text = format!(
                        "{}  {period}  {}  {}{}\n",
                        b.name,
                        gauge.name(),
                        headline(g, &b.currency),
                        if crossed.is_empty() {
                            String::new()
                        } else {
                            format!("  crossed {}", crossed.join(", "))
                        }
                    );
                    let json = json!({
                        "name": b.name,
                        "period": period,
                        "kind": gauge.name(),
                        measure: percent.normalize().to_string(),
                        "percent_text": pct(percent),
                        "part": g.part.normalize().to_string(),
                        "whole": g.whole.normalize().to_string(),
                        "unused": g.unused.normalize().to_string(),
                        "currency": b.currency,
                        "counted": g.counted,
                        "days": g.days.iter().map(|d| json!({
                            "day": d.day,
                            measure: billwatch_core::commitment::watch::percent(d.part, d.whole)
                                .map(|p| p.normalize().to_string()),
                        })).collect::<Vec<_>>(),
                        "thresholds": b.thresholds_text(),
                        "crossed": crossed,
                        "filter": b.model.filter,
                        "error": Value::Null,
                    });
                    (text, json)
                }
                (answer, _) => {
                    let why = answer
                        .as_ref()
                        .err()
                        .cloned()
                        .unwrap_or_else(|| "no figure".into());
                    (
                        format!(
                            "{}  {period}  {}  cannot be answered: {why}\n",
                            b.name,
                            gauge.name()
                        ),
                        json!({"name": b.name, "period": period, "kind": gauge.name(),
                               measure: Value::Null, "crossed": [], "error": why}),
                    )
                }
            }
        }
        Watch::Expiry { .. } => expiry_status(b, watch, newest, &period),
    }
}

fn expiry_status(
    b: &Budget,
    watch: &Watch,
    newest: &ReportSummary,
    period: &str,
) -> (String, Value) {
    let days = watch.days();
    let widest = days.last().copied().unwrap_or(0);
    let error = |why: String| {
        (
            format!(
                "{}  {period}  commitment_expiry  cannot be answered: {why}\n",
                b.name
            ),
            json!({"name": b.name, "period": period, "kind": "commitment_expiry",
                   "expiring": [], "error": why}),
        )
    };
    let Some(summary) = &newest.commitments else {
        return error(not_read(newest.format));
    };
    if newest.format == billwatch_core::report::Format::Focus {
        return error("a FOCUS export carries no commitment end dates".into());
    }
    let Some(today) = newest
        .as_of
        .as_deref()
        .and_then(|t| billwatch_core::timestamp::Timestamp::parse(t).ok())
        .map(|t| t.utc().date_naive())
    else {
        return error("the report says no date its data reaches".into());
    };
    let found = due(&summary.commitments, today, &[widest], |_, _| false);
    let mut text = format!(
        "{}  {period}  commitment_expiry  {} commitment(s) end within {widest} days of {today}\n",
        b.name,
        found.warnings.len()
    );
    let mut list = Vec::new();
    for w in &found.warnings {
        text += &format!("  {} ends {} ({} days)\n", w.id, w.end, w.days_left);
        list.push(
            json!({"id": w.id, "end": w.end.to_string(), "days_left": w.days_left,
                         "monthly_value": w.fee.normalize().to_string()}),
        );
    }
    let json = json!({"name": b.name, "period": period, "kind": "commitment_expiry",
                      "days": days, "as_of": today.to_string(), "expiring": list,
                      "unreadable": found.unreadable.iter().map(|(id, end)| json!({"id": id, "end": end})).collect::<Vec<_>>(),
                      "error": Value::Null});
    (text, json)
}

/// The last complete day of the summary's month, as a day of the month.
fn last_complete(s: &ReportSummary) -> Option<u32> {
    use chrono::Datelike;
    let period = s.billing_period?;
    billwatch_core::anomaly::last_complete_day(period, s.as_of.as_deref(), s.status)
        .map(|d| d.day())
}

/// The alerts a commitment budget's delivery of `summary` calls for, as the function plans
/// them (claims then keep each to once).
pub(super) fn planned(b: &Budget, summary: &ReportSummary, report_key: &str) -> Vec<Alert> {
    let Some(period) = summary.billing_period else {
        return Vec::new();
    };
    let budgets = [b.clone()];
    plan_delivery(&Delivery {
        report_key,
        object_version: "",
        summary,
        period,
        previous: None,
        budgets: &budgets,
        history: &[],
        anomalies: &[],
    })
    .into_iter()
    .filter(|a| a.budget.as_deref() == Some(b.name.as_str()))
    .collect()
}
