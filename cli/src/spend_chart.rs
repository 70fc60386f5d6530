//! The charts of `totals --chart` (the month to date, day by day, against a straight budget
//! line) and `history --chart` (a bar per month against the budget's amount).

use crate::chart::{render, Row};
use billwatch_aws::store::StoredTotal;
use billwatch_core::budget::Budget;
use billwatch_core::money_text::cents;
use billwatch_core::period::Period;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The month to date of `totals` (per currency), cumulative day by day from the daily series.
/// With a budget: only the totals it covers, in its currency, and the line `amount × d / days`.
pub fn month_to_date(totals: &[StoredTotal], period: Period, budget: Option<&Budget>) -> String {
    let days = period.days() as usize;
    let mut by_currency: BTreeMap<&str, (Vec<Decimal>, Decimal, bool)> = BTreeMap::new();
    for t in totals {
        if budget.is_some_and(|b| !b.covers_line(&t.account, &t.service, &t.currency)) {
            continue;
        }
        let entry = by_currency
            .entry(&t.currency)
            .or_insert_with(|| (vec![Decimal::ZERO; days], Decimal::ZERO, true));
        entry.1 += t.cost;
        match &t.daily {
            Some(series) => {
                for (sum, v) in entry.0.iter_mut().zip(series) {
                    *sum += *v;
                }
            }
            None => entry.2 = false,
        }
    }
    let mut out = String::new();
    if by_currency.is_empty() {
        let _ = writeln!(
            out,
            "no spend in {period}{}",
            match budget {
                Some(b) => format!(
                    " in the scope of budget {} ({})",
                    b.name,
                    b.scope.describe()
                ),
                None => String::new(),
            }
        );
        return out;
    }
    for (currency, (daily, cost, has_days)) in by_currency {
        let _ = writeln!(
            out,
            "{period}, {currency}: {} this period{}",
            cents(cost),
            match budget {
                Some(b) => format!(
                    ", budget {} of {} {} ({})",
                    b.name,
                    cents(b.amount),
                    b.currency,
                    b.scope.describe()
                ),
                None => String::new(),
            }
        );
        if !has_days {
            out += "  (the live report has no daily data: legacy and DBR reports are monthly)\n";
            continue;
        }
        out += &render(&cumulative(period, &daily, budget.map(|b| b.amount)));
        if budget.is_some() {
            out += "  ┃ the budget spread evenly over the month\n";
        }
    }
    out
}

/// A budget summed in the pass, on its own figures of `period` (None: no live delivery holds
/// them): its spend in the month, day by day (cumulative), against its amount pro rata when it is
/// a monthly amount, and what it counts.
pub fn budget_to_date(
    figures: Option<&billwatch_core::budget::spec::Figures>,
    period: Period,
    b: &Budget,
) -> String {
    let head = format!("budget {} ({})", b.name, b.model_text());
    let Some(f) = figures else {
        return format!("no live delivery of {period} holds the figures of {head}\n");
    };
    let spend = match f.spend_in(&b.currency) {
        Ok(s) => s,
        Err(why) => return format!("{period}: {head} cannot be answered: {why}\n"),
    };
    let monthly =
        b.model.cadence == billwatch_core::budget::span::Cadence::Monthly && b.model.auto.is_none();
    let mut out = format!(
        "{period}, {}: {} this period, {head}{}\n",
        b.currency,
        cents(spend.total),
        if monthly {
            format!(", {} {} a month", cents(b.amount), b.currency)
        } else {
            String::new()
        }
    );
    if spend.days.is_empty() {
        out += "  (the live report has no daily data)\n";
        return out;
    }
    out += &render(&cumulative(
        period,
        &spend.days,
        monthly.then_some(b.amount),
    ));
    if !spend.once.is_zero() {
        out += &format!(
            "  + {} {} on no single day (fees, month-long lines)\n",
            cents(spend.once),
            b.currency
        );
    }
    if monthly {
        out += "  ┃ the budget spread evenly over the month\n";
    } else {
        out += &format!(
            "  (a {} budget: where it stands in its span: `billwatch budgets status` or its alerts)\n",
            b.model.cadence.name()
        );
    }
    out
}

/// A row per day of `period` up to the last day with spend: the spend to date, and `amount`
/// spread evenly over the month to that day, when given.
fn cumulative(period: Period, daily: &[Decimal], amount: Option<Decimal>) -> Vec<Row> {
    let days = period.days() as usize;
    let last = daily.iter().rposition(|v| !v.is_zero()).unwrap_or(0);
    let mut running = Decimal::ZERO;
    daily[..=last]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            running += *v;
            Row {
                label: (period.start().date_naive() + chrono::Days::new(i as u64)).to_string(),
                value: running,
                budget: amount
                    .map(|a| (a * Decimal::from(i + 1) / Decimal::from(days)).round_dp(2)),
                note: String::new(),
            }
        })
        .collect()
}

