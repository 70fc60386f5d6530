//! Finding the days a series spends far above its own recent past (docs/anomalies.md).
//!
//! A day `d` of a series is an anomaly when all of these hold:
//!
//! 1. `d` is complete (the report's data runs past it) and one of the last
//!    [`LOOKBACK_DAYS`] complete days: older days were judged by earlier deliveries.
//! 2. Its baseline, the [`BASELINE_DAYS`] days before it, has at least [`MIN_HISTORY_DAYS`]
//!    days with spend: a service that just appeared has no baseline (it has its own alert).
//! 3. `spend > median + sensitivity × 1.4826 × MAD` over the baseline (MAD: the median absolute
//!    deviation; × 1.4826 it estimates σ and ignores the outliers a mean and σ would chase).
//! 4. `spend − median ≥ min_impact` and `spend ≥ median × (1 + min_increase_percent / 100)`.
//! 5. The same floors hold against the highest of the same weekdays in the baseline (`d − 7`,
//!    `d − 14`): a weekly batch day or a weekday after two weekend days is not news.
//! 6. The first day of a month is also held to the floors against the first day of the month
//!    before, and is not judged when that day is unknown: monthly charges land on the 1st.
//!
//! Steady growth stays inside the spread of its own baseline; a restated (lowered) day no
//! longer clears the threshold; a day once flagged is claimed once per (account, service,
//! currency, day), however often later deliveries flag it again.

use super::settings::Settings;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;

/// Days before a day that make up its baseline.
pub const BASELINE_DAYS: usize = 14;
/// Days with spend a baseline needs.
pub const MIN_HISTORY_DAYS: usize = 7;
/// Complete days judged per delivery (CUR data for a day keeps arriving for about a day).
pub const LOOKBACK_DAYS: usize = 3;
/// MAD × this estimates the standard deviation of normal noise.
const MAD_TO_SIGMA: Decimal = Decimal::from_parts(14826, 0, 0, false, 4);

/// The daily spend of one (account, service, currency), one value per day from `first`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub account: String,
    pub service: String,
    pub service_name: String,
    pub currency: String,
    pub first: NaiveDate,
    pub days: Vec<Decimal>,
}

impl Series {
    /// The spend on `day`, when the series covers it.
    pub fn on(&self, day: NaiveDate) -> Option<Decimal> {
        let i = (day - self.first).num_days();
        usize::try_from(i)
            .ok()
            .and_then(|i| self.days.get(i).copied())
    }
}

/// One anomalous day, with the figures that make it one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub account: String,
    pub service: String,
    pub service_name: String,
    pub currency: String,
    #[serde(serialize_with = "date_text")]
    pub day: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    pub spend: Decimal,
    /// The median of the baseline days.
    #[serde(with = "rust_decimal::serde::str")]
    pub baseline: Decimal,
    /// 1.4826 × the baseline's median absolute deviation.
    #[serde(with = "rust_decimal::serde::str")]
    pub spread: Decimal,
    /// `spend − baseline`.
    #[serde(with = "rust_decimal::serde::str")]
    pub impact: Decimal,
    /// `spend ÷ baseline`, to 2 places (None when the baseline is 0).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub factor: Option<Decimal>,
    /// How many baseline days had spend.
    pub history_days: usize,
}

fn date_text<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn median(sorted: &[Decimal]) -> Decimal {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        ((sorted[n / 2 - 1] + sorted[n / 2]) / Decimal::TWO).normalize()
    }
}

/// The median and the median absolute deviation of `values` (not empty).
pub fn median_mad(values: &[Decimal]) -> (Decimal, Decimal) {
    let mut v = values.to_vec();
    v.sort();
    let m = median(&v);
    let mut dev: Vec<Decimal> = v.iter().map(|x| (*x - m).abs()).collect();
    dev.sort();
    (m, median(&dev))
}

/// Whether `spend` clears both floors over `base`.
fn clears_floors(spend: Decimal, base: Decimal, s: &Settings) -> bool {
    let increase = Decimal::ONE + s.min_increase_percent / Decimal::ONE_HUNDRED;
    spend - base >= s.min_impact && spend >= base * increase && spend > base
}

