//! Where a budget stands in its span (a day, month, quarter or year): its spend, its forecast
//! to the span's end and the thresholds crossed, from the budget's figures in each billing
//! month's live report ([`Month`]). Pure; the same for `budgets status`, `budgets replay` and the
//! ingest.
//!
//! * **Spend**: a monthly budget's is its month's total; a quarterly or annual budget sums its
//!   months' totals (a month with no report counts nothing and is named in a note); a daily
//!   budget's is the day's usage in the daily series (the day of the newest report's `as_of`).
//! * **Forecast**: the month in progress is projected to its end as a scope's totals are
//!   ([`crate::forecast::project`]: fees counted once, usage at the daily run rate); each later
//!   month of a quarter or year adds the month in progress' projected total per day, times its
//!   days. A daily budget has no forecast.
//! * **Automatic amount** (`amount = { auto = "mean", months = N }`): the mean of the last `N`
//!   complete months' totals before the span (those with a report), per month for a monthly
//!   budget, times 3 or 12 for a quarter or year, per day for a daily one; no earlier month: no
//!   amount, and so no alert, said in a note.

use super::model::Auto;
use super::span::{Cadence, Span};
use super::spec::{Figures, Spend};
use super::{evaluate, spent, Budget, Crossing, Scope};
use crate::forecast::project;
use crate::period::Period;
use crate::report::ReportSummary;
use crate::report::Status;
use crate::timestamp::Timestamp;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// A budget's figures in one billing month's live report.
#[derive(Debug, Clone)]
pub struct Month<'a> {
    pub period: Period,
    pub figures: &'a Figures,
    pub as_of: Option<String>,
    pub status: Status,
}

/// Where a budget stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub span: Span,
    /// The amount for the span (an automatic amount worked out), or `None` when an automatic
    /// amount has no month to follow yet.
    pub amount: Option<Decimal>,
    /// The spend in the budget's currency over the span to date, or why the reports cannot
    /// answer it.
    pub spend: Result<Decimal, String>,
    /// The spend projected to the span's end.
    pub forecast: Option<Decimal>,
    /// The thresholds reached (none without an amount or a spend).
    pub crossings: Vec<Crossing>,
    /// What the user should know: months without a report, spend in other currencies, the
    /// engine's notes.
    pub notes: Vec<String>,
}

