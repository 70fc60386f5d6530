//! The message templates: a budget threshold, the month-close summary, a health notice, a test
//! message. Each renders a subject that fits SNS, a plain-text body for e-mail, a JSON payload
//! for machines and message attributes for SNS filter policies; report text is sanitised.

use super::message::{Message, Severity};
use super::sanitize::{report_text, sanitize_subject, sanitize_text};
use crate::budget::Basis;
use crate::period::Period;
use crate::report::{Format, Status};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::fmt::Write;

/// One service line of an alert: its spend in the budget's scope and the change since the
/// previous delivery of the period (None when there was none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLine {
    pub service: String,
    pub name: String,
    pub cost: Decimal,
    pub change: Option<Decimal>,
}

/// What the report behind an alert said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    pub key: String,
    pub format: Format,
    pub period: Period,
    pub status: Status,
    pub as_of: Option<String>,
}

/// A budget threshold reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAlert {
    pub alert_id: String,
    pub budget: String,
    pub scope: String,
    /// The scope's account and service, or `all` (message attributes).
    pub account: String,
    pub service: String,
    pub amount: Decimal,
    pub currency: String,
    pub basis: Basis,
    pub level_percent: Decimal,
    pub escalation: bool,
    pub actual: Decimal,
    pub forecast: Option<Decimal>,
    /// The basis value as a percentage of the amount.
    pub percent: Decimal,
    pub top: Vec<ServiceLine>,
    pub report: ReportFacts,
}

/// What a health alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthCheck {
    /// No report arrived for too long (or none ever did).
    Silence,
    /// A report could not be read; the period's totals were kept.
    ReportFailed,
    /// A report's own totals do not reconcile with its line items.
    Checks,
    /// A service appeared in an account for the first time this period.
    NewService,
}

impl HealthCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCheck::Silence => "silence",
            HealthCheck::ReportFailed => "report-failed",
            HealthCheck::Checks => "checks",
            HealthCheck::NewService => "new-service",
        }
    }

    /// A new service is news, not trouble; the others need someone to look.
    pub fn severity(self) -> Severity {
        match self {
            HealthCheck::NewService => Severity::Info,
            _ => Severity::Critical,
        }
    }
}

/// Rounded to the cent, always with two decimals.
fn cents(v: Decimal) -> Decimal {
    let mut r = v.round_dp(2);
    r.rescale(2);
    r
}

pub(crate) fn money(v: Decimal) -> String {
    cents(v).to_string()
}

fn signed(v: Decimal) -> String {
    let v = cents(v);
    if v > Decimal::ZERO {
        format!("+{v}")
    } else {
        v.to_string()
    }
}

fn top_services(out: &mut String, top: &[ServiceLine], currency: &str) {
    let _ = writeln!(out, "Top services:");
    if top.is_empty() {
        let _ = writeln!(out, "  (none in scope)");
    }
    for line in top {
        let change = line
            .change
            .map(|c| format!("  ({} since the previous delivery)", signed(c)))
            .unwrap_or_else(|| "  (first delivery of the period)".into());
        let _ = writeln!(
            out,
            "  {:<28} {:>12} {currency}{change}",
            report_text(&line.service),
            money(line.cost)
        );
    }
}

