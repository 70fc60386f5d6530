//! Month-end forecast of a budget scope from a report's month-to-date totals and its `as_of`
//! time (docs/budgets.md, "Forecast"). Pure, exact: every amount is a [`Decimal`].
//!
//! The caller passes the totals of one scope in one currency, the report's billing period
//! (`YYYY-MM`), its `as_of` (`YYYY-MM-DDTHH:MM:SSZ`) and its status. With `M` the days in the month
//! and `T` the period start (the 1st, 00:00:00 UTC):
//!
//! * `actual` = Σ cost.
//! * `once` = what is counted once, never extrapolated: the whole cost of every support total
//!   (service code starting with `AWSSupport`, billed monthly) plus, of every other total, its
//!   `fees` + `tax` + `credits` + `refunds` + `adjustments`.
//! * `usage_to_date` = `actual` − `once` (the `charges` + `discounts` of the non-support
//!   totals, the parts adding up to the cost).
//! * `elapsed` = seconds from `T` to `as_of`, at most `M × 86400`.
//!
//! The method, first that applies:
//!
//! 1. [`Method::Final`]: the report is `final`, it has no `as_of`, the period or `as_of` does not
//!    parse, or `as_of` is not after `T` (nothing elapsed to extrapolate from).
//!    `projected = actual`.
//! 2. [`Method::DailyRunRate`]: every total has a `daily_usage` series of `M` days (CUR, FOCUS) and
//!    at least one day is complete. Day `d` is complete when `as_of ≥ T + d days`, so
//!    `C = ⌊elapsed / 86400⌋` days are complete. With `U[d]` the Σ of the non-support series on
//!    day `d`, `n = min(7, C)` and the window the `n` days `C − n + 1 ..= C`:
//!
//!    ```text
//!    rate      = Σ window U[d] / n
//!    partial   = Σ_{d > C} U[d]       usage already booked on the day not yet complete
//!    projected = actual − partial + rate × (M − C)
//!    ```
//!
//!    The day in progress counts as one full day at the run rate, replacing what was booked on it
//!    so far: it is neither counted twice nor only in part. Usage that was on no single day of the
//!    month (a month-long line, a date outside the month; see `Total::daily_usage`) stays in
//!    `actual` as it is. A spike older than the window does not move the rate.
//! 3. [`Method::ElapsedFraction`]: otherwise (no daily usage, or no complete day yet):
//!    `fraction = elapsed / (M × 86400)` and `projected = once + usage_to_date / fraction`,
//!    computed as `once + usage_to_date × (M × 86400) / elapsed`.
//!
//! `projected` is rounded to 10 decimal places (midpoint away from zero) when it has more; the
//! other figures are exact sums.

use crate::ledger::Part;
use crate::period::Period;
use crate::report::{Status, Total};
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places a projection keeps at most.
pub const PROJECTION_DP: u32 = 10;

/// How long the window of the daily run rate is, in complete days.
pub const RUN_RATE_DAYS: u32 = 7;

const DAY_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Nothing extrapolated: the report is final or has no time to extrapolate from.
    Final,
    /// Mean of the last `days` complete days, times the days left.
    DailyRunRate { days: u32 },
    /// Month-to-date usage ÷ the elapsed fraction of the month.
    ElapsedFraction { fraction: Decimal },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forecast {
    /// Σ cost to date.
    pub actual: Decimal,
    /// The part of `actual` counted once (fees, tax, credits, refunds, adjustments, support).
    pub once: Decimal,
    /// The part of `actual` extrapolated: `actual − once`.
    pub usage_to_date: Decimal,
    /// The month-end total.
    pub projected: Decimal,
    pub method: Method,
}

/// Parts counted once, never extrapolated.
const ONCE: [Part; 5] = [
    Part::Fees,
    Part::Tax,
    Part::Credits,
    Part::Refunds,
    Part::Adjustments,
];

/// Support plans are billed monthly: their whole cost is counted once.
pub fn is_support(service: &str) -> bool {
    service.starts_with("AWSSupport")
}

/// The part of a total counted once by a forecast (see the module documentation).
pub fn once_of(t: &Total) -> Decimal {
    if is_support(&t.service) {
        t.cost
    } else {
        ONCE.iter()
            .map(|&p| t.breakdown.get(p).unwrap_or_default())
            .sum()
    }
}

/// Seconds from the period start to `as_of`, and the seconds in the month.
fn elapsed(period: Period, as_of: &str, month_days: u32) -> Option<(i64, i64)> {
    let start = period.start().naive_utc();
    let at = crate::timestamp::Timestamp::parse(as_of)
        .ok()?
        .utc()
        .naive_utc();
    let month = i64::from(month_days) * DAY_SECONDS;
    Some(((at - start).num_seconds().min(month), month))
}

