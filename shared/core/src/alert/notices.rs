//! Health notices a delivery can call for besides budgets: failed reconciliation checks,
//! services new to an account, a report that cannot be read. Each is keyed once per what it is
//! about (object version, account and service), bounded in size, its text sanitised.

use super::delivery::Delivery;
use super::owed::{Alert, AlertKind};
use super::render::{self, money, HealthCheck};
use super::sanitize::{bounded, id_text, report_text};
use crate::period::Period;
use std::collections::HashSet;
use std::fmt::Write;

/// Claim keys are DynamoDB sort keys: at most 1,024 bytes, with room to spare.
const MAX_CLAIM_KEY: usize = 900;
/// Alert ids travel in message attributes and JSON.
const MAX_ALERT_ID: usize = 512;
/// New services alerted one by one per delivery; more are listed in one summary alert.
const MAX_NEW_SERVICE_ALERTS: usize = 20;

pub(super) fn failed_checks(d: &Delivery<'_>) -> Option<Alert> {
    let failed: Vec<_> = d.summary.checks.iter().filter(|c| !c.ok).collect();
    if failed.is_empty() {
        return None;
    }
    let mut text = format!(
        "The report {} does not reconcile with its own totals:\n\n",
        report_text(d.report_key)
    );
    for c in &failed {
        let _ = writeln!(
            text,
            "  {}: the report says {}, its line items add up to {}",
            report_text(&c.name),
            c.expected,
            c.actual
        );
    }
    text += "\nbillwatch stored the line items' totals; check the report before trusting them.\n";
    let subject = format!(
        "{} report fails {} reconciliation check(s)",
        d.period,
        failed.len()
    );
    let key = format!("health#checks#{}#{}", d.report_key, d.object_version);
    Some(health_alert(
        d.period,
        key,
        HealthCheck::Checks,
        &subject,
        &text,
        d.report_key,
    ))
}

/// Services present now that the replaced delivery of the same period did not have in that
/// account. The first delivery of a period has no baseline, so it flags nothing.
pub(super) fn new_services(d: &Delivery<'_>) -> Vec<Alert> {
    let Some(previous) = d.previous else {
        return Vec::new();
    };
    let known: HashSet<(&str, &str)> = previous
        .lines
        .iter()
        .map(|t| (t.account.as_str(), t.service.as_str()))
        .collect();
    let mut seen = HashSet::new();
    let mut new: Vec<_> = d
        .summary
        .totals
        .iter()
        .filter(|t| !known.contains(&(t.account_id.as_str(), t.service.as_str())))
        .filter(|t| seen.insert((t.account_id.as_str(), t.service.as_str())))
        .collect();
    // The costliest first: they are the ones alerted one by one.
    new.sort_by(|a, b| {
        b.cost
            .cmp(&a.cost)
            .then_with(|| (&a.account_id, &a.service).cmp(&(&b.account_id, &b.service)))
    });
    let rest = new.split_off(new.len().min(MAX_NEW_SERVICE_ALERTS));
    let mut out: Vec<Alert> = new
        .into_iter()
        .map(|t| {
            let text = format!(
                "{} ({}) appears for the first time in account {} this period: {} {} so far.\n\nReport: {}\n",
                report_text(&t.service),
                report_text(&t.service_name),
                report_text(&t.account_id),
                money(t.cost),
                t.currency,
                report_text(d.report_key)
            );
            let subject = format!(
                "new service {} in account {}",
                report_text(&t.service),
                report_text(&t.account_id)
            );
            let key = format!("health#new-service#{}#{}", t.account_id, t.service);
            health_alert(d.period, key, HealthCheck::NewService, &subject, &text, d.report_key)
        })
        .collect();
    if !rest.is_empty() {
        let mut text = format!(
            "{} more services appear for the first time in an account this period:\n\n",
            rest.len()
        );
        for t in rest.iter().take(50) {
            let _ = writeln!(
                text,
                "  {} in account {}: {} {}",
                report_text(&t.service),
                report_text(&t.account_id),
                money(t.cost),
                t.currency
            );
        }
        if rest.len() > 50 {
            let _ = writeln!(text, "  … and {} more", rest.len() - 50);
        }
        let _ = write!(text, "\nReport: {}\n", report_text(d.report_key));
        let subject = format!("{} more new services in {}", rest.len(), d.period);
        let key = format!("health#new-services#{}#{}", d.report_key, d.object_version);
        out.push(health_alert(
            d.period,
            key,
            HealthCheck::NewService,
            &subject,
            &text,
            d.report_key,
        ));
    }
    out
}

/// Alerts listed one by one in an [`overflow`] message; the rest are counted.
const MAX_OVERFLOW_LINES: usize = 50;