/// The day `d` judged against its own past (see the module documentation); `None` when it is
/// not an anomaly.
pub fn judge(series: &Series, day: NaiveDate, s: &Settings) -> Option<Finding> {
    if !s.enabled {
        return None;
    }
    let spend = series.on(day)?;
    let baseline: Vec<Decimal> = (1..=BASELINE_DAYS as u64)
        .filter_map(|back| series.on(day - chrono::Days::new(back)))
        .collect();
    let history_days = baseline.iter().filter(|v| !v.is_zero()).count();
    if history_days < MIN_HISTORY_DAYS {
        return None;
    }
    let (median, mad) = median_mad(&baseline);
    let spread = (mad * MAD_TO_SIGMA).round_dp(10);
    if spend <= median + s.sensitivity * spread || !clears_floors(spend, median, s) {
        return None;
    }
    let same_weekday = [7u64, 14]
        .iter()
        .filter_map(|&back| series.on(day - chrono::Days::new(back)))
        .max()?;
    if !clears_floors(spend, same_weekday, s) {
        return None;
    }
    if day.day() == 1 {
        let month_before = day.checked_sub_months(Months::new(1))?;
        if !clears_floors(spend, series.on(month_before)?, s) {
            return None;
        }
    }
    Some(Finding {
        account: series.account.clone(),
        service: series.service.clone(),
        service_name: series.service_name.clone(),
        currency: series.currency.clone(),
        day,
        spend,
        baseline: median,
        spread,
        impact: spend - median,
        factor: (!median.is_zero()).then(|| (spend / median).round_dp(2)),
        history_days,
    })
}

