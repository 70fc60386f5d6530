//! The alert of one anomaly: what happened, against what, and where to look.

use super::detect::Finding;
use super::explain::{movers, Mover};
use super::feedback::{silenced_by, top_driver, Feedback};
use crate::alert::message::{Message, Severity};
use crate::alert::plan::{Alert, AlertKind};
use crate::alert::sanitize::{bounded, id_text, report_text, sanitize_subject, sanitize_text};
use crate::money_text::cents;
use crate::period::Period;
use crate::report::drivers::{DriverTable, Key};
use serde_json::json;
use std::fmt::Write;

/// The claim key: once per (account, service, currency, day), whatever delivery flags it.
pub fn claim_key(f: &Finding) -> String {
    claim_key_of(&f.account, &f.service, &f.currency, f.day)
}

/// [`claim_key`] from its parts (to look an alert up by the day it is about).
pub fn claim_key_of(
    account: &str,
    service: &str,
    currency: &str,
    day: chrono::NaiveDate,
) -> String {
    bounded(format!("anomaly#{account}#{service}#{currency}#{day}"), 900)
}

fn factor_text(f: &Finding) -> String {
    match f.factor {
        Some(x) => format!("{}×", x.normalize()),
        None => "up from nothing".into(),
    }
}

/// The (account, service, currency) keys the driver pass must watch for `findings`.
pub fn watch_keys(findings: &[Finding]) -> Vec<Key> {
    let mut keys: Vec<Key> = findings.iter().map(key_of).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn key_of(f: &Finding) -> Key {
    Key {
        account: f.account.clone(),
        service: f.service.clone(),
        currency: f.currency.clone(),
    }
}

/// One alert per finding, each with its movers from the driver pass's `table`, but for the
/// findings an answer silences (`feedback`: same series and driver, within its window), which
/// are returned apart with the answer.
pub fn explained(
    period: Period,
    findings: &[Finding],
    table: &DriverTable,
    report_key: &str,
    feedback: &[Feedback],
) -> (Vec<Alert>, Vec<(Finding, Feedback)>) {
    let mut alerts = Vec::new();
    let mut silenced = Vec::new();
    for f in findings {
        let movers = movers(table, &key_of(f), f.day);
        match silenced_by(feedback, f, top_driver(&movers)) {
            Some(answer) => silenced.push((f.clone(), answer.clone())),
            None => alerts.push(anomaly_alert(period, f, &movers, report_key)),
        }
    }
    (alerts, silenced)
}

/// The driver an anomaly alert's reason names (see [`anomaly_alert`]), if it names one.
pub fn driver_of_reason(reason: &str) -> Option<&str> {
    reason
        .rsplit_once("; driver ")
        .map(|(_, d)| d.trim())
        .filter(|d| !d.is_empty())
}

/// The alert for `f` in `period`, with the movers the driver pass found (may be empty).
pub fn anomaly_alert(period: Period, f: &Finding, movers: &[Mover], report_key: &str) -> Alert {
    let key = claim_key(f);
    let alert_id = id_text(&format!("{period}:{key}"), 512);
    let service = report_text(&f.service);
    let account = report_text(&f.account);
    // SNS subjects are ASCII, at most 100 characters: the figures first, names last.
    let times = match f.factor {
        Some(x) => format!("{}x usual", x.normalize()),
        None => "new spend".into(),
    };
    let subject = format!(
        "billwatch: spike {} {} on {} ({times}): {service} in {account}",
        cents(f.spend),
        f.currency,
        f.day,
    );
    let mut text = format!(
        "{service}{} in account {account} cost {} {cur} on {day}, {} its usual day.\n\n\
         \x20 That day:      {} {cur}\n\
         \x20 Usual day:     {} {cur} (median of the 14 days before it{})\n\
         \x20 Extra spend:   {} {cur}\n\
         \x20 Usual spread:  {} {cur} (1.4826 × median absolute deviation)\n",
        if f.service_name.is_empty() || f.service_name == f.service {
            String::new()
        } else {
            format!(" ({})", report_text(&f.service_name))
        },
        cents(f.spend),
        factor_text(f),
        cents(f.spend),
        cents(f.baseline),
        if f.history_days < 14 {
            format!(", {} of them with spend", f.history_days)
        } else {
            String::new()
        },
        cents(f.impact),
        cents(f.spread),
        cur = f.currency,
        day = f.day,
    );
    if movers.is_empty() {
        text += "\nNo usage type, operation or region breakdown is available for this day.\n";
    } else {
        text += "\nWhat moved (that day vs the mean of the days before it this month):\n";
        for m in movers {
            let _ = writeln!(
                text,
                "  {:<10} {}: {} {cur} (usually {}, +{})",
                m.dimension.label(),
                report_text(&m.value),
                cents(m.spend),
                cents(m.baseline),
                cents(m.change),
                cur = f.currency
            );
        }
    }
    let _ = write!(
        text,
        "\nWhere to look: Cost Explorer, account {account}, service {service}, {day}, grouped by usage type.\n\
         Expected or planned? `billwatch anomalies feedback {alert_id} expected` stops alerts on it for 14 days.\n\
         Too sensitive? Raise min_impact or sensitivity under [anomalies] in the budgets file.\n\
         \nReport: {}\nAlert id: {alert_id}\n",
        report_text(report_key),
        day = f.day,
    );
    let severity = Severity::Warning;
    let payload = json!({
        "type": "anomaly", "alert_id": alert_id, "severity": severity.name(), "period": period,
        "account_id": f.account, "service": f.service, "service_name": f.service_name,
        "currency": f.currency, "day": f.day.to_string(),
        "spend": f.spend.to_string(), "baseline": f.baseline.to_string(),
        "spread": f.spread.to_string(), "impact": f.impact.to_string(),
        "factor": f.factor.map(|x| x.to_string()), "history_days": f.history_days,
        "movers": movers, "report_key": report_key,
    });
    let message = Message {
        subject: sanitize_subject(&subject),
        text: sanitize_text(&text),
        payload,
        attributes: vec![
            ("kind", "anomaly".into()),
            ("period", period.to_string()),
            ("severity", severity.name().into()),
            ("alert_id", alert_id.clone()),
            ("account", f.account.clone()),
        ],
    };
    Alert {
        period,
        key,
        alert_id,
        kind: AlertKind::Anomaly,
        budget: None,
        basis: None,
        severity,
        reason: format!(
            "{} {} on {} in {}: {} {} vs usual {}{}",
            f.service,
            "spike",
            f.day,
            f.account,
            cents(f.spend),
            f.currency,
            cents(f.baseline),
            // The usage type that moved most: feedback on the alert silences that driver.
            top_driver(movers)
                .map(|d| format!("; driver {}", report_text(d)))
                .unwrap_or_default()
        ),
        report_key: Some(report_key.to_string()),
        topic: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::{detect, Series, Settings};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn series(values: &[i64]) -> Series {
        Series {
            account: "111111111111".into(),
            service: "AmazonEC2".into(),
            service_name: String::new(),
            currency: "USD".into(),
            first: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            days: values.iter().map(|&v| Decimal::from(v)).collect(),
        }
    }

    #[test]
    fn a_spike_restated_away_and_back_keeps_one_claim_key() {
        // Delivery A: 14 days at 100, day 15 at 600 → flagged, claim key K.
        let day15 = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        let mut v = vec![100; 14];
        v.push(600);
        let a = detect(&series(&v), day15, &Settings::default());
        assert_eq!(a.len(), 1);
        let k = claim_key(&a[0]);
        assert_eq!(k, "anomaly#111111111111#AmazonEC2#USD#2026-11-15");
        // Delivery B restates day 15 down to 105 → nothing flagged, nothing to send.
        v[14] = 105;
        assert!(detect(&series(&v), day15, &Settings::default()).is_empty());
        // Delivery C restates it back up to 650 → flagged again under the same key K, so the
        // claim taken for delivery A makes it a no-op: one alert in all.
        v[14] = 650;
        let c = detect(&series(&v), day15, &Settings::default());
        assert_eq!(c.len(), 1);
        assert_eq!(claim_key(&c[0]), k);
        assert_eq!(
            anomaly_alert("2026-11".parse().unwrap(), &c[0], &[], "r").alert_id,
            anomaly_alert("2026-11".parse().unwrap(), &a[0], &[], "r").alert_id
        );
    }

    #[test]
    fn the_subject_is_ascii_and_fits_sns() {
        let mut v = vec![100; 14];
        v.push(600);
        let day15 = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        let f = &detect(&series(&v), day15, &Settings::default())[0];
        let a = anomaly_alert("2026-11".parse().unwrap(), f, &[], "r");
        assert_eq!(
            a.message.subject,
            "billwatch: spike 600.00 USD on 2026-11-15 (6x usual): AmazonEC2 in 111111111111"
        );
        assert!(a
            .message
            .text
            .contains("No usage type, operation or region breakdown"));
        assert_eq!(a.kind.as_str(), "anomaly");
    }
}
