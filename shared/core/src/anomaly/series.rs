//! The series anomaly detection judges: this month's daily usage from the report, joined to
//! last month's as stored, and which days are complete.

use super::detect::{detect, judge, Finding, Series};
use super::feedback::{widened, Feedback};
use super::settings::{Config, Settings};
use crate::period::Period;
use crate::report::{ReportSummary, Status};
use crate::timestamp::Timestamp;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Anomalies alerted per delivery at most (the costliest first); a delivery that flags more
/// is one incident, and the rest are listed by `billwatch anomalies`.
pub const MAX_FINDINGS: usize = 20;

/// Last month's stored daily series of one (account, service, currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    pub account: String,
    pub service: String,
    pub currency: String,
    pub period: Period,
    /// One value per day of `period`.
    pub days: Vec<Decimal>,
}

/// The last day of `period` whose data is complete: the day before the report's "as of"
/// (CUR and FOCUS data run through `as_of`), the month's last day once the report is final.
/// `None` when no day is complete yet.
pub fn last_complete_day(period: Period, as_of: Option<&str>, status: Status) -> Option<NaiveDate> {
    if status == Status::Final {
        return Some(period.last_day());
    }
    let at = Timestamp::parse(as_of?).ok()?.utc().date_naive();
    let day = at.pred_opt()?.min(period.last_day());
    (day >= period.start().date_naive()).then_some(day)
}

/// One series per total with a daily series, preceded by last month's when `prior` has it.
pub fn series_of(summary: &ReportSummary, period: Period, prior: &[Prior]) -> Vec<Series> {
    let month = period.days() as usize;
    let before = period.prev();
    summary
        .totals
        .iter()
        .filter_map(|t| {
            let days = t.daily_usage.as_ref().filter(|d| d.len() == month)?;
            let last = prior.iter().find(|p| {
                p.period == before
                    && p.days.len() == before.days() as usize
                    && (&p.account, &p.service, &p.currency)
                        == (&t.account_id, &t.service, &t.currency)
            });
            let (first, all) = match last {
                Some(p) => (
                    before.start().date_naive(),
                    p.days.iter().chain(days).copied().collect(),
                ),
                None => (period.start().date_naive(), days.clone()),
            };
            Some(Series {
                account: t.account_id.clone(),
                service: t.service.clone(),
                service_name: t.service_name.clone(),
                currency: t.currency.clone(),
                first,
                days: all,
            })
        })
        .collect()
}

/// Every anomaly a delivery shows, the largest impact first, at most [`MAX_FINDINGS`].
pub fn find(
    summary: &ReportSummary,
    period: Period,
    prior: &[Prior],
    config: &Config,
    feedback: &[Feedback],
) -> Vec<Finding> {
    let mut out = per_series(
        summary,
        period,
        prior,
        config,
        feedback,
        |s, last, settings| detect(s, last, &settings),
    );
    by_impact(&mut out);
    out.truncate(MAX_FINDINGS);
    out
}

/// Every complete day of the report judged, as the month's daily deliveries would have judged
/// them one after another (for tuning offline): oldest first, unbounded.
pub fn find_every_day(
    summary: &ReportSummary,
    period: Period,
    prior: &[Prior],
    config: &Config,
    feedback: &[Feedback],
) -> Vec<Finding> {
    let first = period.start().date_naive();
    let mut out = per_series(
        summary,
        period,
        prior,
        config,
        feedback,
        |s, last, settings| {
            first
                .iter_days()
                .take_while(|d| *d <= last)
                .filter_map(|d| judge(s, d, &settings))
                .collect::<Vec<_>>()
        },
    );
    out.sort_by(|a, b| (a.day, &a.account, &a.service).cmp(&(b.day, &b.account, &b.service)));
    out
}

/// What `judge` finds in each series of the report, given the series' settings and the last
/// complete day; nothing while no day is complete.
fn per_series<I: IntoIterator<Item = Finding>>(
    summary: &ReportSummary,
    period: Period,
    prior: &[Prior],
    config: &Config,
    feedback: &[Feedback],
    judge: impl Fn(&Series, NaiveDate, Settings) -> I,
) -> Vec<Finding> {
    let Some(last) = last_complete_day(period, summary.as_of.as_deref(), summary.status) else {
        return Vec::new();
    };
    series_of(summary, period, prior)
        .iter()
        .flat_map(|s| {
            // An `expected` or `planned` answer on the series widens its tolerance.
            let settings = widened(
                config.settings_for(&s.account, &s.service),
                feedback,
                &s.account,
                &s.service,
                &s.currency,
                last,
            );
            judge(s, last, settings)
        })
        .collect()
}

fn by_impact(out: &mut [Finding]) {
    out.sort_by(|a, b| {
        b.impact
            .cmp(&a.impact)
            .then_with(|| (&a.account, &a.service, a.day).cmp(&(&b.account, &b.service, b.day)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn the_day_before_as_of_is_the_last_complete_one() {
        let nov = p("2026-11");
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            last_complete_day(nov, Some("2026-11-16T00:00:00Z"), Status::Estimated),
            Some(day("2026-11-15"))
        );
        assert_eq!(
            last_complete_day(nov, Some("2026-11-16T13:00:00Z"), Status::Estimated),
            Some(day("2026-11-15"))
        );
        assert_eq!(
            last_complete_day(nov, Some("2026-11-01T09:00:00Z"), Status::Estimated),
            None
        );
        assert_eq!(last_complete_day(nov, None, Status::Estimated), None);
        assert_eq!(
            last_complete_day(nov, None, Status::Final),
            Some(day("2026-11-30"))
        );
    }
}
