//! The daily digest of one budget (docs/anomalies.md, "Daily digest"): month to date against
//! the amount, the forecast, yesterday's spend and its change, the services that moved most
//! yesterday, and the anomalies found this month. Sent once per budget and day (its claim key
//! holds the date), on the stack's schedule, to budgets with `digest = true`.

use crate::alert::message::{Message, Severity};
use crate::alert::plan::{Alert, AlertKind};
use crate::alert::sanitize::{bounded, id_text, report_text, sanitize_subject, sanitize_text};
use crate::budget::{Budget, Scope};
use crate::forecast::forecast;
use crate::money_text::{cents, signed_cents};
use crate::period::Period;
use crate::report::{Status, Total};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::json;
use std::fmt::Write;

/// Services listed as yesterday's movers.
pub const TOP_MOVERS: usize = 5;
/// Days before yesterday whose mean a mover is compared with.
pub const MOVER_DAYS: usize = 7;

/// An anomaly alerted this period, as the digest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAnomaly {
    pub account: String,
    pub service: String,
    pub currency: String,
    pub day: String,
    /// The alert's one-line reason.
    pub reason: String,
}

impl OpenAnomaly {
    /// From an anomaly claim key (`anomaly#account#service#currency#day`) and its reason.
    pub fn from_key(key: &str, reason: &str) -> Option<Self> {
        let mut p = key.split('#');
        (p.next()? == "anomaly").then_some(())?;
        Some(OpenAnomaly {
            account: p.next()?.into(),
            service: p.next()?.into(),
            currency: p.next()?.into(),
            day: p.next()?.into(),
            reason: reason.into(),
        })
    }
}

/// What one budget's digest is made of.
#[derive(Debug, Clone)]
pub struct DigestInput<'a> {
    pub budget: &'a Budget,
    /// The digest's date (UTC); "yesterday" is the day before.
    pub today: NaiveDate,
    /// The live totals of the period holding yesterday, with their daily series.
    pub totals: &'a [Total],
    pub as_of: Option<&'a str>,
    pub status: Status,
    pub anomalies: &'a [OpenAnomaly],
}

/// One service's move yesterday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub account: String,
    pub service: String,
    pub yesterday: Decimal,
    /// Mean of up to [`MOVER_DAYS`] days before yesterday in the month.
    pub usual: Decimal,
    pub change: Decimal,
}

/// The spend of `totals` on day `d` (1-based) of the month, None when no total has a series.
fn on_day(totals: &[&Total], d: usize) -> Option<Decimal> {
    let mut any = false;
    let mut sum = Decimal::ZERO;
    for t in totals {
        if let Some(v) = t
            .daily_usage
            .as_ref()
            .and_then(|s| s.get(d.checked_sub(1)?))
        {
            any = true;
            sum += *v;
        }
    }
    any.then_some(sum)
}