/// The anomalies among the last [`LOOKBACK_DAYS`] complete days up to `last_complete`
/// (inclusive), oldest first.
pub fn detect(series: &Series, last_complete: NaiveDate, s: &Settings) -> Vec<Finding> {
    (0..LOOKBACK_DAYS as u64)
        .rev()
        .filter_map(|back| last_complete.checked_sub_days(chrono::Days::new(back)))
        .filter_map(|day| judge(series, day, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A series from `first` with the given daily values.
    fn series(first: &str, values: &[i64]) -> Series {
        Series {
            account: "111111111111".into(),
            service: "AmazonEC2".into(),
            service_name: "Amazon Elastic Compute Cloud".into(),
            currency: "USD".into(),
            first: date(first),
            days: values.iter().map(|&v| Decimal::from(v)).collect(),
        }
    }

    fn flagged(s: &Series, last_complete: &str) -> Vec<NaiveDate> {
        detect(s, date(last_complete), &Settings::default())
            .into_iter()
            .map(|f| f.day)
            .collect()
    }

    #[test]
    fn a_one_day_spike_of_100_to_500_is_flagged_once_with_its_figures() {
        // 14 days near 100 (98..=104), then day 15 at 500: median 100.5, MAD 1.
        let mut v = vec![
            100, 101, 99, 102, 98, 100, 103, 101, 100, 99, 104, 100, 101, 102,
        ];
        v.push(500);
        let s = series("2026-11-01", &v);
        let found = detect(&s, date("2026-11-15"), &Settings::default());
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.day, date("2026-11-15"));
        assert_eq!(
            (f.spend, f.baseline, f.impact),
            (d("500"), d("100.5"), d("399.5"))
        );
        assert_eq!(f.factor, Some(d("4.98")));
        assert_eq!(f.history_days, 14);
        // The next delivery, one day later with day 16 back to 100: day 15 is found again (and
        // its claim makes it alert once), day 16 is not.
        let mut later = v.clone();
        later.push(100);
        assert_eq!(
            flagged(&series("2026-11-01", &later), "2026-11-16"),
            vec![date("2026-11-15")]
        );
    }

    #[test]
    fn a_spike_of_100_to_115_is_below_the_impact_floor_of_20() {
        // Flat 100, then 115: far outside a spread of 0, but only 15 more (< 20) and +15 %.
        let mut v = vec![100; 14];
        v.push(115);
        assert!(flagged(&series("2026-11-01", &v), "2026-11-15").is_empty());
        // 10 → 28 a day is +180 % but 18 (< 20) in money: still below the floor.
        let mut small = vec![10; 14];
        small.push(28);
        assert!(flagged(&series("2026-11-01", &small), "2026-11-15").is_empty());
        // The same jump on 100 a day (100 → 180) clears both floors.
        let mut big = vec![100; 14];
        big.push(180);
        assert_eq!(
            flagged(&series("2026-11-01", &big), "2026-11-15"),
            vec![date("2026-11-15")]
        );
    }

    #[test]
    fn linear_growth_of_5_a_day_from_100_is_not_flagged() {
        // 100, 105, …, 245 over 30 days: each day is 5 above the last, inside its baseline's
        // spread (median +37.5, MAD 17.5 → threshold +141 over the median).
        let v: Vec<i64> = (0..30).map(|i| 100 + 5 * i).collect();
        let s = series("2026-11-01", &v);
        for last in 15..=30 {
            assert!(
                flagged(&s, &format!("2026-11-{last:02}")).is_empty(),
                "day {last}"
            );
        }
    }

    #[test]
    fn weekly_seasonality_of_300_on_saturdays_and_100_else_is_not_flagged() {
        // 2026-11-01 is a Sunday; every Saturday (7, 14, 21, 28) costs 300, other days 100.
        let v: Vec<i64> = (1..=30)
            .map(|day| if day % 7 == 0 { 300 } else { 100 })
            .collect();
        let s = series("2026-11-01", &v);
        for last in 15..=30 {
            assert!(
                flagged(&s, &format!("2026-11-{last:02}")).is_empty(),
                "day {last}"
            );
        }
        // Weekends at 20, weekdays at 100: every Monday is 5 × the weekend, not an anomaly.
        let v: Vec<i64> = (1..=30)
            .map(|day| {
                if day % 7 == 0 || day % 7 == 1 {
                    20
                } else {
                    100
                }
            })
            .collect();
        assert!(flagged(&series("2026-11-01", &v), "2026-11-30").is_empty());
        assert!(flagged(&series("2026-11-01", &v), "2026-11-23").is_empty());
        // A Saturday of 900 in that first pattern is flagged (3 × its own weekday).
        let mut spike: Vec<i64> = (1..=28)
            .map(|day| if day % 7 == 0 { 300 } else { 100 })
            .collect();
        spike[27] = 900;
        assert_eq!(
            flagged(&series("2026-11-01", &spike), "2026-11-28"),
            vec![date("2026-11-28")]
        );
    }

    #[test]
    fn a_month_start_with_a_monthly_charge_of_400_on_the_1st_is_not_flagged() {
        // October (31 days) at 100 a day with 500 on Oct 1; November 1 again 500.
        let mut v: Vec<i64> = vec![100; 31];
        v[0] = 500;
        v.push(500);
        let s = series("2026-10-01", &v);
        assert!(flagged(&s, "2026-11-01").is_empty());
        // Without October's first day known, the 1st is not judged at all.
        let s = series("2026-10-02", &v[1..]);
        assert!(flagged(&s, "2026-11-01").is_empty());
        // A 1st at 1,500 against October's 500 is flagged.
        let mut high = vec![100; 31];
        high[0] = 500;
        high.push(1500);
        assert_eq!(
            flagged(&series("2026-10-01", &high), "2026-11-01"),
            vec![date("2026-11-01")]
        );
    }

    #[test]
    fn a_new_service_of_6_days_at_0_then_300_a_day_is_not_flagged() {
        // 8 days without spend, then 300 a day: fewer than 7 days of history before each day.
        let mut v = vec![0; 8];
        v.extend([300, 300, 300, 300, 300, 300, 2000]);
        let s = series("2026-11-01", &v);
        for last in 9..=15 {
            assert!(
                flagged(&s, &format!("2026-11-{last:02}")).is_empty(),
                "day {last}"
            );
        }
    }

    #[test]
    fn a_day_in_progress_at_900_is_not_judged_until_complete() {
        // Day 16 has 900 so far but the data runs only through day 15.
        let mut v = vec![100; 15];
        v.push(900);
        let s = series("2026-11-01", &v);
        assert!(flagged(&s, "2026-11-15").is_empty());
        assert_eq!(flagged(&s, "2026-11-16"), vec![date("2026-11-16")]);
    }

    #[test]
    fn a_day_restated_from_500_down_to_110_is_not_flagged() {
        let mut v = vec![100; 14];
        v.push(500);
        assert_eq!(flagged(&series("2026-11-01", &v), "2026-11-15").len(), 1);
        v[14] = 110;
        assert!(flagged(&series("2026-11-01", &v), "2026-11-15").is_empty());
    }

    #[test]
    fn old_days_are_left_to_the_deliveries_that_saw_them() {
        // A spike on day 10, judged again from day 13 on: out of the 3-day lookback.
        let mut v = vec![100; 20];
        v[9] = 900;
        let s = series("2026-11-01", &v);
        assert_eq!(flagged(&s, "2026-11-12"), vec![date("2026-11-10")]);
        assert!(flagged(&s, "2026-11-13").is_empty());
    }

    #[test]
    fn sensitivity_and_floors_tune_it() {
        // Noisy: 100 ± 20, then 200. Sensitivity 4 (default): median 100, MAD 20 → threshold
        // 100 + 4 × 29.65 = 218.6 → not flagged; sensitivity 3 → 189 → flagged.
        let mut v = vec![
            80, 120, 100, 80, 120, 100, 80, 120, 100, 80, 120, 100, 80, 120,
        ];
        v.push(200);
        let s = series("2026-11-01", &v);
        assert!(flagged(&s, "2026-11-15").is_empty());
        let keen = Settings {
            sensitivity: Decimal::from(3),
            ..Settings::default()
        };
        assert_eq!(detect(&s, date("2026-11-15"), &keen).len(), 1);
        let off = Settings {
            enabled: false,
            ..keen
        };
        assert!(detect(&s, date("2026-11-15"), &off).is_empty());
    }

    #[test]
    fn median_and_mad_of_even_and_odd_counts() {
        let v = |xs: &[i64]| xs.iter().map(|&x| Decimal::from(x)).collect::<Vec<_>>();
        assert_eq!(median_mad(&v(&[1, 2, 3])), (d("2"), d("1")));
        assert_eq!(median_mad(&v(&[4, 1, 3, 2])), (d("2.5"), d("1")));
    }
}