/// A bar per month of one account and service, the budget's amount marked on each.
pub fn months(
    account: &str,
    service: &str,
    live: &[StoredTotal],
    budget: Option<&Budget>,
) -> String {
    let several = live
        .iter()
        .any(|t| live.first().is_some_and(|f| f.currency != t.currency));
    let rows: Vec<Row> = live
        .iter()
        .map(|t| Row {
            label: if several {
                format!("{} {}", t.period, t.currency)
            } else {
                t.period.to_string()
            },
            value: t.cost,
            budget: budget
                .filter(|b| b.currency == t.currency)
                .map(|b| b.amount),
            note: if t.status.name() == "final" {
                String::new()
            } else {
                t.status.name().to_string()
            },
        })
        .collect();
    let mut out = format!(
        "{account} {service}{}\n",
        match (budget, live.first()) {
            (Some(b), Some(t)) if !several => format!(
                " ({}; ┃ budget {} of {} {})",
                t.currency,
                b.name,
                cents(b.amount),
                b.currency
            ),
            (_, Some(t)) if !several => format!(" ({})", t.currency),
            _ => String::new(),
        }
    );
    out += &render(&rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::budget::{Scope, Threshold};
    use billwatch_core::report::Status;

    fn total(
        account: &str,
        service: &str,
        period: &str,
        cost: i64,
        daily: Option<&[i64]>,
    ) -> StoredTotal {
        let period: Period = period.parse().unwrap();
        StoredTotal {
            payer: "p".into(),
            period,
            version: "v".into(),
            account: account.into(),
            service: service.into(),
            service_name: String::new(),
            currency: "USD".into(),
            cost: Decimal::from(cost),
            breakdown: vec![],
            daily: daily.map(|d| {
                let mut s: Vec<Decimal> = d.iter().map(|&v| Decimal::from(v)).collect();
                s.resize(period.days() as usize, Decimal::ZERO);
                s
            }),
            status: Status::Estimated,
            as_of: None,
            report_key: "k".into(),
            stored_at: "t".into(),
        }
    }

    fn budget(amount: i64) -> Budget {
        Budget {
            name: "team".into(),
            scope: Scope::Account("111111111111".into()),
            amount: Decimal::from(amount),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(Decimal::from(80))],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        }
    }

    #[test]
    fn month_to_date_climbs_day_by_day_against_the_budget_line() {
        // November (30 days), budget 300: the line is 10 a day. Account 111111111111 spends
        // 11, 6 and 21 (cumulative 11, 17, 38): over the line on days 1 and 3, under on day 2.
        let totals = [
            total(
                "111111111111",
                "AmazonEC2",
                "2026-11",
                45,
                Some(&[10, 5, 20]),
            ),
            total("111111111111", "AmazonS3", "2026-11", 3, Some(&[1, 1, 1])),
            total(
                "222222222222",
                "AmazonEC2",
                "2026-11",
                900,
                Some(&[300, 300, 300]),
            ),
        ];
        let text = month_to_date(&totals, "2026-11".parse().unwrap(), Some(&budget(300)));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "2026-11, USD: 48.00 this period, budget team of 300.00 USD (account 111111111111)"
        );
        let over = |l: &str| l.ends_with("over budget");
        assert!(
            lines[1].starts_with("  2026-11-01  11.00  ") && over(lines[1]),
            "{text}"
        );
        assert!(
            lines[2].starts_with("  2026-11-02  17.00  ") && lines[2].ends_with('┃'),
            "{text}"
        );
        assert!(
            lines[3].starts_with("  2026-11-03  38.00  ") && over(lines[3]),
            "{text}"
        );
        assert_eq!(lines.len(), 5, "three days and the legend: {text}");
        // Without a budget every account counts.
        let all = month_to_date(&totals, "2026-11".parse().unwrap(), None);
        assert!(
            all.starts_with("2026-11, USD: 948.00 this period\n"),
            "{all}"
        );
    }

    #[test]
    fn a_budget_summed_in_the_pass_is_charted_on_its_own_figures() {
        use billwatch_core::budget::spec::{Figures, Spend};
        let mut b = budget(300);
        b.model.measure.cost = billwatch_core::budget::cost::CostType::Amortized;
        let mut days = vec![Decimal::ZERO; 30];
        days[0] = Decimal::from(10);
        days[1] = Decimal::from(20);
        let f = Figures {
            name: "team".into(),
            answer: Ok(vec![Spend {
                currency: "USD".into(),
                total: Decimal::from(35),
                once: Decimal::from(5),
                days,
            }]),
            notes: Vec::new(),
            gauge: None,
        };
        let text = budget_to_date(Some(&f), "2026-11".parse().unwrap(), &b);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "2026-11, USD: 35.00 this period, budget team (amortized cost), 300.00 USD a month"
        );
        assert!(
            lines[2].trim_start().starts_with("2026-11-02  30.00"),
            "{text}"
        );
        assert!(text.contains("+ 5.00 USD on no single day"), "{text}");
        let cannot = Figures {
            answer: Err("no column for tag \"team\"".into()),
            ..f.clone()
        };
        assert!(
            budget_to_date(Some(&cannot), "2026-11".parse().unwrap(), &b)
                .contains("cannot be answered: no column for tag")
        );
        assert!(budget_to_date(None, "2026-11".parse().unwrap(), &b)
            .starts_with("no live delivery of 2026-11 holds the figures of budget team"));
    }

    #[test]
    fn months_mark_the_budget_on_every_bar() {
        let live = [
            total("111111111111", "AmazonEC2", "2026-10", 250, None),
            total("111111111111", "AmazonEC2", "2026-11", 500, None),
        ];
        let text = months("111111111111", "AmazonEC2", &live, Some(&budget(400)));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "111111111111 AmazonEC2 (USD; ┃ budget team of 400.00 USD)"
        );
        assert!(
            lines[1].contains('┃') && !lines[1].contains("over budget"),
            "{text}"
        );
        assert!(lines[2].contains("over budget  estimated"), "{text}");
    }
}
