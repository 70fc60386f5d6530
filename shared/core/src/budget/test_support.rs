//! Helpers shared by the budget unit tests.

use super::{Budget, Scope, Threshold};
use rust_decimal::Decimal;
use std::str::FromStr;

pub(super) const A: &str = "111111111111";

pub(super) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(super) fn budget(scope: Scope, amount: &str, thresholds: &[Threshold]) -> Budget {
    Budget {
        name: "team".into(),
        scope,
        amount: d(amount),
        currency: "USD".into(),
        thresholds: thresholds.to_vec(),
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: Vec::new(),
        digest_every: Default::default(),
        model: Default::default(),
    }
}

pub(super) fn pct(p: &str) -> Threshold {
    Threshold::percent(d(p))
}

pub(super) fn abs(a: &str) -> Threshold {
    Threshold::absolute(d(a))
}
