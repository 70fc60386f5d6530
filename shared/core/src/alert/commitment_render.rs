//! The messages of commitment budgets: a utilization or coverage gauge under its line, and a
//! commitment near its end. Each says what the number means in money.

use super::message::{Message, Severity};
use super::render::{money, ReportFacts};
use super::sanitize::{report_text, sanitize_subject, sanitize_text};
use crate::commitment::expiry::Warning;
use crate::commitment::watch::Low;
use crate::commitment::{CommitmentKind, Gauge, Gauged};
use crate::money_text;
use rust_decimal::Decimal;
use serde_json::json;
use std::fmt::Write;

/// A gauge under one of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaugeAlert {
    pub alert_id: String,
    pub budget: String,
    pub gauge: Gauged,
    pub low: Low,
    /// The budget's currency: the money `gauge.unused` is in.
    pub currency: String,
    /// The budget's filter in words, empty without one.
    pub filter: String,
    pub report: ReportFacts,
}

/// `71.4`: a percentage to one decimal place, for people (payloads keep every digit).
pub fn pct(p: Decimal) -> String {
    format!(
        "{:.1}",
        p.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    )
}

/// What the gauge means in money: `312.40 USD of commitment unused so far this month`.
pub fn in_money(g: &Gauged, currency: &str) -> String {
    if g.gauge.is_coverage() {
        format!(
            "{} {currency} of eligible usage ran on demand so far this month",
            money(g.unused)
        )
    } else {
        format!(
            "{} {currency} of commitment unused so far this month",
            money(g.unused)
        )
    }
}

/// The headline figure: `utilization 71.4 %: 312.40 USD of commitment unused so far this month`.
pub fn headline(g: &Gauged, currency: &str) -> String {
    match g.percent() {
        Some(p) => format!(
            "{} {} %: {}",
            g.gauge.measure(),
            pct(p),
            in_money(g, currency)
        ),
        None => format!("{}: nothing to measure", g.gauge.measure()),
    }
}

pub fn gauge_alert(a: &GaugeAlert) -> Message {
    let g = &a.gauge;
    let words = g.gauge.words();
    let line = format!("below {}%", a.low.line.normalize());
    let subject = sanitize_subject(&format!(
        "billwatch: {}: {words} {} % is {line} - {}",
        a.budget,
        pct(a
            .low
            .worst_day
            .filter(|_| !a.low.month_below())
            .map_or(a.low.month, |d| d.1)),
        a.report.period.label()
    ));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Budget \"{}\": {words} fell {line} in {}.",
        a.budget,
        a.report.period.label()
    );
    let _ = writeln!(text);
    let _ = writeln!(text, "  Month to date:       {}", headline(g, &a.currency));
    if let Some((day, p)) = a.low.worst_day {
        let _ = writeln!(
            text,
            "  Lowest complete day: day {day} of {}, {} %",
            a.report.period,
            pct(p)
        );
    }
    let (part, whole) = figures_words(g);
    let _ = writeln!(
        text,
        "  Figures:             {} {part} of {} {whole}",
        amount_text(g, g.part, &a.currency),
        amount_text(g, g.whole, &a.currency)
    );
    let _ = writeln!(
        text,
        "  Line:                {line}, on the month to date and on each complete day"
    );
    if !a.filter.is_empty() {
        let _ = writeln!(text, "  Filter:              {}", a.filter);
    }
    let _ = writeln!(
        text,
        "  Counted:             {} {}",
        g.counted,
        if g.gauge.is_coverage() {
            "(account, service family) pair(s)"
        } else {
            "commitment(s)"
        }
    );
    let _ = writeln!(text, "  Report:              {}", report_words(&a.report));
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "This alert is sent once this month for this line; `billwatch commitments --period {}` lists each commitment.",
        a.report.period
    );
    let _ = writeln!(text);
    let _ = writeln!(text, "Source: {}", report_text(&a.report.key));
    let _ = writeln!(text, "Alert id: {}", a.alert_id);
    Message {
        subject,
        text: sanitize_text(&text),
        payload: json!({
            "type": "commitment", "check": g.gauge.name(), "alert_id": a.alert_id,
            "severity": Severity::Warning.name(), "budget": a.budget, "period": a.report.period,
            "line_percent": a.low.line.normalize().to_string(),
            "percent": a.low.month.to_string(),
            "month_below": a.low.month_below(),
            "worst_day": a.low.worst_day.map(|(d, p)| json!({"day": d, "percent": p.to_string()})),
            "part": g.part.to_string(), "whole": g.whole.to_string(),
            "unused": g.unused.to_string(), "currency": a.currency,
            "counted": g.counted, "filter": a.filter,
            "days": g.days.iter().map(|d| json!({"day": d.day, "part": d.part.to_string(), "whole": d.whole.to_string()})).collect::<Vec<_>>(),
            "report": {"key": report_text(&a.report.key), "format": a.report.format.name(),
                       "period": a.report.period, "status": a.report.status.name(), "as_of": a.report.as_of},
        }),
        attributes: vec![
            ("kind", "commitment".into()),
            ("budget", a.budget.clone()),
            ("check", g.gauge.name().into()),
            ("period", a.report.period.to_string()),
            ("severity", Severity::Warning.name().into()),
            ("threshold", a.low.line.normalize().to_string()),
            ("alert_id", a.alert_id.clone()),
        ],
    }
}

