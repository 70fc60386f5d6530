//! The weekly digest of one budget (`digest = "weekly"`): the last complete ISO week (Monday to
//! Sunday) against the week before, the month to date against the budget and its forecast (as
//! the daily digest has them, as of the Sunday), the services and accounts that moved most from
//! one week to the next, and the week's anomalies. Sent once per budget and week (the claim key
//! holds the ISO week); a week across two billing months reads both months' live figures.

use crate::alert::plan::{Alert, MonthFigures};
use crate::alert::sanitize::{bounded, report_text};
use crate::budget::Budget;
use crate::digest::OpenAnomaly;
use crate::money_text::{cents, signed_cents};
use crate::period::Period;
use crate::report::{Status, Total};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Services and accounts listed as the week's movers.
pub const TOP_MOVERS: usize = 5;

/// The live figures of one billing month, as the weekly digest reads them.
#[derive(Debug, Clone, Copy)]
pub struct MonthTotals<'a> {
    pub period: Period,
    pub totals: &'a [Total],
}

/// What one budget's weekly digest is made of.
#[derive(Debug, Clone)]
pub struct WeeklyInput<'a> {
    pub budget: &'a Budget,
    /// A day of the week after the reported one (the digest's date, UTC).
    pub today: NaiveDate,
    /// The live totals of every month the two weeks touch.
    pub months: &'a [MonthTotals<'a>],
    /// The live figures of those months (every payer's summed), for a budget summed in the pass.
    pub figures: &'a [MonthFigures],
    pub as_of: Option<&'a str>,
    pub status: Status,
    pub anomalies: &'a [OpenAnomaly],
}

/// The reported week: its Monday and Sunday, the complete ISO week before `today`'s.
pub fn week_of(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7);
    (monday, monday + Duration::days(6))
}

/// The claim key: once per budget and ISO week (`2026-W49`).
pub fn claim_key(budget: &str, monday: NaiveDate) -> String {
    let w = monday.iso_week();
    bounded(
        format!("weekly#{budget}#{}-W{:02}", w.year(), w.week()),
        900,
    )
}

/// One day's spend of one (account, service).
type Split = Vec<((String, String), Decimal)>;

/// A budget's spend on one day, and per (account, service) where it is known (a budget summed
/// in the pass keeps no split: none).
fn day_spend(i: &WeeklyInput<'_>, day: NaiveDate) -> (Decimal, Split) {
    let b = i.budget;
    let period = Period::of_date(day);
    let d = day.day() as usize;
    if b.summed_in_pass() {
        let v = i
            .figures
            .iter()
            .find(|m| m.period == period)
            .and_then(|m| m.figures.iter().find(|f| f.name == b.name))
            .and_then(|f| f.spend_in(&b.currency).ok())
            .and_then(|s| s.days.get(d - 1).copied())
            .unwrap_or_default();
        return (v, Vec::new());
    }
    let Some(month) = i.months.iter().find(|m| m.period == period) else {
        return (Decimal::ZERO, Vec::new());
    };
    let mut sum = Decimal::ZERO;
    let mut split = Vec::new();
    for t in month.totals.iter().filter(|t| b.covers(t)) {
        let v = t
            .daily_usage
            .as_ref()
            .and_then(|s| s.get(d - 1))
            .copied()
            .unwrap_or_default();
        if !v.is_zero() {
            sum += v;
            split.push(((t.account_id.clone(), t.service.clone()), v));
        }
    }
    (sum, split)
}

/// One line's move from the week before to the week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekMove {
    pub name: String,
    pub week: Decimal,
    pub before: Decimal,
}

impl WeekMove {
    pub fn change(&self) -> Decimal {
        self.week - self.before
    }
}

fn top(map: BTreeMap<String, (Decimal, Decimal)>) -> Vec<WeekMove> {
    let mut v: Vec<WeekMove> = map
        .into_iter()
        .map(|(name, (week, before))| WeekMove { name, week, before })
        .filter(|m| !m.change().is_zero())
        .collect();
    v.sort_by(|a, b| {
        b.change()
            .abs()
            .cmp(&a.change().abs())
            .then_with(|| a.name.cmp(&b.name))
    });
    v.truncate(TOP_MOVERS);
    v
}

/// The two weeks' sums and what moved between them.
struct Weeks {
    week: Decimal,
    before: Decimal,
    services: Vec<WeekMove>,
    accounts: Vec<WeekMove>,
}

/// The week of `monday` and the one before it, summed, and its top movers.
fn weeks(i: &WeeklyInput<'_>, monday: NaiveDate) -> Weeks {
    let (mut week, mut before) = (Decimal::ZERO, Decimal::ZERO);
    let mut services: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let mut accounts: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for offset in 0..14 {
        let day = monday - Duration::days(7) + Duration::days(offset);
        let this_week = offset >= 7;
        let (sum, split) = day_spend(i, day);
        if this_week {
            week += sum;
        } else {
            before += sum;
        }
        for ((account, service), v) in split {
            for (map, key) in [(&mut services, service), (&mut accounts, account)] {
                let e = map.entry(key).or_default();
                if this_week {
                    e.0 += v;
                } else {
                    e.1 += v;
                }
            }
        }
    }
    Weeks {
        week,
        before,
        services: top(services),
        accounts: top(accounts),
    }
}