fn report_line(r: &ReportFacts) -> String {
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

fn top_json(top: &[ServiceLine]) -> Value {
    Value::Array(
        top.iter()
            .map(|l| {
                json!({"service": report_text(&l.service), "service_name": report_text(&l.name),
                       "cost": l.cost.to_string(), "change": l.change.map(|c| c.to_string())})
            })
            .collect(),
    )
}

fn report_json(r: &ReportFacts) -> Value {
    json!({"key": report_text(&r.key), "format": r.format.name(), "period": r.period,
           "status": r.status.name(), "as_of": r.as_of})
}

pub fn budget_alert(a: &BudgetAlert) -> Message {
    let severity = Severity::of_budget(a.basis, a.actual, a.amount);
    Message {
        subject: budget_subject(a),
        text: sanitize_text(&budget_text(a)),
        payload: budget_payload(a, severity),
        attributes: budget_attributes(a, severity),
    }
}

/// `billwatch: team at 85% of 1000 USD (2026-11)`, with `, final` for a final bill.
fn budget_subject(a: &BudgetAlert) -> String {
    sanitize_subject(&format!(
        "billwatch: {} {} {}% of {} {} ({}{})",
        a.budget,
        if a.basis == Basis::Forecast {
            "forecast"
        } else {
            "at"
        },
        a.percent.normalize(),
        a.amount.normalize(),
        a.currency,
        a.report.period,
        if a.report.status == Status::Final {
            ", final"
        } else {
            ""
        }
    ))
}

/// The e-mail body (not yet sanitised): the headline, the figures, the top services and where
/// the alert came from.
fn budget_text(a: &BudgetAlert) -> String {
    let what = if a.basis == Basis::Forecast {
        "is forecast to reach"
    } else {
        "has reached"
    };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Budget \"{}\" {what} {}% of its {} {} limit for {}.",
        a.budget,
        a.percent.normalize(),
        a.amount.normalize(),
        a.currency,
        a.report.period
    );
    let _ = writeln!(text);
    let _ = writeln!(text, "  Spent so far:  {} {}", money(a.actual), a.currency);
    if let Some(f) = a.forecast {
        let _ = writeln!(text, "  Month-end forecast: {} {}", money(f), a.currency);
    }
    let _ = writeln!(
        text,
        "  Limit:         {} {}",
        a.amount.normalize(),
        a.currency
    );
    let _ = writeln!(
        text,
        "  Threshold:     {}% ({} spend){}",
        a.level_percent.normalize(),
        a.basis,
        if a.escalation {
            ", escalation step"
        } else {
            ""
        }
    );
    let _ = writeln!(text, "  Scope:         {}", a.scope);
    let _ = writeln!(text, "  Report:        {}", report_line(&a.report));
    let _ = writeln!(text);
    top_services(&mut text, &a.top, &a.currency);
    let _ = writeln!(text);
    let _ = writeln!(text, "Source: {}", report_text(&a.report.key));
    let _ = writeln!(text, "Alert id: {}", a.alert_id);
    text
}

fn budget_payload(a: &BudgetAlert, severity: Severity) -> Value {
    json!({
        "type": "budget", "alert_id": a.alert_id, "severity": severity.name(),
        "budget": a.budget, "scope": a.scope, "period": a.report.period, "basis": a.basis.as_str(),
        "threshold_percent": a.level_percent.normalize().to_string(), "escalation": a.escalation,
        "amount": a.amount.to_string(), "currency": a.currency,
        "actual": a.actual.to_string(), "forecast": a.forecast.map(|f| f.to_string()),
        "percent": a.percent.normalize().to_string(),
        "top_services": top_json(&a.top), "report": report_json(&a.report),
    })
}

/// The SNS message attributes a filter policy can match.
fn budget_attributes(a: &BudgetAlert, severity: Severity) -> Vec<(&'static str, String)> {
    vec![
        ("kind", "budget".into()),
        ("budget", a.budget.clone()),
        ("account", a.account.clone()),
        ("service", a.service.clone()),
        ("period", a.report.period.to_string()),
        ("basis", a.basis.as_str().into()),
        ("severity", severity.name().into()),
        ("threshold", a.level_percent.normalize().to_string()),
        ("alert_id", a.alert_id.clone()),
    ]
}

/// The month-close summary of one budget, sent once when the period's report turns final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthClose {
    pub alert_id: String,
    pub budget: String,
    pub scope: String,
    pub amount: Decimal,
    pub currency: String,
    pub spent: Decimal,
    /// The scope's total in the last estimate before the final bill, if one was stored.
    pub last_estimate: Option<Decimal>,
    pub top: Vec<ServiceLine>,
    pub report: ReportFacts,
}

