//! The message templates: a budget threshold, the month-close summary, a health notice, a test
//! message. Each renders a subject that fits SNS, a plain-text body for e-mail, a JSON payload
//! for machines and message attributes for SNS filter policies; report text is sanitised.

use super::message::{Message, Severity};
use super::sanitize::{report_text, sanitize_subject, sanitize_text};
use crate::budget::Basis;
use crate::money_text;
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
    /// The threshold crossed, as a percentage of the amount (its identity in claims).
    pub level_percent: Decimal,
    /// The threshold crossed, in the budget's currency.
    pub level_amount: Decimal,
    /// The threshold as the budget spells it: `80%`, or `500.00 USD` for an absolute one.
    pub threshold: String,
    pub escalation: bool,
    pub actual: Decimal,
    pub forecast: Option<Decimal>,
    /// The basis value as a percentage of the amount.
    pub percent: Decimal,
    pub top: Vec<ServiceLine>,
    pub report: ReportFacts,
    /// What the budget counts beyond unblended monthly cost, in words (`amortized cost,
    /// quarterly, without credits, filter tags = { team = ["data"] }`); empty for a plain
    /// budget.
    pub counts: String,
    /// The budget's period.
    pub cadence: crate::budget::span::Cadence,
    /// The span the figures cover when it is not the report's month (`2026-Q4`, `2026`,
    /// `2026-11-07`).
    pub span: Option<String>,
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
    /// A delivery owed more alerts than the transaction that makes it live can carry: the
    /// ones that did not fit are listed in one message (notices::overflow).
    Overflow,
    /// A budget asks what the report cannot answer (amortized cost of a legacy CSV, a tag
    /// without its column): said once per budget and span, never a silent zero.
    BudgetUnanswerable,
}

impl HealthCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCheck::Silence => "silence",
            HealthCheck::ReportFailed => "report-failed",
            HealthCheck::Checks => "checks",
            HealthCheck::NewService => "new-service",
            HealthCheck::Overflow => "overflow",
            HealthCheck::BudgetUnanswerable => "budget-unanswerable",
        }
    }

    /// A new service is news, not trouble; the others need someone to look.
    pub fn severity(self) -> Severity {
        match self {
            HealthCheck::NewService => Severity::Info,
            HealthCheck::BudgetUnanswerable => Severity::Warning,
            _ => Severity::Critical,
        }
    }
}

/// Rounded to the cent with thousands separators (`1,234.57`): what people read. Payloads
/// keep the exact decimals.
pub(crate) fn money(v: Decimal) -> String {
    money_text::cents(v)
}

fn signed(v: Decimal) -> String {
    money_text::signed_cents(v)
}

fn top_services(out: &mut String, top: &[ServiceLine], currency: &str) {
    let _ = writeln!(out, "Top services:");
    if top.is_empty() {
        let _ = writeln!(out, "  (none in scope)");
    }
    let names: Vec<String> = top.iter().map(|l| report_text(&l.service)).collect();
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let costs: Vec<String> = top.iter().map(|l| money(l.cost)).collect();
    let cost_width = costs.iter().map(String::len).max().unwrap_or(0);
    for ((line, name), cost) in top.iter().zip(&names).zip(&costs) {
        let change = line
            .change
            .map(|c| format!("  ({} since the previous delivery)", signed(c)))
            .unwrap_or_else(|| "  (first delivery of the period)".into());
        let _ = writeln!(
            out,
            "  {name:<name_width$}  {cost:>cost_width$} {currency}{change}"
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
    let severity = Severity::of_budget(a.basis, a.level_percent);
    Message {
        subject: budget_subject(a),
        text: sanitize_text(&budget_text(a, severity)),
        payload: budget_payload(a, severity),
        attributes: budget_attributes(a, severity),
    }
}

/// What crossed, in words: `actual spend` or `month-end forecast` (`forecast` for a budget
/// over another span than the month).
fn basis_words(a: &BudgetAlert, basis: Basis) -> &'static str {
    match (basis, &a.span) {
        (Basis::Actual, _) => "actual spend",
        (Basis::Forecast, None) => "month-end forecast",
        (Basis::Forecast, Some(_)) => "forecast",
    }
}

/// The span the alert is about, for people: `Nov 2026`, or `2026-Q4`.
fn span_label(a: &BudgetAlert) -> String {
    a.span.clone().unwrap_or_else(|| a.report.period.label())
}

/// `a month`, `a quarter`, `a year`, `a day`.
fn per(a: &BudgetAlert) -> &'static str {
    use crate::budget::span::Cadence;
    match a.cadence {
        Cadence::Daily => "a day",
        Cadence::Monthly => "a month",
        Cadence::Quarterly => "a quarter",
        Cadence::Annual => "a year",
    }
}