/// The services whose spend yesterday (day `d`) moved most from their usual day, largest
/// move (up or down) first.
pub fn movers(totals: &[&Total], d: usize) -> Vec<Move> {
    let first = d.saturating_sub(MOVER_DAYS).max(1);
    let mut out: Vec<Move> = totals
        .iter()
        .filter_map(|t| {
            let s = t.daily_usage.as_ref()?;
            let yesterday = *s.get(d.checked_sub(1)?)?;
            let before = &s[first - 1..d - 1];
            let usual = if before.is_empty() {
                Decimal::ZERO
            } else {
                (before.iter().sum::<Decimal>() / Decimal::from(before.len())).round_dp(2)
            };
            let change = yesterday - usual;
            (!change.is_zero()).then(|| Move {
                account: t.account_id.clone(),
                service: t.service.clone(),
                yesterday,
                usual,
                change,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.change
            .abs()
            .cmp(&a.change.abs())
            .then_with(|| (&a.account, &a.service).cmp(&(&b.account, &b.service)))
    });
    out.truncate(TOP_MOVERS);
    out
}

fn percent(part: Decimal, whole: Decimal) -> String {
    if whole.is_zero() {
        return "-".into();
    }
    format!("{} %", (part * Decimal::ONE_HUNDRED / whole).round_dp(1))
}

/// The claim key: once per budget and day.
pub fn claim_key(budget: &str, today: NaiveDate) -> String {
    bounded(format!("digest#{budget}#{today}"), 900)
}

/// The digest of one budget.
pub fn compose(i: &DigestInput<'_>) -> Alert {
    let b = i.budget;
    let yesterday = i.today.pred_opt().unwrap_or(i.today);
    let period = Period::of_date(yesterday);
    let cur = &b.currency;
    let in_scope: Vec<&Total> = i.totals.iter().filter(|t| b.covers(t)).collect();
    let mtd: Decimal = in_scope.iter().map(|t| t.cost).sum();
    let fc = forecast(&in_scope, period, i.as_of, i.status);
    let d = yesterday.day() as usize;
    let spent_yesterday = on_day(&in_scope, d);
    let day_before = if d > 1 {
        on_day(&in_scope, d - 1)
    } else {
        None
    };
    let moves = movers(&in_scope, d);
    let open: Vec<&OpenAnomaly> = i
        .anomalies
        .iter()
        .filter(|a| a.currency == *cur && b.scope.covers(&a.account, &a.service))
        .collect();
    let budget = report_text(&b.name);
    let subject = format!(
        "billwatch: {budget} daily digest {}: {} of {} {cur} ({}) month to date",
        i.today,
        cents(mtd),
        cents(b.amount),
        percent(mtd, b.amount)
    );
    let mut text = format!(
        "{budget} ({}), {}\n\n  Month to date:  {} {cur} of {} {cur} ({})\n  Forecast:       {} {cur} by {} ({})\n",
        b.scope.describe(),
        period.label(),
        cents(mtd),
        cents(b.amount),
        percent(mtd, b.amount),
        cents(fc.projected),
        period.last_day(),
        percent(fc.projected, b.amount),
    );
    match spent_yesterday {
        Some(y) => {
            let _ = write!(text, "  Yesterday:      {} {cur} ({yesterday})", cents(y));
            if let Some(before) = day_before {
                let _ = write!(
                    text,
                    ", {} {cur} against the day before ({})",
                    signed_cents(y - before),
                    cents(before)
                );
            }
            text.push('\n');
        }
        None => text += "  Yesterday:      no daily data in the live report (legacy and DBR reports are monthly)\n",
    }
    if !moves.is_empty() {
        let _ = writeln!(
            text,
            "\nWhat moved yesterday (against its mean of the {MOVER_DAYS} days before):"
        );
        for m in &moves {
            let _ = writeln!(
                text,
                "  {} in {}: {} {cur} ({} {cur}, usually {})",
                report_text(&m.service),
                report_text(&m.account),
                cents(m.yesterday),
                signed_cents(m.change),
                cents(m.usual)
            );
        }
    }
    if open.is_empty() {
        text += "\nNo anomalies this month.\n";
    } else {
        let _ = writeln!(text, "\nAnomalies this month ({}):", open.len());
        for a in &open {
            let _ = writeln!(text, "  {}: {}", a.day, report_text(&a.reason));
        }
    }
    if i.status == Status::Final {
        text += "\nThe month's report is final.\n";
    }
    let key = claim_key(&b.name, i.today);
    let alert_id = id_text(&format!("{period}:{key}"), 512);
    let _ = write!(text, "\nAlert id: {alert_id}\n");
    let severity = Severity::Info;
    let payload = json!({
        "type": "digest", "alert_id": alert_id, "severity": severity.name(), "period": period,
        "budget": b.name, "date": i.today.to_string(), "currency": cur,
        "amount": b.amount.to_string(), "month_to_date": mtd.to_string(),
        "forecast": fc.projected.to_string(),
        "yesterday": spent_yesterday.map(|v| v.to_string()),
        "day_before": day_before.map(|v| v.to_string()),
        "movers": moves.iter().map(|m| json!({
            "account_id": m.account, "service": m.service, "yesterday": m.yesterday.to_string(),
            "usual": m.usual.to_string(), "change": m.change.to_string(),
        })).collect::<Vec<_>>(),
        "anomalies": open.iter().map(|a| json!({
            "account_id": a.account, "service": a.service, "day": a.day, "reason": a.reason,
        })).collect::<Vec<_>>(),
    });
    Alert {
        period,
        key,
        alert_id: alert_id.clone(),
        kind: AlertKind::Digest,
        budget: Some(b.name.clone()),
        basis: None,
        severity,
        reason: format!("daily digest of {} for {}", b.name, i.today),
        report_key: None,
        topic: b.topic_arn.clone(),
        message: Message {
            subject: sanitize_subject(&subject),
            text: sanitize_text(&text),
            payload,
            attributes: vec![
                ("kind", "digest".into()),
                ("period", period.to_string()),
                ("severity", severity.name().into()),
                ("alert_id", alert_id),
                ("budget", b.name.clone()),
            ],
        },
    }
}

/// Whether a budget can have a digest: every scope but a tag (tag spend has no daily series).
pub fn supported(b: &Budget) -> bool {
    !matches!(b.scope, Scope::Tag { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Threshold;
    use crate::report::summary::Breakdown;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn total(account: &str, service: &str, days: &[i64]) -> Total {
        let mut series: Vec<Decimal> = days.iter().map(|&v| Decimal::from(v)).collect();
        series.resize(30, Decimal::ZERO);
        Total {
            account_id: account.into(),
            service: service.into(),
            service_name: String::new(),
            currency: "USD".into(),
            cost: series.iter().sum(),
            breakdown: Breakdown::default(),
            daily_usage: Some(series),
        }
    }

    fn budget(scope: Scope) -> Budget {
        Budget {
            name: "team-a".into(),
            scope,
            amount: d("3000"),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("80"))],
            escalation_step: None,
            topic_arn: None,
            digest: true,
            model: Default::default(),
        }
    }

    #[test]
    fn a_digest_says_month_to_date_forecast_yesterday_movers_and_anomalies() {
        // Nov 1–10: EC2 100 a day, then 250 on the 10th; S3 10 a day. Today is Nov 11.
        let mut ec2 = vec![100; 9];
        ec2.push(250);
        let totals = vec![
            total("111111111111", "AmazonEC2", &ec2),
            total("111111111111", "AmazonS3", &[10; 10]),
            total("222222222222", "AmazonEC2", &[1000; 10]),
        ];
        let anomalies = vec![
            OpenAnomaly::from_key("anomaly#111111111111#AmazonEC2#USD#2026-11-10", "EC2 spike")
                .unwrap(),
            OpenAnomaly::from_key("anomaly#222222222222#AmazonEC2#USD#2026-11-09", "other")
                .unwrap(),
        ];
        let b = budget(Scope::Account("111111111111".into()));
        let a = compose(&DigestInput {
            budget: &b,
            today: NaiveDate::from_ymd_opt(2026, 11, 11).unwrap(),
            totals: &totals,
            as_of: Some("2026-11-11T00:00:00Z"),
            status: Status::Estimated,
            anomalies: &anomalies,
        });
        assert_eq!(a.key, "digest#team-a#2026-11-11");
        assert_eq!(a.kind, AlertKind::Digest);
        assert_eq!(
            a.message.subject,
            "billwatch: team-a daily digest 2026-11-11: 1,250.00 of 3,000.00 USD (41.7 %) month to date"
        );
        let t = &a.message.text;
        assert!(
            t.contains("Month to date:  1,250.00 USD of 3,000.00 USD (41.7 %)"),
            "{t}"
        );
        // Run rate of the last 7 days (6 × 110 + 260) / 7 = 131.43 × 20 days left + 1,250.
        assert!(
            t.contains("Forecast:       3,878.57 USD by 2026-11-30"),
            "{t}"
        );
        assert!(t.contains("Yesterday:      260.00 USD (2026-11-10), +150.00 USD against the day before (110.00)"), "{t}");
        assert!(
            t.contains("AmazonEC2 in 111111111111: 250.00 USD (+150.00 USD, usually 100.00)"),
            "{t}"
        );
        assert!(!t.contains("AmazonS3 in"), "steady S3 is not a mover: {t}");
        assert!(
            t.contains("Anomalies this month (1):\n  2026-11-10: EC2 spike"),
            "{t}"
        );
        assert!(!t.contains("other"), "{t}");
        assert_eq!(a.message.payload["yesterday"], "260");
    }

    #[test]
    fn a_report_without_days_says_so_and_tag_budgets_have_no_digest() {
        let mut t = total("111111111111", "AmazonEC2", &[100; 3]);
        t.daily_usage = None;
        let b = budget(Scope::All);
        let a = compose(&DigestInput {
            budget: &b,
            today: NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
            totals: &[t],
            as_of: None,
            status: Status::Estimated,
            anomalies: &[],
        });
        assert!(a.message.text.contains("no daily data in the live report"));
        assert!(a.message.text.contains("No anomalies this month."));
        assert!(!supported(&budget(Scope::Tag {
            key: "team".into(),
            value: "a".into()
        })));
    }
}