/// `x × num ÷ den`, multiplying first (exact when the quotient is), dividing first only if the
/// product would overflow.
fn scale(x: Decimal, num: Decimal, den: Decimal) -> Decimal {
    match x.checked_mul(num) {
        Some(product) => product / den,
        None => x * (num / den),
    }
}

fn rounded(d: Decimal) -> Decimal {
    if d.scale() > PROJECTION_DP {
        d.round_dp_with_strategy(PROJECTION_DP, RoundingStrategy::MidpointAwayFromZero)
    } else {
        d
    }
}

/// The month-end forecast of `totals` (one scope, one currency) for `period`, as of
/// `as_of` (`YYYY-MM-DDTHH:MM:SSZ`). See the module documentation for the formulas.
pub fn forecast(
    totals: &[&Total],
    period: Period,
    as_of: Option<&str>,
    status: Status,
) -> Forecast {
    let actual: Decimal = totals.iter().map(|t| t.cost).sum();
    let once: Decimal = totals.iter().map(|t| once_of(t)).sum();
    let usage = usage_series(totals, period);
    project(actual, once, usage.as_deref(), period, as_of, status)
}

/// The usage of `totals` per day of `period` (support left out: it is counted once), when every
/// total has a daily series of the month.
pub fn usage_series(totals: &[&Total], period: Period) -> Option<Vec<Decimal>> {
    let m = period.days() as usize;
    let daily = !totals.is_empty()
        && totals
            .iter()
            .all(|t| t.daily_usage.as_ref().is_some_and(|s| s.len() == m));
    daily.then(|| {
        let mut usage = vec![Decimal::ZERO; m];
        for t in totals.iter().filter(|t| !is_support(&t.service)) {
            for (sum, day) in usage.iter_mut().zip(t.daily_usage.iter().flatten()) {
                *sum += *day;
            }
        }
        usage
    })
}

/// The month-end forecast of one series: `actual` to date, of which `once` is counted once,
/// and the usage per day of the month (`usage[d - 1]` for day `d`), when the report has it.
/// The formulas of the module documentation, for one budget's figures as for a scope's totals.
pub fn project(
    actual: Decimal,
    once: Decimal,
    usage: Option<&[Decimal]>,
    period: Period,
    as_of: Option<&str>,
    status: Status,
) -> Forecast {
    let usage_to_date = actual - once;
    let done = |projected: Decimal, method: Method| Forecast {
        actual,
        once,
        usage_to_date,
        projected: rounded(projected),
        method,
    };
    let final_ = || done(actual, Method::Final);
    if status == Status::Final {
        return final_();
    }
    let month_days = period.days();
    let Some((elapsed, month)) = as_of.and_then(|a| elapsed(period, a, month_days)) else {
        return final_();
    };
    if elapsed <= 0 {
        return final_();
    }
    let complete = (elapsed / DAY_SECONDS) as usize;
    let m = month_days as usize;
    if let Some(usage) = usage.filter(|u| u.len() == m && complete > 0) {
        let n = complete.min(RUN_RATE_DAYS as usize);
        let window: Decimal = usage[complete - n..complete].iter().sum();
        let partial: Decimal = usage[complete..].iter().sum();
        let remaining = Decimal::from(m - complete);
        let projected = actual - partial + scale(window, remaining, Decimal::from(n));
        return done(projected, Method::DailyRunRate { days: n as u32 });
    }
    let (elapsed, month) = (Decimal::from(elapsed), Decimal::from(month));
    let projected = once + scale(usage_to_date, month, elapsed);
    done(
        projected,
        Method::ElapsedFraction {
            fraction: elapsed / month,
        },
    )
}

#[cfg(test)]
mod tests {
    fn pd(s: &str) -> crate::period::Period {
        s.parse().unwrap()
    }
    use super::*;
    use crate::report::summary::Breakdown;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// A total whose cost is the sum of its parts.
    fn total(service: &str, parts: &[(Part, &str)], daily: Option<Vec<Decimal>>) -> Total {
        let parts: Vec<(Part, Decimal)> = parts.iter().map(|&(p, a)| (p, d(a))).collect();
        Total {
            account_id: "123456789012".into(),
            service: service.into(),
            service_name: service.into(),
            currency: "USD".into(),
            cost: parts.iter().map(|(_, a)| *a).sum(),
            breakdown: Breakdown(parts),
            daily_usage: daily,
        }
    }

    /// A month of `len` days with `amounts` on days 1, 2, … and zero after.
    fn series(len: usize, amounts: &[&str]) -> Vec<Decimal> {
        let mut s = vec![Decimal::ZERO; len];
        for (day, a) in s.iter_mut().zip(amounts) {
            *day = d(a);
        }
        s
    }