/// `billwatch: team-a: actual spend passed 80% of 1,000.00 USD - Nov 2026`: the budget, the
/// basis and the threshold crossed, so that the alerts of one delivery never share a subject.
/// A final bill adds `(final bill)`. SNS subjects are ASCII: a hyphen, not a dash.
fn budget_subject(a: &BudgetAlert) -> String {
    sanitize_subject(&format!(
        "billwatch: {}: {} passed {} of {} {} - {}{}",
        a.budget,
        basis_words(a, a.basis),
        a.threshold,
        money(a.amount),
        a.currency,
        span_label(a),
        if a.report.status == Status::Final {
            " (final bill)"
        } else {
            ""
        }
    ))
}

/// Why an alert has its severity, in the words of the rule ([`Severity::of_budget`]).
fn severity_reason(a: &BudgetAlert, severity: Severity) -> &'static str {
    match (a.basis, severity) {
        (Basis::Forecast, _) => "a forecast may not happen",
        (_, Severity::Critical) => "actual spend passed a threshold at or over 100% of the budget",
        _ => "actual spend passed a threshold below 100% of the budget",
    }
}

/// The e-mail body (not yet sanitised): the headline, the figures, the top services and where
/// the alert came from. Amounts to the cent; the JSON payload has them exact.
fn budget_text(a: &BudgetAlert, severity: Severity) -> String {
    let mut text = String::new();
    let c = &a.currency;
    let _ = writeln!(
        text,
        "Budget \"{}\": the {} passed {} ({} {c}) of the {} {c} budget for {}.",
        a.budget,
        basis_words(a, a.basis),
        if a.threshold.ends_with('%') {
            format!("the {} threshold", a.threshold)
        } else {
            "its threshold".into()
        },
        money(a.level_amount),
        money(a.amount),
        span_label(a),
    );
    let _ = writeln!(text);
    // The share of the budget stands beside the figure the alert is about.
    let share = |basis: Basis| {
        if a.basis == basis {
            format!(" ({}% of the budget)", money_text::percent(a.percent))
        } else {
            String::new()
        }
    };
    let _ = writeln!(
        text,
        "  Spent so far:        {} {c}{}",
        money(a.actual),
        share(Basis::Actual)
    );
    if let Some(f) = a.forecast {
        let _ = writeln!(
            text,
            "  {:<21}{} {c}{}",
            match &a.span {
                None => "Month-end forecast:".to_string(),
                Some(span) => format!("Forecast to {span}:"),
            },
            money(f),
            share(Basis::Forecast)
        );
    }
    let _ = writeln!(
        text,
        "  Budget:              {} {c} {}",
        money(a.amount),
        per(a)
    );
    if !a.counts.is_empty() {
        let _ = writeln!(text, "  Counts:              {}", a.counts);
    }
    let _ = writeln!(
        text,
        "  Threshold:           {} = {} {c}, on {}{}",
        a.threshold,
        money(a.level_amount),
        basis_words(a, a.basis),
        if a.escalation {
            " (escalation step)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        text,
        "  Severity:            {} ({})",
        severity.name(),
        severity_reason(a, severity)
    );
    let _ = writeln!(text, "  Scope:               {}", a.scope);
    let _ = writeln!(text, "  Report:              {}", report_line(&a.report));
    let _ = writeln!(text);
    // A budget summed in the pass keeps its figure whole, not per service.
    if a.counts.is_empty() || !a.top.is_empty() {
        top_services(&mut text, &a.top, c);
        let _ = writeln!(text);
    }
    let _ = writeln!(text, "Source: {}", report_text(&a.report.key));
    let _ = writeln!(text, "Alert id: {}", a.alert_id);
    text
}

fn budget_payload(a: &BudgetAlert, severity: Severity) -> Value {
    json!({
        "type": "budget", "alert_id": a.alert_id, "severity": severity.name(),
        "budget": a.budget, "scope": a.scope, "period": a.report.period, "basis": a.basis.as_str(),
        "threshold": a.threshold,
        "threshold_percent": a.level_percent.normalize().to_string(),
        "threshold_amount": a.level_amount.to_string(), "escalation": a.escalation,
        "amount": a.amount.to_string(), "currency": a.currency,
        "actual": a.actual.to_string(), "forecast": a.forecast.map(|f| f.to_string()),
        "percent": a.percent.normalize().to_string(),
        "top_services": top_json(&a.top), "report": report_json(&a.report),
        "counts": a.counts, "cadence": a.cadence.name(), "span": a.span,
    })
}

/// The SNS message attributes a filter policy can match; `severity` is the payload's.
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
        "billwatch: {}: {} closed at {} {} ({}% of {} {})",
        m.budget,
        m.report.period.label(),
        money(m.spent),
        m.currency,
        percent.normalize(),
        money(m.amount),
        m.currency,
    ));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "The {} bill is final. Budget \"{}\":",
        m.report.period.label(),
        m.budget
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "  Spent:   {} {} of {} {} ({}%)",
        money(m.spent),
        m.currency,
        money(m.amount),
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
pub(crate) mod tests {
    use super::*;
    use std::str::FromStr;

