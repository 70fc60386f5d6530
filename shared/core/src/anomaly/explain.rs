//! Where to look: the usage types, operations and regions whose spend moved most on an
//! anomalous day against the days before it in the same month (from the driver pass).

use crate::report::drivers::{Dimension, DriverTable, Key};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// Movers listed per dimension.
pub const TOP_MOVERS: usize = 3;

/// One value that moved: its spend on the day, its mean over the baseline days, the change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mover {
    pub dimension: Dimension,
    pub value: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub spend: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub baseline: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub change: Decimal,
}

/// The top movers of `key` on `day` (a day of the table's month), per dimension, largest rise
/// first. The baseline is the mean of up to 14 days before `day` in the same month (none on
/// the 1st: then the baseline is 0 and the day's largest values are listed).
pub fn movers(table: &DriverTable, key: &Key, day: NaiveDate) -> Vec<Mover> {
    let d = day.day() as usize;
    let first = d.saturating_sub(14).max(1);
    let before = d - first; // days in the baseline
    let mut out = Vec::new();
    for dim in Dimension::ALL {
        let Some(values) = table.series(key, dim) else {
            continue;
        };
        let mut moved: Vec<Mover> = values
            .iter()
            .filter_map(|(value, series)| {
                let spend = *series.get(d - 1)?;
                let sum: Decimal = series[first - 1..d - 1].iter().sum();
                let baseline = if before == 0 {
                    Decimal::ZERO
                } else {
                    (sum / Decimal::from(before)).round_dp(10)
                };
                let change = spend - baseline;
                (change > Decimal::ZERO).then(|| Mover {
                    dimension: dim,
                    value: value.clone(),
                    spend,
                    baseline,
                    change,
                })
            })
            .collect();
        moved.sort_by(|a, b| b.change.cmp(&a.change).then_with(|| a.value.cmp(&b.value)));
        moved.truncate(TOP_MOVERS);
        out.extend(moved);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key() -> Key {
        Key {
            account: "111111111111".into(),
            service: "AmazonEC2".into(),
            currency: "USD".into(),
        }
    }

    #[test]
    fn the_value_that_rose_most_comes_first_and_steady_ones_are_left_out() {
        // Day 5: BoxUsage rose from 10 a day to 100, DataTransfer stayed at 5, EBS from 2 to 4.
        let series = |v: [i64; 5]| {
            let mut s: Vec<Decimal> = v.iter().map(|&x| Decimal::from(x)).collect();
            s.resize(30, Decimal::ZERO);
            s
        };
        let usage = HashMap::from([
            (
                "BoxUsage:m5.large".to_string(),
                series([10, 10, 10, 10, 100]),
            ),
            (
                "DataTransfer-Out-Bytes".to_string(),
                series([5, 5, 5, 5, 5]),
            ),
            ("EBS:VolumeUsage".to_string(), series([2, 2, 2, 2, 4])),
        ]);
        let table = DriverTable {
            by_key: HashMap::from([(key(), HashMap::from([(Dimension::UsageType, usage)]))]),
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 5).unwrap();
        let m = movers(&table, &key(), day);
        let names: Vec<_> = m.iter().map(|m| (m.value.as_str(), m.change)).collect();
        assert_eq!(
            names,
            vec![
                ("BoxUsage:m5.large", Decimal::from(90)),
                ("EBS:VolumeUsage", Decimal::from(2))
            ]
        );
    }
}