    /// Usage of `per_day` on each of the first `days` days of a 30-day month.
    fn flat(per_day: &str, days: usize) -> Vec<Decimal> {
        series(30, &vec![per_day; days])
    }

    fn usage(daily: Vec<Decimal>) -> Total {
        let sum: Decimal = daily.iter().sum();
        total(
            "AmazonEC2",
            &[(Part::Charges, &sum.to_string())],
            Some(daily),
        )
    }

    fn run(totals: &[Total], as_of: &str) -> Forecast {
        let refs: Vec<&Total> = totals.iter().collect();
        forecast(&refs, pd("2026-11"), Some(as_of), Status::Estimated)
    }

    /// The end of day 15 of November 2026.
    const DAY_15_END: &str = "2026-11-16T00:00:00.000Z";

    #[test]
    fn a_flat_month_runs_at_its_rate() {
        let f = run(&[usage(flat("10", 15))], DAY_15_END);
        assert_eq!(f.actual, d("150"));
        assert_eq!(f.once, d("0"));
        assert_eq!(f.usage_to_date, d("150"));
        assert_eq!(f.projected, d("300"));
        assert_eq!(f.method, Method::DailyRunRate { days: 7 });
    }

    #[test]
    fn the_day_in_progress_is_replaced_not_added() {
        // 06:00 on day 16: a quarter of day 16 is booked; actual holds it.
        let mut s = flat("10", 15);
        s[15] = d("2.5");
        let f = run(&[usage(s)], "2026-11-16T06:00:00.000Z");
        assert_eq!(f.actual, d("152.5"));
        assert_eq!(f.projected, d("300"));
        assert_eq!(f.method, Method::DailyRunRate { days: 7 });
    }

    #[test]
    fn a_growing_month_uses_its_last_seven_days() {
        let amounts: Vec<String> = (1..=10).map(|n| n.to_string()).collect();
        let refs: Vec<&str> = amounts.iter().map(String::as_str).collect();
        let f = run(&[usage(series(30, &refs))], "2026-11-11T00:00:00.000Z");
        // window days 4..=10: 49 / 7 = 7 a day, 20 days left
        assert_eq!(f.actual, d("55"));
        assert_eq!(f.projected, d("195"));
        assert_eq!(f.method, Method::DailyRunRate { days: 7 });
    }

    #[test]
    fn a_spike_leaves_the_rate_once_seven_later_days_exist() {
        let mut s = flat("10", 10);
        s[2] = d("1000");
        let late = run(&[usage(s.clone())], "2026-11-11T00:00:00.000Z");
        assert_eq!(late.actual, d("1090"));
        assert_eq!(late.projected, d("1290"));
        // while the month is young the spike is in the window: 1040 / 5 a day for 25 days
        let mut young = s;
        young[5..].fill(Decimal::ZERO);
        let early = run(&[usage(young)], "2026-11-06T00:00:00.000Z");
        assert_eq!(early.actual, d("1040"));
        assert_eq!(early.projected, d("6240"));
        assert_eq!(early.method, Method::DailyRunRate { days: 5 });
    }

    #[test]
    fn a_support_fee_is_counted_once() {
        // support billed on day 1, even as a usage line in its series
        let support = total(
            "AWSSupportBusiness",
            &[(Part::Charges, "100")],
            Some(series(30, &["100"])),
        );
        let f = run(&[support.clone(), usage(flat("10", 15))], DAY_15_END);
        assert_eq!(f.actual, d("250"));
        assert_eq!(f.once, d("100"));
        assert_eq!(f.usage_to_date, d("150"));
        assert_eq!(f.projected, d("400"));
        // without daily data it is not divided by the elapsed fraction either
        let mut legacy = support;
        legacy.daily_usage = None;
        let f = run(
            &[legacy, total("AmazonEC2", &[(Part::Charges, "150")], None)],
            DAY_15_END,
        );
        assert_eq!(f.projected, d("400"));
    }

    #[test]
    fn a_monthly_reserved_instance_fee_is_counted_once() {
        let mut ec2 = usage(flat("10", 15));
        ec2.breakdown.0.push((Part::Fees, d("720")));
        ec2.cost += d("720");
        let f = run(&[ec2], DAY_15_END);
        assert_eq!(f.actual, d("870"));
        assert_eq!(f.once, d("720"));
        assert_eq!(f.projected, d("1020"));
    }

    #[test]
    fn tax_is_counted_once() {
        let tax = total("AmazonEC2", &[(Part::Tax, "15")], Some(flat("0", 0)));
        let f = run(&[usage(flat("10", 15)), tax], DAY_15_END);
        assert_eq!(f.actual, d("165"));
        assert_eq!(f.projected, d("315"));
    }

