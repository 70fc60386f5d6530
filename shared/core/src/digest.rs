//! The daily digest of one budget (docs/anomalies.md, "Daily digest"): month to date against
//! the amount, the forecast, yesterday's spend and its change, the services that moved most
//! yesterday, and the anomalies found this month. Sent once per budget and day (its claim key
//! holds the date), on the stack's schedule, to budgets with `digest = true`.

use crate::alert::plan::Alert;
use crate::alert::sanitize::{bounded, report_text};
use crate::budget::span::Span;
use crate::budget::standing::{standing, Month};
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
    /// The answer to this anomaly among `feedback` (same series and day), if any.
    pub fn answer<'a>(
        &self,
        feedback: &'a [crate::anomaly::Feedback],
    ) -> Option<&'a crate::anomaly::Feedback> {
        feedback.iter().find(|f| {
            f.account == self.account
                && f.service == self.service
                && f.currency == self.currency
                && f.day.to_string() == self.day
        })
    }

    /// The same anomaly, its reason saying how it was answered, if it was (`feedback`).
    pub fn answered(mut self, feedback: &[crate::anomaly::Feedback]) -> Self {
        if let Some(f) = self.answer(feedback) {
            self.reason = format!(
                "{} [answered {}{}{}]",
                self.reason,
                f.verdict.name(),
                if f.verdict.silences() {
                    format!(", quiet until {}", f.until())
                } else {
                    String::new()
                },
                f.note
                    .as_deref()
                    .map(|n| format!(": {}", crate::alert::sanitize::report_text(n)))
                    .unwrap_or_default()
            );
        }
        self
    }

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
    /// The live figures of the months a budget summed in the pass needs (all payers' summed),
    /// the month of yesterday among them.
    pub months: &'a [crate::alert::plan::MonthFigures],
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
    if let Some(gauge) = b.watch().and_then(|w| w.gauge()) {
        let key = claim_key(&b.name, i.today);
        return crate::commitment::digest_line::gauge_digest(b, gauge, i.today, i.months, key);
    }
    let yesterday = i.today.pred_opt().unwrap_or(i.today);
    let period = Period::of_date(yesterday);
    let cur = &b.currency;
    let d = yesterday.day() as usize;
    let f = if b.summed_in_pass() {
        pass_figures(i, period, d)
    } else {
        scope_figures(i, period, d)
    };
    let (mtd, amount, moves) = (f.to_date, f.amount, f.moves);
    let (spent_yesterday, day_before) = (f.yesterday, f.day_before);
    let open: Vec<&OpenAnomaly> = i
        .anomalies
        .iter()
        .filter(|a| a.currency == *cur && b.scope.covers(&a.account, &a.service))
        .collect();
    let budget = report_text(&b.name);
    let subject = format!(
        "billwatch: {budget} daily digest {}: {} of {} {cur} ({}) {}",
        i.today,
        cents(mtd),
        cents(amount),
        percent(mtd, amount),
        f.to_date_words,
    );
    let what = match b.model_text() {
        t if t.is_empty() => b.scope.describe(),
        t => t,
    };
    let label = format!("{}:", upper_first(&f.to_date_words));
    let pad = " ".repeat(16usize.saturating_sub(label.chars().count()).max(1));
    let mut text = format!(
        "{budget} ({what}), {}\n\n  {label}{pad}{} {cur} of {} {cur} ({})\n",
        f.span_label,
        cents(mtd),
        cents(amount),
        percent(mtd, amount),
    );
    match f.forecast {
        Some(projected) => {
            let _ = writeln!(
                text,
                "  Forecast:       {} {cur} by {} ({})",
                cents(projected),
                f.last_day,
                percent(projected, amount)
            );
        }
        None => {
            if let Some(why) = &f.unanswered {
                let _ = writeln!(text, "  Not answered:   {why}");
            }
        }
    }
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
    let payload = json!({
        "date": i.today.to_string(), "currency": cur,
        "amount": amount.to_string(), "month_to_date": mtd.to_string(),
        "forecast": f.forecast.map(|v| v.to_string()),
        "span": f.span_label, "counts": b.model_text(), "error": f.unanswered,
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
    crate::alert::owed::digest_alert(
        b,
        period,
        key,
        format!("daily digest of {} for {}", b.name, i.today),
        &subject,
        text,
        payload,
    )
}

/// Whether a budget can have a digest: every budget but a plain tag budget (its spend comes from
/// tag totals, with no daily series; a tag in `[budget.filter]` has one).
pub fn supported(b: &Budget) -> bool {
    if let Some(w) = b.watch() {
        return w.gauge().is_some();
    }
    b.summed_in_pass() || !matches!(b.scope, Scope::Tag { .. })
}

/// What one digest reports.
struct DigestFigures {
    /// The spend of the span to date, and the amount it is held against.
    to_date: Decimal,
    amount: Decimal,
    /// `month to date`, `2026-Q4 to date`, …
    to_date_words: String,
    /// The month's label, or the span's.
    span_label: String,
    forecast: Option<Decimal>,
    last_day: NaiveDate,
    yesterday: Option<Decimal>,
    day_before: Option<Decimal>,
    moves: Vec<Move>,
    /// Why the reports cannot answer the budget, if they cannot.
    unanswered: Option<String>,
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A scope's digest, from the live totals (as every budget's was).
fn scope_figures(i: &DigestInput<'_>, period: Period, d: usize) -> DigestFigures {
    let b = i.budget;
    let in_scope: Vec<&Total> = i.totals.iter().filter(|t| b.covers(t)).collect();
    let fc = forecast(&in_scope, period, i.as_of, i.status);
    DigestFigures {
        to_date: in_scope.iter().map(|t| t.cost).sum(),
        amount: b.amount,
        to_date_words: "month to date".into(),
        span_label: period.label(),
        forecast: Some(fc.projected),
        last_day: period.last_day(),
        yesterday: on_day(&in_scope, d),
        day_before: if d > 1 {
            on_day(&in_scope, d - 1)
        } else {
            None
        },
        moves: movers(&in_scope, d),
        unanswered: None,
    }
}

/// The digest of a budget summed in the pass: where it stands in its span, from the months'
/// live figures, and yesterday from its own daily series. It is not kept per service: no movers.
fn pass_figures(i: &DigestInput<'_>, period: Period, d: usize) -> DigestFigures {
    let b = i.budget;
    let months: Vec<Month<'_>> = i
        .months
        .iter()
        .filter_map(|m| {
            let f = m.figures.iter().find(|f| f.name == b.name)?;
            Some(Month {
                period: m.period,
                figures: f,
                as_of: m.as_of.clone(),
                status: m.status,
            })
        })
        .collect();
    let current = months
        .iter()
        .find(|m| m.period == period)
        .and_then(|m| m.figures.spend_in(&b.currency).ok());
    let on = |day: usize| {
        current
            .as_ref()
            .and_then(|s| s.days.get(day.checked_sub(1)?).copied())
    };
    let standing = standing(b, &months);
    let (to_date, forecast, amount, unanswered, span) = match &standing {
        Some(s) => (
            s.spend.clone().unwrap_or_default(),
            s.forecast,
            s.amount.unwrap_or(b.amount),
            s.spend.clone().err(),
            Some(s.span),
        ),
        None => (
            Decimal::ZERO,
            None,
            b.amount,
            Some(format!(
                "no delivery of {period} holds this budget's figures yet"
            )),
            None,
        ),
    };
    let (words, label, last_day) = match span {
        Some(Span::Month(p)) => ("month to date".to_string(), p.label(), p.last_day()),
        Some(Span::Day(day)) => (format!("on {day}"), day.to_string(), day),
        Some(other) => (
            format!("{other} to date"),
            other.to_string(),
            other.last_day(),
        ),
        None => ("month to date".into(), period.label(), period.last_day()),
    };
    DigestFigures {
        to_date,
        amount,
        to_date_words: words,
        span_label: label,
        forecast,
        last_day,
        yesterday: on(d),
        day_before: if d > 1 { on(d - 1) } else { None },
        moves: Vec::new(),
        unanswered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;
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
            channels: Vec::new(),
            digest_every: Default::default(),
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
            months: &[],
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
    fn a_quarterly_team_budget_digest_stands_on_its_figures_of_every_month() {
        use crate::alert::plan::MonthFigures;
        use crate::budget::span::Cadence;
        use crate::budget::spec::{Figures, Spend};
        let mut b = budget(Scope::All);
        b.model.cadence = Cadence::Quarterly;
        b.model.filter = serde_json::from_str(r#"{"tags":{"team":["data"]}}"#).unwrap();
        let figures = |total: &str, days: Vec<Decimal>| {
            vec![Figures {
                name: "team-a".into(),
                answer: Ok(vec![Spend {
                    currency: "USD".into(),
                    total: d(total),
                    once: d(total) - days.iter().sum::<Decimal>(),
                    days,
                }]),
                notes: Vec::new(),
                gauge: None,
            }]
        };
        let mut nov = vec![Decimal::ZERO; 30];
        nov[8] = d("40");
        nov[9] = d("60");
        let months = [
            MonthFigures {
                period: "2026-10".parse().unwrap(),
                figures: figures("900", Vec::new()),
                as_of: None,
                status: Status::Final,
            },
            MonthFigures {
                period: "2026-11".parse().unwrap(),
                figures: figures("100", nov),
                as_of: Some("2026-11-11T00:00:00Z".into()),
                status: Status::Estimated,
            },
        ];
        assert!(supported(&b));
        let a = compose(&DigestInput {
            budget: &b,
            today: NaiveDate::from_ymd_opt(2026, 11, 11).unwrap(),
            totals: &[],
            as_of: Some("2026-11-11T00:00:00Z"),
            status: Status::Estimated,
            anomalies: &[],
            months: &months,
        });
        assert_eq!(
            a.message.subject,
            "billwatch: team-a daily digest 2026-11-11: 1,000.00 of 3,000.00 USD (33.3 %) 2026-Q4 to date"
        );
        let text = &a.message.text;
        assert!(
            text.starts_with("team-a (unblended cost, quarterly, filter tags"),
            "{text}"
        );
        assert!(text.contains("  2026-Q4 to date: 1,000.00 USD"), "{text}");
        assert!(text.contains("by 2026-12-31"), "{text}");
        assert!(
            text.contains("  Yesterday:      60.00 USD (2026-11-10), +20.00 USD"),
            "{text}"
        );
        assert_eq!(a.message.payload["span"], "2026-Q4");
        // A plain tag budget still has none; the same tag in a filter has one.
        let mut tag = budget(Scope::Tag {
            key: "team".into(),
            value: "data".into(),
        });
        assert!(!supported(&tag));
        tag.model.cadence = Cadence::Monthly;
        tag.scope = Scope::All;
        tag.model.filter = b.model.filter.clone();
        assert!(supported(&tag));
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
            months: &[],
        });
        assert!(a.message.text.contains("no daily data in the live report"));
        assert!(a.message.text.contains("No anomalies this month."));
        assert!(!supported(&budget(Scope::Tag {
            key: "team".into(),
            value: "a".into()
        })));
    }
}