/// One message for the alerts of a delivery that did not fit the transaction that makes the
/// delivery live (DynamoDB's TransactWriteItems takes 4 MB): each one's subject (the first
/// 50) and how many there are, so nobody misses that they happened. The
/// alerts themselves are not sent; their thresholds count as crossed from this delivery on.
pub fn overflow(period: Period, report_key: &str, object_version: &str, rest: &[Alert]) -> Alert {
    let mut text = format!(
        "This billing report delivery owed {} more alerts than one DynamoDB transaction can carry \
         with it. They are not sent one by one; here they are in one message:\n\n",
        rest.len()
    );
    for a in rest.iter().take(MAX_OVERFLOW_LINES) {
        let _ = writeln!(text, "  [{}] {}", a.severity.name(), a.message.subject);
    }
    if rest.len() > MAX_OVERFLOW_LINES {
        let _ = writeln!(text, "  … and {} more", rest.len() - MAX_OVERFLOW_LINES);
    }
    let _ = write!(
        text,
        "\n`billwatch totals` shows the period's spend.\nReport: {}\n",
        report_text(report_key)
    );
    let subject = format!("{} more alerts of one delivery in {period}", rest.len());
    let key = format!("health#overflow#{report_key}#{object_version}");
    health_alert(
        period,
        key,
        HealthCheck::Overflow,
        &subject,
        &text,
        report_key,
    )
}

/// A report that cannot be read: alerted once per object version.
pub fn report_failed(
    period: Period,
    bucket: &str,
    key: &str,
    object_version: &str,
    error: &str,
) -> Alert {
    let text = format!(
        "billwatch could not read a billing report, so its totals were NOT updated:\n\n  Object: s3://{}/{}\n  Error:  {}\n\nThe previous totals of the period are kept. Fix or re-deliver the report; billwatch\nreads it again when a new version arrives.\n",
        report_text(bucket),
        report_text(key),
        report_text(error)
    );
    let name = key.rsplit('/').next().unwrap_or_default();
    let subject = format!("could not read report {}", report_text(name));
    let claim = format!("health#failed#{key}#{object_version}");
    health_alert(
        period,
        claim,
        HealthCheck::ReportFailed,
        &subject,
        &text,
        key,
    )
}

/// A health alert about a report, keyed `health#…` in its period.
pub fn health_alert(
    period: Period,
    key: String,
    check: HealthCheck,
    subject: &str,
    text: &str,
    report_key: &str,
) -> Alert {
    let key = bounded(key, MAX_CLAIM_KEY);
    let alert_id = id_text(&format!("{period}:{key}"), MAX_ALERT_ID);
    let details = serde_json::json!({ "report_key": report_text(report_key) });
    Alert {
        report_key: Some(report_key.to_string()),
        ..health_notice(period, key, alert_id, check, subject, text, details)
    }
}

/// An alert of a health check (its reason the check's name, no report): the message rendered
/// from `subject`, `text` and the check's `details`.
pub(crate) fn health_notice(
    period: Period,
    key: String,
    alert_id: String,
    check: HealthCheck,
    subject: &str,
    text: &str,
    details: serde_json::Value,
) -> Alert {
    let message = render::health(&alert_id, check, subject, text, period, details);
    Alert {
        period,
        key,
        alert_id,
        kind: AlertKind::Health,
        budget: None,
        basis: None,
        severity: check.severity(),
        reason: check.as_str().into(),
        report_key: None,
        topic: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Severity;

    fn big(period: Period, i: usize) -> Alert {
        let text = format!("alert {i}: {}", "x".repeat(20_000));
        health_alert(
            period,
            format!("health#new-service#{i:012}#AmazonEC2"),
            HealthCheck::NewService,
            &format!("new service AmazonEC2 in account {i:012}"),
            &text,
            "cur/r/20261101-20261201/r-Manifest.json",
        )
    }

    #[test]
    fn an_overflow_message_lists_what_did_not_fit_within_sns_limits() {
        let period = Period::new(2026, 11).unwrap();
        let rest: Vec<Alert> = (0..2_000).map(|i| big(period, i)).collect();
        let a = overflow(
            period,
            "cur/r/20261101-20261201/r-Manifest.json",
            "v1",
            &rest,
        );
        assert_eq!(a.kind, AlertKind::Health);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(
            a.message.subject,
            "billwatch: 2000 more alerts of one delivery in 2026-11"
        );
        assert!(a
            .message
            .text
            .contains("new service AmazonEC2 in account 000000000049"));
        assert!(!a.message.text.contains("account 000000000050"));
        assert!(a.message.text.contains("and 1950 more"));
        assert_eq!(a.message.sns_problems(), Vec::<String>::new());
        assert!(a.message.text.len() < 16 * 1024, "{}", a.message.text.len());
        assert_eq!(
            a.key,
            overflow(
                period,
                "cur/r/20261101-20261201/r-Manifest.json",
                "v1",
                &rest[..3]
            )
            .key
        );
    }
}
