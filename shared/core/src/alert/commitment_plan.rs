//! What a commitment budget calls for in one delivery: a gauge under its line (once per month
//! and line, whether the month to date or a complete day fell under it), a commitment near its
//! end (once per commitment and lead time, however many months' deliveries see it), or, when the
//! report cannot answer, one notice per month saying why, never a 0 %.

use super::commitment_render::{expiry_alert, gauge_alert, ExpiryAlert, GaugeAlert};
use super::delivery::Delivery;
use super::message::Severity;
use super::notices::health_notice;
use super::owed::{Alert, AlertKind};
use super::render::{HealthCheck, ReportFacts};
use super::sanitize::{bounded, id_text, report_text};
use crate::budget::model::filter_text;
use crate::budget::standing::figures_in;
use crate::budget::{Budget, Level};
use crate::commitment::expiry::{due, Warning};
use crate::commitment::watch::{lows, not_read};
use crate::commitment::Watch;
use crate::period::Period;
use crate::report::Status;
use chrono::NaiveDate;

/// Claim keys are DynamoDB sort keys (at most 1,024 bytes).
const MAX_KEY: usize = 900;

/// The alerts of one commitment budget in delivery `d`.
pub(super) fn commitment_alerts(
    d: &Delivery<'_>,
    budget: &Budget,
    watch: &Watch,
    facts: &ReportFacts,
) -> Vec<Alert> {
    match watch {
        Watch::Gauge(_) => gauge_alerts(d, budget, facts),
        Watch::Expiry { .. } => expiry_alerts(d, budget, &watch.days(), facts),
    }
}

/// The last complete day of the delivery's month (a day of the month), if any: every day of a
/// final bill, else the days before the one its data reaches.
fn last_complete(d: &Delivery<'_>) -> Option<u32> {
    use chrono::Datelike;
    crate::anomaly::last_complete_day(d.period, d.summary.as_of.as_deref(), d.summary.status)
        .map(|day| day.day())
}

fn gauge_alerts(d: &Delivery<'_>, budget: &Budget, facts: &ReportFacts) -> Vec<Alert> {
    let figures = figures_in(budget, d.summary);
    let gauged = match (&figures.answer, figures.gauge) {
        (Ok(_), Some(g)) => g,
        (Err(why), _) => return vec![cannot_answer(d, budget, why)],
        (Ok(_), None) => return vec![cannot_answer(d, budget, "no gauge was read")],
    };
    let levels: Vec<_> = budget
        .thresholds
        .iter()
        .filter_map(|t| match t.level {
            Level::Percent(p) => Some(p),
            Level::Absolute(_) => None,
        })
        .collect();
    lows(&levels, &gauged, last_complete(d))
        .into_iter()
        .map(|low| {
            let line = low.line.normalize();
            let alert_id = format!("{}:{}:below:{line}", budget.name, d.period);
            let message = gauge_alert(&GaugeAlert {
                alert_id: alert_id.clone(),
                budget: budget.name.clone(),
                gauge: gauged.clone(),
                low: low.clone(),
                currency: budget.currency.clone(),
                filter: if budget.model.filter.is_empty() {
                    String::new()
                } else {
                    filter_text(&budget.model.filter)
                },
                report: facts.clone(),
            });
            let reason = match low.worst_day {
                Some((day, p)) if !low.month_below() => format!(
                    "{} on day {day} was {} %, below {line}%",
                    gauged.gauge.words(),
                    super::commitment_render::pct(p)
                ),
                _ => format!(
                    "{} month to date is {} %, below {line}%",
                    gauged.gauge.words(),
                    super::commitment_render::pct(low.month)
                ),
            };
            Alert {
                period: d.period,
                key: format!("{}#below#{line}", budget.name),
                alert_id,
                kind: AlertKind::Commitment,
                budget: Some(budget.name.clone()),
                basis: None,
                severity: Severity::Warning,
                reason,
                report_key: Some(d.report_key.to_string()),
                topic: budget.topic_arn.clone(),
                message,
            }
        })
        .collect()
}

/// The day a delivery is read as of, for lead times: the day its data reaches, or the last day
/// of a final bill's month.
fn today(d: &Delivery<'_>) -> Option<NaiveDate> {
    if d.summary.status == Status::Final {
        return Some(d.period.last_day());
    }
    let as_of = d.summary.as_of.as_deref()?;
    Some(
        crate::timestamp::Timestamp::parse(as_of)
            .ok()?
            .utc()
            .date_naive(),
    )
}

