//! The order `billwatch alerts` lists alerts in: when they were claimed (oldest first, like a
//! log), then by budget, basis and threshold as numbers, so that one delivery's 50, 80 and
//! 100 % alerts read 50, 80, 100 (their sort keys in the table order them 100, 50, 80).

use billwatch_aws::store::alerts::AlertRecord;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::str::FromStr;

/// The threshold of a budget alert's key (`team#actual#80` → 80); None for other alerts.
fn threshold(key: &str) -> Option<Decimal> {
    key.rsplit('#')
        .next()
        .and_then(|t| Decimal::from_str(t).ok())
}

fn compare(a: &AlertRecord, b: &AlertRecord) -> Ordering {
    a.claimed_at
        .cmp(&b.claimed_at)
        .then_with(|| a.budget.cmp(&b.budget))
        .then_with(|| a.basis.cmp(&b.basis))
        .then_with(|| threshold(&a.key).cmp(&threshold(&b.key)))
        .then_with(|| a.key.cmp(&b.key))
}

pub fn sort(alerts: &mut [AlertRecord]) {
    alerts.sort_by(compare);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_compare_as_numbers() {
        assert_eq!(threshold("team#actual#80"), Some(Decimal::from(80)));
        assert_eq!(
            threshold("team#actual#12.5"),
            Decimal::from_str("12.5").ok()
        );
        assert_eq!(threshold("health#silence#2026-11"), None);
        assert!(threshold("t#actual#50") < threshold("t#actual#100"));
    }
}