/// Where `budget` stands in the span of the newest of `months` (each month at most once, any
/// order).
pub fn standing(budget: &Budget, months: &[Month<'_>]) -> Option<Standing> {
    let newest = months.iter().max_by_key(|m| m.period)?;
    let cadence = budget.model.cadence;
    let day = day_of(newest);
    let span = cadence.span_of(day);
    let mut notes: Vec<String> = newest.figures.notes.clone();
    let in_span: Vec<&Month<'_>> = span
        .months()
        .iter()
        .filter_map(|p| months.iter().find(|m| m.period == *p))
        .collect();
    let missing: Vec<String> = span
        .months()
        .into_iter()
        .filter(|p| *p < newest.period && !in_span.iter().any(|m| m.period == *p))
        .map(|p| p.to_string())
        .collect();
    if !missing.is_empty() && cadence != Cadence::Daily {
        notes.push(format!(
            "no report for {}: the {} spend counts only the months given",
            missing.join(", "),
            cadence.name()
        ));
    }
    let currency = &budget.currency;
    let mut other = Vec::new();
    let spends: Result<Vec<(Spend, &Month<'_>)>, String> = in_span
        .iter()
        .map(|m| {
            if let Ok(all) = &m.figures.answer {
                other.extend(
                    all.iter()
                        .filter(|s| s.currency != *currency && !s.total.is_zero())
                        .map(|s| format!("{} {} in {}", s.total.normalize(), s.currency, m.period)),
                );
            }
            m.figures
                .spend_in(currency)
                .map(|s| (s, *m))
                .map_err(|why| format!("{}: {why}", m.period))
        })
        .collect();
    if !other.is_empty() {
        notes.push(format!(
            "spend in other currencies is not counted in this {currency} budget: {}",
            other.join(", ")
        ));
    }
    let amount = match budget.model.auto {
        None => Some(budget.amount),
        Some(auto) => {
            let a = auto_amount(budget, auto, span, months);
            if a.is_none() {
                notes.push(format!(
                    "the amount follows the last {} months' spend, and no earlier month has a report yet: no threshold is checked",
                    auto.months
                ));
            }
            a
        }
    };
    let (spend, forecast) = match spends {
        Err(why) => (Err(why), None),
        Ok(spends) => match cadence {
            Cadence::Daily => {
                let current = spends.iter().find(|(_, m)| m.period == newest.period);
                match current {
                    Some((s, _)) if !s.days.is_empty() => (Ok(s.days[day.day0() as usize]), None),
                    _ => (
                        Err("a daily budget needs a report with daily or hourly lines".into()),
                        None,
                    ),
                }
            }
            // A plain tag budget's spend comes from tag totals, with no daily series: no
            // forecast, as before.
            _ if budget.model.is_plain() && matches!(budget.scope, Scope::Tag { .. }) => {
                (Ok(spends.iter().map(|(s, _)| s.total).sum()), None)
            }
            _ => {
                let spend: Decimal = spends.iter().map(|(s, _)| s.total).sum();
                (Ok(spend), Some(forecast_span(span, &spends, newest)))
            }
        },
    };
    let crossings = match (&spend, amount) {
        (Ok(actual), Some(amount)) => {
            let with_amount = Budget {
                amount,
                ..budget.clone()
            };
            evaluate(&with_amount, span_period(span), *actual, forecast)
        }
        _ => Vec::new(),
    };
    Some(Standing {
        span,
        amount,
        spend,
        forecast,
        crossings,
        notes,
    })
}

/// The billing months other than `period` whose live figures the budgets summed in the pass
/// need to stand in `period`: the earlier months of a quarterly or annual span, and the months
/// an automatic amount follows. Sorted, each once.
pub fn months_needed(budgets: &[Budget], period: Period) -> Vec<Period> {
    let mut out = std::collections::BTreeSet::new();
    for b in budgets.iter().filter(|b| b.summed_in_pass()) {
        let span = b.model.cadence.span_of(period.first_day());
        for p in span.months() {
            if p < period {
                out.insert(p);
            }
        }
        if let Some(auto) = b.model.auto {
            let mut p = span_period(span);
            for _ in 0..auto.months {
                p = p.prev();
                out.insert(p);
            }
        }
    }
    out.remove(&period);
    out.into_iter().collect()
}

/// The billing month a span's alerts are kept under (claims are per month): its first.
pub fn span_period(span: Span) -> Period {
    span.months()[0]
}

/// The day the newest report reaches: its `as_of` date (the day before, at exactly midnight),
/// within its month; the month's last day without one.
fn day_of(m: &Month<'_>) -> NaiveDate {
    let last = m.period.last_day();
    let Some(at) = m.as_of.as_deref().and_then(|a| Timestamp::parse(a).ok()) else {
        return last;
    };
    let at = at.utc().naive_utc();
    let day = if at.time() == chrono::NaiveTime::MIN {
        at.date().pred_opt().unwrap_or(at.date())
    } else {
        at.date()
    };
    day.clamp(m.period.first_day(), last)
}

/// Σ the months before the one in progress + its projection + the later months at its
/// projected total per day.
fn forecast_span(span: Span, spends: &[(Spend, &Month<'_>)], newest: &Month<'_>) -> Decimal {
    let mut total = Decimal::ZERO;
    let mut current = None;
    for (s, m) in spends {
        if m.period == newest.period {
            let days = (!s.days.is_empty()).then_some(s.days.as_slice());
            let f = project(
                s.total,
                s.once,
                days,
                m.period,
                m.as_of.as_deref(),
                m.status,
            );
            total += f.projected;
            current = Some(f.projected);
        } else {
            total += s.total;
        }
    }
    let per_day = current.unwrap_or_default() / Decimal::from(newest.period.days());
    for p in span.months().into_iter().filter(|p| *p > newest.period) {
        total += per_day * Decimal::from(p.days());
    }
    total.round_dp(crate::forecast::PROJECTION_DP)
}

/// The automatic amount for `span`: the mean of the last `auto.months` months before it that
/// have a report, scaled to the span.
fn auto_amount(budget: &Budget, auto: Auto, span: Span, months: &[Month<'_>]) -> Option<Decimal> {
    let first = span_period(span);
    let mut p = first;
    let mut sums = Vec::new();
    let mut days = 0u32;
    for _ in 0..auto.months {
        p = p.prev();
        if let Some(m) = months.iter().find(|m| m.period == p) {
            let spend = m.figures.spend_in(&budget.currency).ok()?;
            sums.push(spend.total);
            days += p.days();
        }
    }
    if sums.is_empty() {
        return None;
    }
    let total: Decimal = sums.iter().sum();
    let mean = total / Decimal::from(sums.len());
    let amount = match span {
        Span::Day(_) => total / Decimal::from(days),
        Span::Month(_) => mean,
        Span::Quarter { .. } => mean * Decimal::from(3),
        Span::Year(_) => mean * Decimal::from(12),
    };
    Some(amount.round_dp(2))
}

/// A plain budget's figures in `summary`, counted as budgets always were: its scope's totals
/// in its currency (a tag scope: the report's tag totals), the daily series of its non-support
/// totals when every one has one, and what a forecast counts once.
pub fn plain_figures(budget: &Budget, summary: &ReportSummary) -> Figures {
    let total = spent(budget, summary);
    let (once, days) = if matches!(budget.scope, Scope::Tag { .. }) {
        (total, Vec::new())
    } else {
        let covered: Vec<_> = summary.totals.iter().filter(|t| budget.covers(t)).collect();
        let once = covered.iter().map(|t| crate::forecast::once_of(t)).sum();
        let days = summary
            .billing_period
            .and_then(|p| crate::forecast::usage_series(&covered, p))
            .unwrap_or_default();
        (once, days)
    };
    Figures {
        name: budget.name.clone(),
        answer: Ok(vec![Spend {
            currency: budget.currency.clone(),
            total,
            once,
            days,
        }]),
        notes: Vec::new(),
        gauge: None,
    }
}

/// A budget's figures in `summary`: the engine's answer for a budget summed in the pass, its
/// totals for a plain one.
pub fn figures_in(budget: &Budget, summary: &ReportSummary) -> Figures {
    if let Some(gauge) = budget.watch().and_then(|w| w.gauge()) {
        return summary
            .budgets
            .iter()
            .find(|f| f.name == budget.name && (f.gauge.is_some() || f.answer.is_err()))
            .cloned()
            .unwrap_or_else(|| {
                crate::commitment::watch::figures_of(
                    &budget.name,
                    gauge,
                    &budget.model.filter,
                    summary,
                )
            });
    }
    if !budget.summed_in_pass() {
        return plain_figures(budget, summary);
    }
    summary
        .budgets
        .iter()
        .find(|f| f.name == budget.name)
        .cloned()
        .unwrap_or_else(|| Figures {
            name: budget.name.clone(),
            answer: Err("the report was read without this budget".into()),
            notes: Vec::new(),
            gauge: None,
        })
}

#[cfg(test)]
#[path = "standing_tests.rs"]
mod tests;
