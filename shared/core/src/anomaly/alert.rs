//! The alert of one anomaly: what happened, against what, and where to look.

use super::detect::Finding;
use super::explain::Mover;
use crate::alert::message::{Message, Severity};
use crate::alert::plan::{Alert, AlertKind};
use crate::alert::sanitize::{bounded, id_text, report_text, sanitize_subject, sanitize_text};
use crate::money_text::cents;
use crate::period::Period;
use serde_json::json;
use std::fmt::Write;

/// The claim key: once per (account, service, currency, day), whatever delivery flags it.
pub fn claim_key(f: &Finding) -> String {
    bounded(
        format!(
            "anomaly#{}#{}#{}#{}",
            f.account, f.service, f.currency, f.day
        ),
        900,
    )
}

fn factor_text(f: &Finding) -> String {
    match f.factor {
        Some(x) => format!("{}×", x.normalize()),
        None => "up from nothing".into(),
    }
}

/// The alert for `f` in `period`, with the movers the driver pass found (may be empty).
pub fn anomaly_alert(period: Period, f: &Finding, movers: &[Mover], report_key: &str) -> Alert {
    let key = claim_key(f);
    let alert_id = id_text(&format!("{period}:{key}"), 512);
    let service = report_text(&f.service);
    let account = report_text(&f.account);
    let subject = format!(
        "billwatch: spend spike: {service} in {account} spent {} {} on {} ({} its usual {})",
        cents(f.spend),
        f.currency,
        f.day,
        factor_text(f),
        cents(f.baseline)
    );
    let mut text = format!(
        "{service}{} in account {account} cost {} {cur} on {day}, {} its usual day.\n\n\
         \x20 That day:      {} {cur}\n\
         \x20 Usual day:     {} {cur} (median of the {} days before it with spend, of the 14 before it)\n\
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
        f.history_days,
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
            "{} {} on {} in {}: {} {} vs usual {}",
            f.service,
            "spike",
            f.day,
            f.account,
            cents(f.spend),
            f.currency,
            cents(f.baseline)
        ),
        report_key: Some(report_key.to_string()),
        topic: None,
        message,
    }
}