/// What the part and whole count: money for Savings Plans, hours (or normalized units) for
/// reservations.
fn figures_words(g: &Gauged) -> (&'static str, &'static str) {
    match g.gauge {
        Gauge::SavingsPlansUtilization => ("of commitment used", "committed to date"),
        Gauge::RiUtilization => ("reserved units used", "reserved"),
        Gauge::SavingsPlansCoverage => ("of usage covered (at on-demand cost)", "eligible"),
        Gauge::RiCoverage => ("instance hours reserved", "eligible hours"),
    }
}

fn amount_text(g: &Gauged, v: Decimal, currency: &str) -> String {
    match g.gauge.kind() {
        CommitmentKind::SavingsPlan => format!("{} {currency}", money(v)),
        CommitmentKind::Reservation => money_text::cents(v),
    }
}

fn report_words(r: &ReportFacts) -> String {
    format!(
        "{} report for {}, {}{}",
        r.format.name(),
        r.period,
        r.status.name(),
        r.as_of
            .as_ref()
            .map(|t| format!(", data as of {t}"))
            .unwrap_or_default()
    )
}

/// A commitment near its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryAlert {
    pub alert_id: String,
    pub budget: String,
    pub warning: Warning,
    /// What it covers: the offering (Savings Plans type, or the reserved service), its term and
    /// payment option, the owning account.
    pub offering: String,
    pub term: String,
    pub payment_option: String,
    pub account: String,
    pub currency: String,
    pub report: ReportFacts,
}

fn kind_words(kind: CommitmentKind) -> &'static str {
    match kind {
        CommitmentKind::SavingsPlan => "Savings Plan",
        CommitmentKind::Reservation => "Reserved Instance",
    }
}

pub fn expiry_alert(a: &ExpiryAlert) -> Message {
    let w = &a.warning;
    let what = kind_words(w.kind);
    let when = match w.days_left {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        n => format!("in {n} days"),
    };
    let subject = sanitize_subject(&format!(
        "billwatch: {}: a {what} ends {when} ({})",
        a.budget, w.end
    ));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Budget \"{}\": a {what} ends on {} ({when}); this is its {}-day warning.",
        a.budget, w.end, w.lead
    );
    let _ = writeln!(text);
    let _ = writeln!(text, "  Commitment:          {}", report_text(&w.id));
    let _ = writeln!(text, "  Type:                {what}");
    let covers = if a.offering.is_empty() {
        "(not stated in the report)".to_string()
    } else {
        report_text(&a.offering)
    };
    let _ = writeln!(text, "  Covers:              {covers}");
    let terms: Vec<String> = [&a.term, &a.payment_option]
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| report_text(t))
        .collect();
    if !terms.is_empty() {
        let _ = writeln!(text, "  Term:                {}", terms.join(", "));
    }
    let _ = writeln!(text, "  Owner account:       {}", report_text(&a.account));
    let _ = writeln!(
        text,
        "  Monthly value:       {} {} billed in {} so far",
        money(w.fee),
        a.currency,
        a.report.period
    );
    let _ = writeln!(text, "  Ends:                {}", w.end);
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "When it ends, the usage it covers is billed on demand unless it is renewed or replaced. \
         Each lead time warns once for this commitment."
    );
    let _ = writeln!(text);
    let _ = writeln!(text, "Source: {}", report_text(&a.report.key));
    let _ = writeln!(text, "Alert id: {}", a.alert_id);
    Message {
        subject,
        text: sanitize_text(&text),
        payload: json!({
            "type": "commitment", "check": "commitment_expiry", "alert_id": a.alert_id,
            "severity": Severity::Warning.name(), "budget": a.budget,
            "commitment": report_text(&w.id), "commitment_type": match w.kind {
                CommitmentKind::SavingsPlan => "savings_plan", CommitmentKind::Reservation => "reservation" },
            "offering": report_text(&a.offering), "term": report_text(&a.term),
            "payment_option": report_text(&a.payment_option), "account": report_text(&a.account),
            "end": w.end.to_string(), "days_left": w.days_left, "lead_days": w.lead,
            "monthly_value": w.fee.to_string(), "currency": a.currency,
            "report": {"key": report_text(&a.report.key), "period": a.report.period},
        }),
        attributes: vec![
            ("kind", "commitment".into()),
            ("budget", a.budget.clone()),
            ("check", "commitment_expiry".into()),
            ("period", a.report.period.to_string()),
            ("severity", Severity::Warning.name().into()),
            ("threshold", w.lead.to_string()),
            ("alert_id", a.alert_id.clone()),
        ],
    }
}
