//! Budgets and their threshold crossings, pure (see docs/budgets.md).
//!
//! A [`Budget`] watches the spend of one [`Scope`] in one currency against a monthly amount.
//! Each [`Threshold`] is a [`Level`] (a percentage of the amount, or an absolute amount) on a
//! [`Basis`] (the actual month-to-date spend, or the forecast month-end spend). [`evaluate`]
//! turns a budget and the spend of one billing period into the [`Crossing`]s it has reached;
//! claims downstream make each crossing alert once.
//!
//! The parts: [`Scope`] in `scope`, [`Threshold`] and its [`Level`] and [`Basis`] in
//! `threshold`, their one spelling ([`parse_threshold`]) in `threshold_text`,
//! [`Budget::validate`] in `validate`, the one way to build a budget from input ([`Draft`],
//! [`Budget::checked`]) in `draft`, [`spent`], [`evaluate`] and [`Crossing`] in `evaluate`;
//! everything is re-exported here.

pub mod cost;
mod draft;
mod evaluate;
pub mod filter;
pub mod model;
mod scope;
pub mod span;
pub mod spec;
pub mod standing;
#[cfg(test)]
mod test_support;
mod threshold;
mod threshold_text;
mod validate;

pub use draft::{decimal, Draft};
pub use evaluate::{evaluate, spent, Crossing, MAX_ESCALATIONS};
pub use model::{Auto, Model};
pub use scope::Scope;
pub use threshold::{Basis, Level, Threshold};
pub use threshold_text::{parse_below, parse_threshold, ACCEPTED as THRESHOLD_FORMS};

use crate::report::Total;
use rust_decimal::Decimal;
use std::fmt;

/// A monthly budget: an amount in one currency over one scope, alerting at its thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// `[A-Za-z0-9._-]{1,100}`, unique.
    pub name: String,
    pub scope: Scope,
    /// Monthly, > 0.
    pub amount: Decimal,
    /// ISO 4217, 3 upper-case letters.
    pub currency: String,
    /// Non-empty.
    pub thresholds: Vec<Threshold>,
    /// A percentage: past 100 % of the amount (actual spend), alert again at 100 + k × step.
    pub escalation_step: Option<Decimal>,
    /// The SNS topic for this budget's alerts; None: the stack's topic.
    pub topic_arn: Option<String>,
    /// Whether the budget gets a digest (see `crate::digest`), and how often.
    pub digest: bool,
    pub digest_every: Every,
    /// The channels its alerts go to besides the SNS topic (`crate::channel`), by name; empty:
    /// the topic alone.
    pub channels: Vec<String>,
    /// What it counts beyond its scope: cost type, exclusions, filter, period, usage unit,
    /// automatic amount (the default: unblended monthly cost, as budgets always counted).
    pub model: model::Model,
}

/// How often a budget's digest is sent: every day (yesterday), or every week (the last complete
/// ISO week, Monday to Sunday, against the one before; see `crate::weekly_digest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Every {
    #[default]
    Day,
    Week,
}

impl Every {
    pub fn name(self) -> &'static str {
        match self {
            Every::Day => "daily",
            Every::Week => "weekly",
        }
    }
}

/// One thing wrong with a budget: the field (as named in the TOML file) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub reason: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl Budget {
    /// Whether a report total counts toward this budget: in its currency and its scope.
    pub fn covers(&self, total: &Total) -> bool {
        self.covers_line(&total.account_id, &total.service, &total.currency)
    }

    /// [`Budget::covers`] for any (account, service, currency) line, e.g. a stored total.
    pub fn covers_line(&self, account: &str, service: &str, currency: &str) -> bool {
        currency == self.currency && self.scope.covers(account, service)
    }

    /// The thresholds in a stable order (basis, kind, level), for display and comparison.
    pub fn sorted_thresholds(&self) -> Vec<Threshold> {
        let mut t = self.thresholds.clone();
        t.sort_by_key(Threshold::sort_key);
        t
    }

    /// The thresholds for people: `50%, 1000 USD, 80% forecast`.
    pub fn thresholds_text(&self) -> String {
        if let Some(crate::commitment::Watch::Expiry { .. }) = self.watch() {
            let days: Vec<String> = self
                .watch()
                .map(|w| w.days())
                .unwrap_or_default()
                .iter()
                .rev()
                .map(|d| format!("{d} days"))
                .collect();
            return days.join(", ");
        }
        let below = if self.watch().is_some() { "below " } else { "" };
        self.sorted_thresholds()
            .iter()
            .map(|t| format!("{below}{}", t.describe(&self.currency)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The one of `options` (name, value) called `name`, or an error naming `what` and every name.
fn by_name<T: Copy>(what: &str, name: &str, options: &[(&str, T)]) -> Result<T, String> {
    options
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            format!("unknown {what} {name:?}: one of {}", names.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::test_support::{abs, budget, pct};
    use super::*;

    #[test]
    fn thresholds_read_well() {
        let b = budget(
            Scope::All,
            "1000",
            &[pct("80").on(Basis::Forecast), abs("1000.50"), pct("50.0")],
        );
        assert_eq!(b.thresholds_text(), "50%, 1000.5 USD, 80% forecast");
    }
}
