//! What a stored delivery calls for, decided from plain data: budget thresholds crossed
//! (actual, forecast, escalation), the month-close summary when the period turns final, failed
//! reconciliation checks and services new to an account. Each alert carries a claim key that is
//! unique within its period (so it is sent once however often it is planned) and its rendered
//! message. Nothing here does I/O.

pub use super::delivery::{Delivery, Line, MonthFigures, Previous};
use super::message::Severity;
use super::notices::health_notice;
use super::notices::{failed_checks, new_services};
pub use super::owed::{Alert, AlertKind};
use super::render::HealthCheck;
use super::render::{self, BudgetAlert, MonthClose, ReportFacts, ServiceLine};
use crate::budget::span::Span;
use crate::budget::spec::Figures;
use crate::budget::standing::{figures_in, span_period, standing, Month};
use crate::budget::{evaluate, spent, Basis, Budget, Crossing, Level, Scope};
use crate::forecast::forecast;
use crate::money_text;
use crate::period::Period;
use crate::report::{ReportSummary, Status};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Every alert a stored delivery calls for, in a stable order: budget thresholds (per budget,
/// by basis then level), month-close summaries, failed checks, new services.
pub fn plan_delivery(d: &Delivery<'_>) -> Vec<Alert> {
    let facts = ReportFacts {
        key: d.report_key.to_string(),
        format: d.summary.format,
        period: d.period,
        status: d.summary.status,
        as_of: d.summary.as_of.clone(),
    };
    let mut out = Vec::new();
    for budget in d.budgets {
        out.extend(budget_alerts(d, budget, &facts));
    }
    let turned_final =
        d.summary.status == Status::Final && d.previous.is_none_or(|p| p.status != Status::Final);
    if turned_final {
        for budget in d.budgets {
            out.extend(month_close(d, budget, &facts));
        }
    }
    out.extend(failed_checks(d));
    out.extend(new_services(d));
    out.extend(d.anomalies.iter().cloned());
    out
}

/// The month-end forecast of a budget's scope; tag budgets have none (the engine keeps no daily
/// series per tag value).
fn projected(d: &Delivery<'_>, budget: &Budget) -> Option<Decimal> {
    if matches!(budget.scope, Scope::Tag { .. }) {
        return None;
    }
    let in_scope: Vec<_> = d
        .summary
        .totals
        .iter()
        .filter(|t| budget.covers(t))
        .collect();
    Some(
        forecast(
            &in_scope,
            d.period,
            d.summary.as_of.as_deref(),
            d.summary.status,
        )
        .projected,
    )
}

fn budget_alerts(d: &Delivery<'_>, budget: &Budget, facts: &ReportFacts) -> Vec<Alert> {
    if let Some(watch) = budget.watch() {
        return super::commitment_plan::commitment_alerts(d, budget, watch, facts);
    }
    if budget.summed_in_pass() {
        return pass_budget_alerts(d, budget, facts);
    }
    let actual = spent(budget, d.summary);
    let forecast = projected(d, budget);
    let top = top_lines(budget, d.summary, d.previous);
    crossing_alerts(
        d,
        budget,
        facts,
        evaluate(budget, d.period, actual, forecast),
        None,
        top,
    )
}

/// A budget the engine summed in its pass: where it stands in its span, from this delivery's
/// figures and the other months' live ones ([`Delivery::history`]); a budget the reports cannot
/// answer gets one notice per span instead of a figure.
fn pass_budget_alerts(d: &Delivery<'_>, budget: &Budget, facts: &ReportFacts) -> Vec<Alert> {
    let current = figures_in(budget, d.summary);
    let mut figures: Vec<(Period, Figures, Option<String>, Status)> = d
        .history
        .iter()
        .filter(|m| m.period != d.period)
        .map(|m| {
            let f = m
                .figures
                .iter()
                .find(|f| f.name == budget.name)
                .cloned()
                .unwrap_or_else(|| Figures {
                    name: budget.name.clone(),
                    answer: Err(format!(
                        "the {} delivery was stored before this budget existed (deliver it again to count it)",
                        m.period
                    )),
                    notes: Vec::new(),
                    gauge: None,
                });
            (m.period, f, m.as_of.clone(), m.status)
        })
        .collect();
    figures.push((d.period, current, d.summary.as_of.clone(), d.summary.status));
    let months: Vec<Month<'_>> = figures
        .iter()
        .map(|(period, f, as_of, status)| Month {
            period: *period,
            figures: f,
            as_of: as_of.clone(),
            status: *status,
        })
        .collect();
    let Some(standing) = standing(budget, &months) else {
        return Vec::new();
    };
    if let Err(why) = &standing.spend {
        return vec![unanswerable(d, budget, standing.span, why)];
    }
    let span = (standing.span != Span::Month(d.period)).then_some(standing.span);
    crossing_alerts(d, budget, facts, standing.crossings, span, Vec::new())
}

/// The alerts of the crossings of one budget. `span` is the budget's span when it is not the
/// delivery's month: its claims are kept under the span's first month (once per quarter, not
/// once per month of it), a day's under its own day.
fn crossing_alerts(
    d: &Delivery<'_>,
    budget: &Budget,
    facts: &ReportFacts,
    crossings: Vec<Crossing>,
    span: Option<Span>,
    top: Vec<ServiceLine>,
) -> Vec<Alert> {
    crossings
        .into_iter()
        .map(|c| {
            // An automatic amount is the crossing's own.
            let amount = c.budget.amount;
            let (key, alert_id) = match span {
                Some(day @ Span::Day(_)) => (
                    format!("{}#{day}#{}", budget.name, c.claim_key()),
                    format!(
                        "{}:{day}:{}:{}",
                        budget.name,
                        c.basis,
                        c.level_percent.normalize()
                    ),
                ),
                Some(other) => (
                    format!("{}#{}", budget.name, c.claim_key()),
                    format!(
                        "{}:{other}:{}:{}",
                        budget.name,
                        c.basis,
                        c.level_percent.normalize()
                    ),
                ),
                None => (format!("{}#{}", budget.name, c.claim_key()), c.alert_id()),
            };
            let message = render::budget_alert(&BudgetAlert {
                alert_id: alert_id.clone(),
                budget: budget.name.clone(),
                scope: budget.scope.describe(),
                account: budget.scope.account().unwrap_or("all").into(),
                service: budget.scope.service().unwrap_or("all").into(),
                amount,
                currency: budget.currency.clone(),
                basis: c.basis,
                level_percent: c.level_percent,
                level_amount: c.level_amount,
                threshold: threshold_text(&c.budget, &c),
                escalation: c.escalation,
                actual: c.actual,
                forecast: c.forecast,
                percent: c.percent,
                top: top.clone(),
                report: facts.clone(),
                counts: budget.model_text(),
                cadence: budget.model.cadence,
                span: span.map(|s| s.to_string()),
            });
            let value = match c.basis {
                Basis::Forecast => c.forecast.unwrap_or(c.actual),
                Basis::Actual => c.actual,
            };
            let what = match budget.model_text() {
                t if t.is_empty() => String::new(),
                t => format!(" ({t})"),
            };
            Alert {
                period: c.period,
                key,
                alert_id,
                kind: if c.escalation {
                    AlertKind::Escalation
                } else {
                    AlertKind::Budget
                },
                budget: Some(budget.name.clone()),
                basis: Some(c.basis),
                severity: Severity::of_budget(c.basis, c.level_percent),
                reason: format!(
                    "{} spend {} {} passed {} of {} {}{what}",
                    c.basis,
                    money_text::cents(value),
                    budget.currency,
                    threshold_text(&c.budget, &c),
                    money_text::cents(amount),
                    budget.currency
                ),
                report_key: Some(d.report_key.to_string()),
                topic: budget.topic_arn.clone(),
                message,
            }
        })
        .collect()
}

/// The one notice of a budget the reports cannot answer, per budget and span.
fn unanswerable(d: &Delivery<'_>, budget: &Budget, span: Span, why: &str) -> Alert {
    let period = span_period(span);
    let key = format!("{}#unanswerable", budget.name);
    let alert_id = format!("{}:{span}:unanswerable", budget.name);
    let subject = format!("budget {} cannot be answered for {span}", budget.name);
    let text = format!(
        "Budget \"{}\" ({}) cannot be answered from the report {}:\n\n  {why}\n\n\
         billwatch checks no threshold of this budget until a report can answer it. Deliver a \
         report that has what it needs (a Cost and Usage Report or FOCUS export with the \
         columns named, the tag activated as a cost allocation tag), or change the budget \
         (`billwatch budgets check` says what each field means).\n",
        budget.name,
        budget.model_text(),
        d.report_key
    );
    let details = serde_json::json!({
        "budget": budget.name,
        "span": span.to_string(),
        "reason": why,
        "report_key": crate::alert::sanitize::report_text(d.report_key),
    });
    Alert {
        budget: Some(budget.name.clone()),
        report_key: Some(d.report_key.to_string()),
        topic: budget.topic_arn.clone(),
        ..health_notice(
            period,
            key,
            alert_id,
            HealthCheck::BudgetUnanswerable,
            &subject,
            &text,
            details,
        )
    }
}

/// The crossed threshold as the budget spells it: `80%`, or `500.00 USD` when the budget set
/// an absolute amount at that level and basis (escalation steps are percentages).
fn threshold_text(budget: &Budget, c: &Crossing) -> String {
    match c.threshold().map(|t| t.level) {
        Some(Level::Absolute(_)) => {
            format!("{} {}", money_text::cents(c.level_amount), budget.currency)
        }
        _ => format!("{}%", c.level_percent.normalize()),
    }
}

/// The month-close summary of a budget. A budget summed in the pass has one when it is
/// monthly with a set amount (a quarter or a year does not close with its month) and the
/// report answers it; its spend is its own figure, its top services none (the figure is not
/// kept per service).
fn month_close(d: &Delivery<'_>, budget: &Budget, facts: &ReportFacts) -> Option<Alert> {
    if budget.watch().is_some() {
        return None;
    }
    let pass = budget.summed_in_pass();
    let (spent, last_estimate, top) = if pass {
        if budget.model.cadence != crate::budget::span::Cadence::Monthly
            || budget.model.auto.is_some()
        {
            return None;
        }
        let spend = figures_in(budget, d.summary)
            .spend_in(&budget.currency)
            .ok()?;
        (spend.total, None, Vec::new())
    } else {
        let last_estimate = d.previous.map(|p| {
            p.lines
                .iter()
                .filter(|t| budget.covers_line(&t.account, &t.service, &t.currency))
                .map(|t| t.cost)
                .sum()
        });
        (
            spent(budget, d.summary),
            last_estimate,
            top_lines(budget, d.summary, d.previous),
        )
    };
    let alert_id = format!("{}:{}:close", budget.name, d.period);
    let message = render::month_close(&MonthClose {
        alert_id: alert_id.clone(),
        budget: budget.name.clone(),
        scope: budget.scope.describe(),
        amount: budget.amount,
        currency: budget.currency.clone(),
        spent,
        last_estimate,
        top,
        report: facts.clone(),
    });
    Some(Alert {
        period: d.period,
        key: format!("{}#close#final", budget.name),
        alert_id,
        kind: AlertKind::MonthClose,
        budget: Some(budget.name.clone()),
        basis: None,
        severity: Severity::Info,
        reason: format!("the {} bill is final", d.period),
        report_key: Some(d.report_key.to_string()),
        topic: budget.topic_arn.clone(),
        message,
    })
}

/// The budget scope's five biggest services, with their change since the previous delivery.
fn top_lines(b: &Budget, summary: &ReportSummary, previous: Option<&Previous>) -> Vec<ServiceLine> {
    let mut now: BTreeMap<&str, (Decimal, &str)> = BTreeMap::new();
    for t in summary.totals.iter().filter(|t| b.covers(t)) {
        let e = now
            .entry(&t.service)
            .or_insert((Decimal::ZERO, &t.service_name));
        e.0 += t.cost;
    }
    let mut then: BTreeMap<&str, Decimal> = BTreeMap::new();
    if let Some(p) = previous {
        for t in p
            .lines
            .iter()
            .filter(|t| b.covers_line(&t.account, &t.service, &t.currency))
        {
            *then.entry(&t.service).or_default() += t.cost;
        }
    }
    let mut lines: Vec<ServiceLine> = now
        .into_iter()
        .map(|(service, (cost, name))| ServiceLine {
            service: service.into(),
            name: name.into(),
            cost,
            change: previous.map(|_| cost - then.get(service).copied().unwrap_or_default()),
        })
        .collect();
    lines.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.service.cmp(&b.service)));
    lines.truncate(5);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::notices::report_failed;
    use crate::budget::Threshold;
    use crate::report::{Check, Format, Total};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn nov() -> crate::period::Period {
        "2026-11".parse().unwrap()
    }

    fn total(account: &str, service: &str, cost: &str) -> Total {
        Total {
            account_id: account.into(),
            service: service.into(),
            service_name: service.into(),
            currency: "USD".into(),
            cost: d(cost),
            breakdown: Default::default(),
            daily_usage: None,
        }
    }

    fn summary(status: Status, as_of: Option<&str>, totals: Vec<Total>) -> ReportSummary {
        ReportSummary {
            source: "s".into(),
            format: Format::LegacyMonthly,
            payer_account_id: Some("111111111111".into()),
            billing_period: Some(nov()),
            status,
            as_of: as_of.map(str::to_string),
            rows_read: 0,
            rows_summed: 0,
            totals,
            grand_totals: vec![],
            checks: vec![],
            skipped: Default::default(),
            warnings: vec![],
            tag_totals: vec![],
            budgets: vec![],
            objects_read: 1,
            delivery_id: None,
            commitments: None,
        }
    }

    fn budget(name: &str, scope: Scope, amount: &str, thresholds: Vec<Threshold>) -> Budget {
        Budget {
            name: name.into(),
            scope,
            amount: d(amount),
            currency: "USD".into(),
            thresholds,
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        }
    }

    fn pct(p: &str) -> Threshold {
        Threshold::percent(d(p))
    }

    fn delivery<'a>(
        s: &'a ReportSummary,
        previous: Option<&'a Previous>,
        budgets: &'a [Budget],
    ) -> Delivery<'a> {
        Delivery {
            report_key: "b/111111111111-aws-billing-csv-2026-11.csv",
            object_version: "0055AED6DCD90281E5",
            summary: s,
            period: nov(),
            previous,
            budgets,
            history: &[],
            anomalies: &[],
        }
    }

    fn keys(alerts: &[Alert]) -> Vec<&str> {
        alerts.iter().map(|a| a.key.as_str()).collect()
    }

    fn attr<'a>(a: &'a Alert, name: &str) -> &'a str {
        &a.message
            .attributes
            .iter()
            .find(|(k, _)| *k == name)
            .unwrap()
            .1
    }

    // 115 of a 100 USD budget with 50/80/100 % thresholds: three crossings, one claim key, one
    // message and one subject each; severity by the written rule (the threshold crossed
    // decides: 50 and 80 % are warnings, 100 % is critical, however far spend has run).
    #[test]
    fn spend_of_115_on_100_crosses_50_80_and_100_once_each() {
        let s = summary(
            Status::Estimated,
            None,
            vec![total("1", "AmazonEC2", "115")],
        );
        let b = [budget(
            "monthly",
            Scope::All,
            "100",
            vec![pct("50"), pct("80"), pct("100")],
        )];
        let plan = plan_delivery(&delivery(&s, None, &b));
        assert_eq!(
            keys(&plan),
            [
                "monthly#actual#50",
                "monthly#actual#80",
                "monthly#actual#100"
            ]
        );
        let expected = [
            (
                Severity::Warning,
                "billwatch: monthly: actual spend passed 50% of 100.00 USD - Nov 2026",
            ),
            (
                Severity::Warning,
                "billwatch: monthly: actual spend passed 80% of 100.00 USD - Nov 2026",
            ),
            (
                Severity::Critical,
                "billwatch: monthly: actual spend passed 100% of 100.00 USD - Nov 2026",
            ),
        ];
        for (a, (severity, subject)) in plan.iter().zip(expected) {
            assert_eq!(a.kind, AlertKind::Budget);
            assert_eq!(a.severity, severity);
            assert_eq!(attr(a, "severity"), severity.name());
            assert_eq!(a.message.payload["severity"], severity.name());
            assert_eq!(a.message.subject, subject);
            assert!(a.alert_id.starts_with("monthly:2026-11:actual:"));
        }
        assert_eq!(
            plan[0].reason,
            "actual spend 115.00 USD passed 50% of 100.00 USD"
        );
        // Planning twice gives the same claims and ids: a retry cannot invent new alerts.
        assert_eq!(plan, plan_delivery(&delivery(&s, None, &b)));
    }

    // An absolute threshold is named as the amount the budget set, not as a percentage.
    #[test]
    fn an_absolute_threshold_is_named_as_its_amount() {
        let s = summary(
            Status::Estimated,
            None,
            vec![total("1", "AmazonEC2", "1600")],
        );
        let b = [budget(
            "team",
            Scope::All,
            "1500",
            vec![Threshold::absolute(d("500")), pct("100")],
        )];
        let plan = plan_delivery(&delivery(&s, None, &b));
        let subjects: Vec<&str> = plan.iter().map(|a| a.message.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "billwatch: team: actual spend passed 500.00 USD of 1,500.00 USD - Nov 2026",
                "billwatch: team: actual spend passed 100% of 1,500.00 USD - Nov 2026",
            ]
        );
        assert_eq!(plan[0].message.payload["threshold_percent"], "33.333333");
    }

    // 60 of 100 with as_of on day 15 of 30: forecast 120 crosses forecast#100 (a warning),
    // actual#80 does not cross.
    #[test]
    fn a_forecast_crossing_is_a_warning_and_actual_below_does_not_cross() {
        let s = summary(
            Status::Estimated,
            Some("2026-11-16T00:00:00.000Z"),
            vec![total("1", "AmazonEC2", "60")],
        );
        let b = [budget(
            "team",
            Scope::All,
            "100",
            vec![pct("80"), pct("100").on(Basis::Forecast)],
        )];
        let plan = plan_delivery(&delivery(&s, None, &b));
        assert_eq!(keys(&plan), ["team#forecast#100"]);
        assert_eq!(plan[0].severity, Severity::Warning);
        assert_eq!(plan[0].basis, Some(Basis::Forecast));
        assert_eq!(attr(&plan[0], "basis"), "forecast");
    }

    // A tag budget has no forecast: 30 of 100 on tag team=a crosses 25 % and its message
    // prints no "Month-end forecast: 0.00".
    #[test]
    fn tag_budgets_print_no_forecast() {
        let mut s = summary(Status::Estimated, Some("2026-11-16T00:00:00.000Z"), vec![]);
        s.tag_totals = vec![crate::report::tags::TagTotal {
            key: "user:team".into(),
            value: "a".into(),
            currency: "USD".into(),
            cost: d("30"),
        }];
        let b = [budget(
            "tag-a",
            Scope::tag("user:team=a").unwrap(),
            "100",
            vec![pct("25")],
        )];
        let plan = plan_delivery(&delivery(&s, None, &b));
        assert_eq!(keys(&plan), ["tag-a#actual#25"]);
        let m = &plan[0].message;
        assert!(!m.text.contains("forecast"), "{}", m.text);
        assert!(m.payload["forecast"].is_null());
    }

    // Estimate 114.99 then the final bill 114.80: one month-close per budget, saying how far
    // the bill moved; a second final delivery (previous already final) closes nothing.
    #[test]
    fn the_month_closes_once_when_the_bill_turns_final() {
        let previous = Previous {
            status: Status::Estimated,
            lines: vec![Line {
                account: "1".into(),
                service: "AmazonEC2".into(),
                currency: "USD".into(),
                cost: d("114.990489"),
            }],
        };
        let s = summary(
            Status::Final,
            None,
            vec![total("1", "AmazonEC2", "114.80425")],
        );
        let b = [budget("monthly", Scope::All, "1000", vec![pct("50")])];
        let plan = plan_delivery(&delivery(&s, Some(&previous), &b));
        assert_eq!(keys(&plan), ["monthly#close#final"]);
        assert_eq!(plan[0].kind, AlertKind::MonthClose);
        assert_eq!(plan[0].severity, Severity::Info);
        assert_eq!(plan[0].message.payload["moved_since_estimate"], "-0.186239");
        let again = Previous {
            status: Status::Final,
            ..previous
        };
        assert!(plan_delivery(&delivery(&s, Some(&again), &b)).is_empty());
    }

    // A failed AccountTotal check alerts once per object version; a service absent from the
    // replaced delivery alerts as news (info in payload and attribute alike).
    #[test]
    fn failed_checks_and_new_services_are_health_alerts() {
        let previous = Previous {
            status: Status::Estimated,
            lines: vec![Line {
                account: "1".into(),
                service: "AmazonEC2".into(),
                currency: "USD".into(),
                cost: d("5"),
            }],
        };
        let mut s = summary(
            Status::Estimated,
            None,
            vec![
                total("1", "AmazonEC2", "6"),
                total("1", "=HYPERLINK(\"x\")\nAmazonRDS", "2"),
            ],
        );
        s.checks = vec![Check {
            name: "AccountTotal 1".into(),
            expected: d("9"),
            actual: d("8"),
            ok: false,
        }];
        let plan = plan_delivery(&delivery(&s, Some(&previous), &[]));
        assert_eq!(plan.len(), 2);
        assert_eq!(
            plan[0].key,
            "health#checks#b/111111111111-aws-billing-csv-2026-11.csv#0055AED6DCD90281E5"
        );
        assert_eq!(plan[0].severity, Severity::Critical);
        let new = &plan[1];
        assert!(new.key.starts_with("health#new-service#1#"));
        assert_eq!(new.severity, Severity::Info);
        assert_eq!(attr(new, "severity"), "info");
        assert_eq!(new.message.payload["severity"], "info");
        // Report text is sanitised in the subject and the body.
        assert!(!new.message.subject.contains('\n'));
        assert!(
            new.message.text.contains("'=HYPERLINK"),
            "{}",
            new.message.text
        );
    }

    // 500 new services in one delivery: the 20 costliest alert one by one, the other 480 in
    // one summary; every message stays far below SNS's 256 KB and every key below 1,024 bytes.
    #[test]
    fn many_new_services_are_bounded() {
        let previous = Previous {
            status: Status::Estimated,
            lines: vec![],
        };
        let long = "x".repeat(300);
        let totals: Vec<Total> = (0..500)
            .map(|i| total(&format!("{i:012}"), &format!("{long}{i}"), &format!("{i}")))
            .collect();
        let s = summary(Status::Estimated, None, totals);
        let plan = plan_delivery(&delivery(&s, Some(&previous), &[]));
        assert_eq!(plan.len(), 21);
        assert!(
            plan[0].message.text.contains("499.00"),
            "{}",
            plan[0].message.text
        );
        assert!(plan[20].message.subject.contains("480 more new services"));
        for a in &plan {
            // SNS takes 256 KB; half of it is the margin.
            assert!(a.message.sns_json().len() < 128 * 1024);
            assert_eq!(a.message.sns_problems(), Vec::<String>::new());
            assert!(a.key.len() <= 1024);
            assert!(a.alert_id.len() <= 512 && a.alert_id.bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn the_first_delivery_of_a_period_flags_no_new_service() {
        let s = summary(Status::Estimated, None, vec![total("1", "AmazonEC2", "6")]);
        assert!(plan_delivery(&delivery(&s, None, &[])).is_empty());
    }

    #[test]
    fn an_unreadable_report_alerts_once_per_version() {
        let a = report_failed(
            nov(),
            "bucket",
            "k/report.csv",
            "v1",
            "line 3: bad\u{1b}[31m",
        );
        let b = report_failed(nov(), "bucket", "k/report.csv", "v1", "line 3: bad");
        assert_eq!(a.key, b.key);
        assert_ne!(
            a.key,
            report_failed(nov(), "bucket", "k/report.csv", "v2", "x").key
        );
        assert_eq!(a.severity, Severity::Critical);
        assert!(!a.message.text.contains('\u{1b}'));
        assert_eq!(
            a.message.subject,
            "billwatch: could not read report report.csv"
        );
    }
}