    /// The 80 % actual-spend alert of a 1,000 USD budget at 1,150 USD (the chat fixture).
    pub(crate) fn sample_message() -> Message {
        budget_alert(&sample("actual", "1150", "115"))
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn pd(s: &str) -> Period {
        s.parse().unwrap()
    }

    fn sample(basis: &str, actual: &str, percent: &str) -> BudgetAlert {
        sample_at(basis, "80", actual, percent)
    }

    fn sample_at(basis: &str, level: &str, actual: &str, percent: &str) -> BudgetAlert {
        BudgetAlert {
            alert_id: format!("team:2026-11:{basis}:{level}"),
            budget: "team".into(),
            scope: "all accounts".into(),
            account: "all".into(),
            service: "all".into(),
            amount: d("1000"),
            currency: "USD".into(),
            basis: basis.parse().unwrap(),
            level_percent: d(level),
            level_amount: d(level) * d("10"),
            threshold: format!("{level}%"),
            escalation: false,
            actual: d(actual),
            forecast: Some(d("1234.5678")),
            percent: d(percent),
            counts: String::new(),
            cadence: crate::budget::span::Cadence::Monthly,
            span: None,
            top: vec![
                ServiceLine {
                    service: "AmazonEC2".into(),
                    name: "Amazon Elastic Compute Cloud".into(),
                    cost: d("1600.125"),
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

    fn attrs(m: &Message) -> std::collections::HashMap<&'static str, String> {
        m.attributes.iter().cloned().collect()
    }

    #[test]
    fn a_budget_over_a_quarter_says_what_it_counts_and_its_span() {
        let mut a = sample("forecast", "700", "105.5");
        a.counts = "amortized cost, quarterly, filter tags = { team = [\"data\"] }".into();
        a.cadence = crate::budget::span::Cadence::Quarterly;
        a.span = Some("2026-Q4".into());
        a.top.clear();
        let m = budget_alert(&a);
        assert!(
            m.subject
                .contains("forecast passed 80% of 1,000.00 USD - 2026-Q4"),
            "{}",
            m.subject
        );
        assert!(m.text.contains("budget for 2026-Q4."), "{}", m.text);
        assert!(
            m.text
                .contains("  Budget:              1,000.00 USD a quarter\n"),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains("  Counts:              amortized cost, quarterly, filter tags"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("  Forecast to 2026-Q4: 1,234.57 USD"),
            "{}",
            m.text
        );
        assert!(!m.text.contains("Top services"), "{}", m.text);
        assert_eq!(m.payload["span"], "2026-Q4");
        assert_eq!(m.payload["cadence"], "quarterly");
        assert!(m.payload["counts"]
            .as_str()
            .unwrap()
            .starts_with("amortized cost"));
        // The chat copy is made from the same text: it says it too.
        let attributes: Vec<(String, String)> = m
            .attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let chat = super::super::chat::notification(&m.subject, &m.text, &attributes);
        assert!(chat.to_string().contains("Counts:"), "{chat}");
    }

    #[test]
    fn a_budget_alert_renders_for_people_and_machines() {
        let m = budget_alert(&sample("actual", "1850.254", "185"));
        assert_eq!(
            m.subject,
            "billwatch: team: actual spend passed 80% of 1,000.00 USD - Nov 2026"
        );
        assert!(
            m.text.starts_with("Budget \"team\": the actual spend passed the 80% threshold (800.00 USD) of the 1,000.00 USD budget for Nov 2026.\n"),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains("Spent so far:        1,850.25 USD (185% of the budget)"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("Month-end forecast:  1,234.57 USD\n"),
            "{}",
            m.text
        );
        assert!(m
            .text
            .contains("Threshold:           80% = 800.00 USD, on actual spend\n"));
        assert!(m.text.contains("Severity:            warning (actual spend passed a threshold below 100% of the budget)"));
        // Service names and amounts line up whatever their length.
        assert!(
            m.text.contains(
                "  AmazonEC2         1,600.13 USD  (+12.50 since the previous delivery)\n"
            ),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains("  '=HYPERLINK(\"x\")      1.00 USD  (first delivery of the period)\n"),
            "{}",
            m.text
        );
        assert!(m.text.contains("data as of 2026-11-20T08:00:00.000Z"));
        // Exact values stay in the payload.
        assert_eq!(m.payload["actual"], "1850.254");
        assert_eq!(m.payload["top_services"][0]["cost"], "1600.125");
        assert_eq!(m.payload["threshold"], "80%");
        assert_eq!(m.payload["threshold_amount"], "800");
        assert_eq!(m.payload["severity"], "warning");
        assert_eq!(m.payload["top_services"][1]["service_name"], "evil");
        let attrs = attrs(&m);
        assert_eq!(attrs["basis"], "actual");
        assert_eq!(attrs["severity"], "warning");
        assert_eq!(attrs["threshold"], "80");
        let sns: Value = serde_json::from_str(&m.sns_json()).unwrap();
        assert_eq!(sns["default"], m.text);
        assert_eq!(
            serde_json::from_str::<Value>(sns["sqs"].as_str().unwrap()).unwrap(),
            m.payload
        );
    }

    // The written rule: forecast → warning; actual below 100 % → warning; actual at or over
    // 100 % → critical. Payload and attribute always agree.
    #[test]
    fn severity_follows_the_threshold_crossed_and_payload_and_attribute_agree() {
        for (basis, level, expected) in [
            ("actual", "50", "warning"),
            ("actual", "99.9", "warning"),
            ("actual", "100", "critical"),
            ("actual", "140", "critical"),
            ("forecast", "80", "warning"),
            ("forecast", "100", "warning"),
            ("forecast", "150", "warning"),
        ] {
            // Spend far past every threshold: the level decides, not the spend.
            let m = budget_alert(&sample_at(basis, level, "5000", "500"));
            assert_eq!(m.payload["severity"], expected, "{basis} {level}");
            assert_eq!(attrs(&m)["severity"], expected, "{basis} {level}");
        }
    }

    // One delivery crossing 50, 80 and 100 % on actual spend and 100 % on the forecast: four
    // messages, four different subjects.
    #[test]
    fn the_alerts_of_one_delivery_have_distinct_subjects() {
        let subjects: std::collections::BTreeSet<String> = [
            ("actual", "50"),
            ("actual", "80"),
            ("actual", "100"),
            ("forecast", "100"),
        ]
        .into_iter()
        .map(|(basis, level)| budget_alert(&sample_at(basis, level, "1150", "115")).subject)
        .collect();
        assert_eq!(subjects.len(), 4, "{subjects:?}");
        assert!(subjects.contains(
            "billwatch: team: month-end forecast passed 100% of 1,000.00 USD - Nov 2026"
        ));
    }

    #[test]
    fn over_budget_is_critical_and_forecasts_say_so() {
        assert_eq!(
            budget_alert(&sample_at("actual", "100", "1000", "100")).payload["severity"],
            "critical"
        );
        let f = budget_alert(&sample_at("forecast", "100", "500", "123.5"));
        assert!(f
            .text
            .contains("the month-end forecast passed the 100% threshold"));
        assert!(
            f.text
                .contains("Month-end forecast:  1,234.57 USD (123.5% of the budget)"),
            "{}",
            f.text
        );
        assert_eq!(f.payload["severity"], "warning");
    }

    #[test]
    fn an_absolute_threshold_is_named_as_an_amount_and_a_final_bill_says_so() {
        let mut a = sample_at("actual", "50", "600", "60");
        a.threshold = "500.00 USD".into();
        a.report.status = Status::Final;
        let m = budget_alert(&a);
        assert_eq!(
            m.subject,
            "billwatch: team: actual spend passed 500.00 USD of 1,000.00 USD - Nov 2026 (final bill)"
        );
        assert!(
            m.text.contains("passed its threshold (500.00 USD)"),
            "{}",
            m.text
        );
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
            "billwatch: team: Oct 2026 closed at 114.80 USD (114.8% of 100.00 USD)"
        );
        assert!(
            m.text.contains("the final bill moved -0.19 USD"),
            "{}",
            m.text
        );
        assert_eq!(m.payload["moved_since_estimate"], "-0.186239");
    }
}