fn expiry_alerts(
    d: &Delivery<'_>,
    budget: &Budget,
    days: &[u32],
    facts: &ReportFacts,
) -> Vec<Alert> {
    let Some(summary) = &d.summary.commitments else {
        return vec![cannot_answer(d, budget, &not_read(d.summary.format))];
    };
    if d.summary.format == crate::report::Format::Focus {
        return vec![cannot_answer(
            d,
            budget,
            "a FOCUS export carries no commitment end dates (a Cost and Usage Report does: \
             reservation/EndTime, savingsPlan/EndTime)",
        )];
    }
    let Some(today) = today(d) else {
        return vec![cannot_answer(
            d,
            budget,
            "the report says no date its data reaches, so no lead time can be counted",
        )];
    };
    // Only the tightest lead time reached is due: its key differs from the wider ones', so a
    // commitment first seen inside several lead times warns once, and never again at a wider one.
    let found = due(&summary.commitments, today, days, |_, _| false);
    let mut out: Vec<Alert> = found
        .warnings
        .into_iter()
        .map(|w| expiry(d, budget, summary, w, facts))
        .collect();
    if !found.unreadable.is_empty() {
        let list: Vec<String> = found
            .unreadable
            .iter()
            .take(20)
            .map(|(id, end)| format!("{} ends {:?}", report_text(id), report_text(end)))
            .collect();
        out.push(cannot_answer(
            d,
            budget,
            &format!(
                "{} commitment(s) have an end date that is not a date: {}",
                found.unreadable.len(),
                list.join("; ")
            ),
        ));
    }
    out
}

fn expiry(
    d: &Delivery<'_>,
    budget: &Budget,
    summary: &crate::commitment::Summary,
    w: Warning,
    facts: &ReportFacts,
) -> Alert {
    let c = summary
        .commitments
        .iter()
        .find(|c| c.id == w.id && c.kind == w.kind);
    let field = |f: fn(&crate::commitment::Commitment) -> &String| {
        c.map(|c| f(c).clone()).unwrap_or_default()
    };
    // Claimed under the month the commitment ends in: the same for every delivery that sees
    // it, whatever month that delivery is of.
    let period = Period::of_date(w.end);
    let id = id_text(&w.id, 300);
    let key = bounded(
        format!("{}#{}", budget.name, Warning::claim_key(&id, w.lead)),
        MAX_KEY,
    );
    let alert_id = bounded(format!("{}:expiry:{id}:{}", budget.name, w.lead), 512);
    let message = expiry_alert(&ExpiryAlert {
        alert_id: alert_id.clone(),
        budget: budget.name.clone(),
        offering: field(|c| &c.offering),
        term: field(|c| &c.term),
        payment_option: field(|c| &c.payment_option),
        account: field(|c| &c.account),
        currency: budget.currency.clone(),
        report: facts.clone(),
        warning: w.clone(),
    });
    Alert {
        period,
        key,
        alert_id,
        kind: AlertKind::Commitment,
        budget: Some(budget.name.clone()),
        basis: None,
        severity: Severity::Warning,
        reason: format!(
            "commitment {} ends {} ({} days left; {}-day warning)",
            report_text(&w.id),
            w.end,
            w.days_left,
            w.lead
        ),
        report_key: Some(d.report_key.to_string()),
        topic: budget.topic_arn.clone(),
        message,
    }
}

/// The one notice per budget and month that the report cannot answer it.
fn cannot_answer(d: &Delivery<'_>, budget: &Budget, why: &str) -> Alert {
    let key = format!("{}#unanswerable", budget.name);
    let alert_id = format!("{}:{}:unanswerable", budget.name, d.period);
    let subject = format!("budget {} cannot be answered for {}", budget.name, d.period);
    let text = format!(
        "Budget \"{}\" ({}) cannot be answered from the report {}:\n\n  {why}\n\n\
         billwatch sends no {} figure for this budget until a report can give one (a commitment \
         that is not there is not a zero). Change the budget with `billwatch \
         budgets check` if it asks for something the bill does not have.\n",
        budget.name,
        budget.model_text(),
        report_text(d.report_key),
        budget.watch().map_or("", |w| w.kind_name()),
    );
    let details = serde_json::json!({
        "budget": budget.name,
        "span": d.period.to_string(),
        "reason": why,
        "report_key": report_text(d.report_key),
    });
    Alert {
        budget: Some(budget.name.clone()),
        report_key: Some(d.report_key.to_string()),
        topic: budget.topic_arn.clone(),
        ..health_notice(
            d.period,
            key,
            alert_id,
            HealthCheck::BudgetUnanswerable,
            &subject,
            &text,
            details,
        )
    }
}

#[cfg(test)]
#[path = "commitment_plan_tests.rs"]
mod tests;