    #[test]
    fn credits_refunds_and_adjustments_are_counted_once_discounts_scale() {
        // 10 a day of usage less 1 a day of discount: 9 a day
        let ec2 = total(
            "AmazonEC2",
            &[
                (Part::Charges, "150"),
                (Part::Discounts, "-15"),
                (Part::Credits, "-50"),
                (Part::Refunds, "-5"),
                (Part::Adjustments, "2.50"),
            ],
            Some(flat("9", 15)),
        );
        let f = run(&[ec2], DAY_15_END);
        assert_eq!(f.actual, d("82.50"));
        assert_eq!(f.once, d("-52.50"));
        assert_eq!(f.usage_to_date, d("135"));
        assert_eq!(f.projected, d("217.50"));
    }

    #[test]
    fn without_daily_data_the_elapsed_fraction_scales_usage() {
        let legacy = total(
            "AmazonEC2",
            &[
                (Part::Charges, "150"),
                (Part::Credits, "-5"),
                (Part::Tax, "15"),
            ],
            None,
        );
        let f = run(std::slice::from_ref(&legacy), DAY_15_END);
        assert_eq!(f.actual, d("160"));
        assert_eq!(f.once, d("10"));
        assert_eq!(f.projected, d("310"));
        assert_eq!(f.method, Method::ElapsedFraction { fraction: d("0.5") });
        // a third of the month: exact, the fraction's repeating digits never enter the product
        let third = total("AmazonEC2", &[(Part::Charges, "100")], None);
        let f = run(&[third], "2026-11-11T00:00:00.000Z");
        assert_eq!(f.projected, d("300"));
        assert_eq!(
            f.method,
            Method::ElapsedFraction {
                fraction: d("1") / d("3")
            }
        );
        // 08:00 on day 2 of a 30-day month: 32 h of 720 h
        let f = run(&[legacy], "2026-11-02T08:00:00.000Z");
        assert_eq!(f.projected, d("3385"));
    }

    #[test]
    fn mixed_or_too_young_daily_data_falls_back_to_the_elapsed_fraction() {
        let legacy = total("AmazonS3", &[(Part::Charges, "15")], None);
        let f = run(&[usage(flat("10", 15)), legacy], DAY_15_END);
        assert_eq!(f.projected, d("330"));
        assert!(matches!(f.method, Method::ElapsedFraction { .. }));
        // 12:00 on day 1: no complete day yet
        let f = run(&[usage(series(30, &["5"]))], "2026-11-01T12:00:00.000Z");
        assert_eq!(f.projected, d("300"));
        assert!(matches!(f.method, Method::ElapsedFraction { .. }));
    }

    #[test]
    fn projections_keep_ten_decimal_places() {
        // December: 1 on day 1 then nothing, as of the end of day 3: 1/3 a day for 28 days
        let refs_total = usage(series(31, &["1", "0", "0"]));
        let f = forecast(
            &[&refs_total],
            pd("2026-12"),
            Some("2026-12-04T00:00:00.000Z"),
            Status::Estimated,
        );
        assert_eq!(f.projected, d("10.3333333333"));
        assert_eq!(f.method, Method::DailyRunRate { days: 3 });
    }

    #[test]
    fn a_complete_month_forecasts_its_actual() {
        let f = run(&[usage(flat("10", 30))], "2026-12-01T00:00:00.000Z");
        assert_eq!(f.projected, d("300"));
        assert_eq!(f.method, Method::DailyRunRate { days: 7 });
    }

    #[test]
    fn a_final_report_forecasts_its_actual() {
        let totals = [usage(flat("10", 15))];
        let refs: Vec<&Total> = totals.iter().collect();
        let f = forecast(&refs, pd("2026-11"), Some(DAY_15_END), Status::Final);
        assert_eq!(f.projected, d("150"));
        assert_eq!(f.actual, d("150"));
        assert_eq!(f.method, Method::Final);
    }

    #[test]
    fn no_as_of_forecasts_the_actual() {
        let totals = [usage(flat("10", 15))];
        let refs: Vec<&Total> = totals.iter().collect();
        let f = forecast(&refs, pd("2026-11"), None, Status::Estimated);
        assert_eq!(f.projected, d("150"));
        assert_eq!(f.method, Method::Final);
        // nor does an unreadable time or one at the very start of the month
        for as_of in [
            "yesterday",
            "2026-11-01T00:00:00.000Z",
            "2026-10-20T00:00:00.000Z",
        ] {
            let f = forecast(&refs, pd("2026-11"), Some(as_of), Status::Estimated);
            assert_eq!(
                (f.projected, f.method),
                (d("150"), Method::Final),
                "{as_of}"
            );
        }
    }

    #[test]
    fn an_empty_scope_forecasts_zero() {
        let f = forecast(&[], pd("2026-11"), Some(DAY_15_END), Status::Estimated);
        assert_eq!(f.projected, Decimal::ZERO);
    }
}