pub fn month_close(m: &MonthClose) -> Message {
    let percent = if m.amount.is_zero() {
        Decimal::ZERO
    } else {
        (m.spent * Decimal::ONE_HUNDRED / m.amount).round_dp(1)
    };
    let subject = sanitize_subject(&format!(
        "billwatch: {} closed {} at {} {} ({}% of budget)",
        m.budget,
        m.report.period,
        money(m.spent),
        m.currency,
        percent.normalize()
    ));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "The {} bill is final. Budget \"{}\":",
        m.report.period, m.budget
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "  Spent:   {} {} of {} {} ({}%)",
        money(m.spent),
        m.currency,
        m.amount.normalize(),
        m.currency,
        percent.normalize()
    );
    let moved = m.last_estimate.map(|e| m.spent - e);
    match (m.last_estimate, moved) {
        (Some(e), Some(d)) => {
            let _ = writeln!(
                text,
                "  Last estimate: {} {}; the final bill moved {} {}",
                money(e),
                m.currency,
                signed(d),
                m.currency
            );
        }
        _ => {
            let _ = writeln!(
                text,
                "  No estimate of this month was stored before the final bill."
            );
        }
    }
    let _ = writeln!(text, "  Scope:   {}", m.scope);
    let _ = writeln!(text, "  Report:  {}", report_line(&m.report));
    let _ = writeln!(text);
    top_services(&mut text, &m.top, &m.currency);
    let _ = writeln!(text);
    let _ = writeln!(text, "Alert id: {}", m.alert_id);
    let payload = json!({
        "type": "month-close", "alert_id": m.alert_id, "severity": "info", "budget": m.budget,
        "scope": m.scope, "period": m.report.period, "amount": m.amount.to_string(),
        "currency": m.currency, "spent": m.spent.to_string(), "percent": percent.normalize().to_string(),
        "last_estimate": m.last_estimate.map(|e| e.to_string()),
        "moved_since_estimate": moved.map(|d| d.to_string()),
        "top_services": top_json(&m.top), "report": report_json(&m.report),
    });
    Message {
        subject,
        text: sanitize_text(&text),
        payload,
        attributes: vec![
            ("kind", "month-close".into()),
            ("budget", m.budget.clone()),
            ("period", m.report.period.to_string()),
            ("basis", "final".into()),
            ("severity", "info".into()),
            ("alert_id", m.alert_id.clone()),
        ],
    }
}

/// A health alert: silence, a report that failed, failed checks, a new service. The payload and
/// the `severity` attribute always agree (subscribers filter on the attribute).
pub fn health(
    alert_id: &str,
    check: HealthCheck,
    subject: &str,
    text: &str,
    period: Period,
    details: Value,
) -> Message {
    let severity = check.severity();
    let what = check.as_str();
    let mut body = sanitize_text(text);
    let _ = write!(body, "\nAlert id: {alert_id}\n");
    Message {
        subject: sanitize_subject(&format!("billwatch: {subject}")),
        text: body,
        payload: json!({"type": "health", "check": what, "alert_id": alert_id, "severity": severity.name(),
                        "period": period, "details": details}),
        attributes: vec![
            ("kind", "health".into()),
            ("check", what.into()),
            ("period", period.to_string()),
            ("severity", severity.name().into()),
            ("alert_id", alert_id.into()),
        ],
    }
}