/// The weekly digest of one budget.
pub fn compose_weekly(i: &WeeklyInput<'_>) -> Alert {
    let b = i.budget;
    let cur = &b.currency;
    let (monday, sunday) = week_of(i.today);
    let Weeks {
        week,
        before,
        services,
        accounts,
    } = weeks(i, monday);
    // The month to date against the budget, as the daily digest reads it on the Monday.
    let daily = crate::digest::compose(&crate::digest::DigestInput {
        budget: b,
        today: sunday + Duration::days(1),
        totals: i
            .months
            .iter()
            .find(|m| m.period == Period::of_date(sunday))
            .map_or(&[][..], |m| m.totals),
        as_of: i.as_of,
        status: i.status,
        anomalies: &[],
        months: i.figures,
    });
    let daily_payload = &daily.message.payload;
    let anomalies: Vec<&OpenAnomaly> = i
        .anomalies
        .iter()
        .filter(|a| a.currency == *cur && b.scope.covers(&a.account, &a.service))
        .filter(|a| {
            NaiveDate::parse_from_str(&a.day, "%Y-%m-%d").is_ok_and(|d| d >= monday && d <= sunday)
        })
        .collect();
    let budget = report_text(&b.name);
    let iso = monday.iso_week();
    let week_label = format!("{}-W{:02}", iso.year(), iso.week());
    let change = week - before;
    let pct = |part: Decimal, whole: Decimal| {
        if whole.is_zero() {
            "-".to_string()
        } else {
            format!("{} %", (part * Decimal::ONE_HUNDRED / whole).round_dp(1))
        }
    };
    let subject = format!(
        "billwatch: {budget} weekly digest {week_label}: {} {cur} ({} against the week before)",
        cents(week),
        signed_pct(change, before)
    );
    let mut text = format!(
        "{budget}, week {week_label} ({monday} to {sunday})\n\n  This week:      {} {cur}\n  Week before:    {} {cur} ({} {cur}, {})\n",
        cents(week),
        cents(before),
        signed_cents(change),
        signed_pct(change, before)
    );
    let text_of = |k: &str| daily_payload[k].as_str().map(str::to_string);
    if let (Some(mtd), Some(amount)) = (text_of("month_to_date"), text_of("amount")) {
        let (mtd, amount) = (
            mtd.parse::<Decimal>().unwrap_or_default(),
            amount.parse::<Decimal>().unwrap_or_default(),
        );
        let _ = writeln!(
            text,
            "  {}: {} {cur} of {} {cur} ({})",
            text_of("span").unwrap_or_else(|| Period::of_date(sunday).label()),
            cents(mtd),
            cents(amount),
            pct(mtd, amount)
        );
        if let Some(f) = text_of("forecast").and_then(|f| f.parse::<Decimal>().ok()) {
            let _ = writeln!(
                text,
                "  Forecast:       {} {cur} ({})",
                cents(f),
                pct(f, amount)
            );
        }
    }
    if let Some(why) = text_of("error") {
        let _ = writeln!(text, "  Not answered:   {why}");
    }
    for (title, list) in [("Services", &services), ("Accounts", &accounts)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            text,
            "\n{title} that moved most (this week against the week before):"
        );
        for m in list {
            let _ = writeln!(
                text,
                "  {}: {} {cur} ({} {cur}; {} the week before)",
                report_text(&m.name),
                cents(m.week),
                signed_cents(m.change()),
                cents(m.before)
            );
        }
    }
    if anomalies.is_empty() {
        text += "\nNo anomalies this week.\n";
    } else {
        let _ = writeln!(text, "\nAnomalies this week ({}):", anomalies.len());
        for a in &anomalies {
            let _ = writeln!(text, "  {}: {}", a.day, report_text(&a.reason));
        }
    }
    let period = Period::of_date(sunday);
    let key = claim_key(&b.name, monday);
    let moves = |list: &[WeekMove]| {
        list.iter()
            .map(|m| json!({"name": m.name, "week": m.week.to_string(), "before": m.before.to_string(), "change": m.change().to_string()}))
            .collect::<Vec<_>>()
    };
    let payload = json!({
        "every": "weekly", "week": week_label,
        "from": monday.to_string(), "to": sunday.to_string(), "currency": cur,
        "week_spend": week.to_string(), "week_before": before.to_string(),
        "month_to_date": daily_payload["month_to_date"], "amount": daily_payload["amount"],
        "forecast": daily_payload["forecast"], "span": daily_payload["span"],
        "services": moves(&services), "accounts": moves(&accounts),
        "anomalies": anomalies.iter().map(|a| json!({"account_id": a.account, "service": a.service, "day": a.day, "reason": a.reason})).collect::<Vec<_>>(),
    });
    crate::alert::owed::digest_alert(
        b,
        period,
        key,
        format!("weekly digest of {} for {week_label}", b.name),
        &subject,
        text,
        payload,
    )
}

/// `+12.5 %`, `-3.0 %`, or `new` when the week before had nothing.
fn signed_pct(change: Decimal, before: Decimal) -> String {
    if before.is_zero() {
        return if change.is_zero() {
            "no change".into()
        } else {
            "new".into()
        };
    }
    let p = (change * Decimal::ONE_HUNDRED / before).round_dp(1);
    if p > Decimal::ZERO {
        format!("+{p} %")
    } else {
        format!("{p} %")
    }
}

#[cfg(test)]
#[path = "weekly_digest_tests.rs"]
mod tests;