/// `billwatch alerts test`: a clearly marked message to check subscriptions.
pub fn test_message(now: &str) -> Message {
    let id = format!("test:{now}");
    Message {
        subject: "billwatch: TEST message - please ignore".into(),
        text: format!("This is a test message from billwatch, sent at {now} by `billwatch alerts test`.\nIf you can read it, your subscription works. No budget was crossed.\n\nAlert id: {id}\n"),
        payload: json!({"type": "test", "alert_id": id, "severity": "info", "sent_at": now}),
        attributes: vec![("kind", "test".into()), ("severity", "info".into()), ("alert_id", id)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn pd(s: &str) -> Period {
        s.parse().unwrap()
    }

    fn sample(basis: &str, actual: &str, percent: &str) -> BudgetAlert {
        BudgetAlert {
            alert_id: format!("team:2026-11:{basis}:80"),
            budget: "team".into(),
            scope: "all accounts".into(),
            account: "all".into(),
            service: "all".into(),
            amount: d("1000"),
            currency: "USD".into(),
            basis: basis.parse().unwrap(),
            level_percent: d("80"),
            escalation: false,
            actual: d(actual),
            forecast: Some(d("1234.5678")),
            percent: d(percent),
            top: vec![
                ServiceLine {
                    service: "AmazonEC2".into(),
                    name: "Amazon Elastic Compute Cloud".into(),
                    cost: d("600.123"),
                    change: Some(d("12.5")),
                },
                ServiceLine {
                    service: "=HYPERLINK(\"x\")".into(),
                    name: "evil\u{7}".into(),
                    cost: d("1"),
                    change: None,
                },
            ],
            report: ReportFacts {
                key: "b/123456789012-aws-billing-csv-2026-11.csv".into(),
                format: Format::LegacyMonthly,
                period: pd("2026-11"),
                status: Status::Estimated,
                as_of: Some("2026-11-20T08:00:00.000Z".into()),
            },
        }
    }

    #[test]
    fn a_budget_alert_renders_for_people_and_machines() {
        let m = budget_alert(&sample("actual", "850.25", "85"));
        assert_eq!(m.subject, "billwatch: team at 85% of 1000 USD (2026-11)");
        assert!(m
            .text
            .contains("Budget \"team\" has reached 85% of its 1000 USD limit for 2026-11."));
        assert!(m.text.contains("Spent so far:  850.25 USD"));
        assert!(m.text.contains("Month-end forecast: 1234.57 USD"));
        assert!(m.text.contains("AmazonEC2                          600.12 USD  (+12.50 since the previous delivery)"), "{}", m.text);
        assert!(m.text.contains("'=HYPERLINK"), "{}", m.text);
        assert!(m.text.contains("data as of 2026-11-20T08:00:00.000Z"));
        assert_eq!(m.payload["severity"], "warning");
        assert_eq!(m.payload["top_services"][1]["service_name"], "evil");
        let attrs: std::collections::HashMap<_, _> = m.attributes.iter().cloned().collect();
        assert_eq!(attrs["basis"], "actual");
        assert_eq!(attrs["severity"], "warning");
        let sns: Value = serde_json::from_str(&m.sns_json()).unwrap();
        assert_eq!(sns["default"], m.text);
        assert_eq!(
            serde_json::from_str::<Value>(sns["sqs"].as_str().unwrap()).unwrap(),
            m.payload
        );
    }

    #[test]
    fn over_budget_is_critical_and_forecasts_say_so() {
        assert_eq!(
            budget_alert(&sample("actual", "1000", "100")).payload["severity"],
            "critical"
        );
        let f = budget_alert(&sample("forecast", "500", "123.5"));
        assert_eq!(
            f.subject,
            "billwatch: team forecast 123.5% of 1000 USD (2026-11)"
        );
        assert!(f.text.contains("is forecast to reach 123.5%"));
        assert_eq!(f.payload["severity"], "warning");
    }

    #[test]
    fn month_close_says_how_far_the_final_bill_moved() {
        let m = month_close(&MonthClose {
            alert_id: "team:2026-10:close".into(),
            budget: "team".into(),
            scope: "all accounts".into(),
            amount: d("100"),
            currency: "USD".into(),
            spent: d("114.80425"),
            last_estimate: Some(d("114.990489")),
            top: vec![],
            report: ReportFacts {
                key: "k".into(),
                format: Format::LegacyMonthly,
                period: pd("2026-10"),
                status: Status::Final,
                as_of: None,
            },
        });
        assert_eq!(
            m.subject,
            "billwatch: team closed 2026-10 at 114.80 USD (114.8% of budget)"
        );
        assert!(
            m.text.contains("the final bill moved -0.19 USD"),
            "{}",
            m.text
        );
        assert_eq!(m.payload["moved_since_estimate"], "-0.186239");
    }
}
