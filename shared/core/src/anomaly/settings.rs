//! How sensitive anomaly detection is, and the floors a spike must clear, globally and per
//! scope (the `[anomalies]` table of the budgets file; docs/anomalies.md).
//!
//! Defaults, and why:
//! * `sensitivity = 4`: a day must lie more than 4 robust standard deviations (1.4826 × the
//!   median absolute deviation, which equals σ for normal noise) above the median of its
//!   baseline. Daily cost is noisy and heavy-tailed; 3 fires on ordinary busy days of a
//!   noisy service, 5 misses doublings of services whose cost swings ±25 %.
//! * `min_impact = 20`: a day must cost at least 20 units of its currency more than its
//!   baseline median: below that a human's time costs more than the spike.
//! * `min_increase_percent = 50`: and at least 50 % more than the median: a 10 % bump of a
//!   large service clears the money floor without being news.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The settings one series is judged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub enabled: bool,
    /// How many robust standard deviations above the baseline median a day must be.
    pub sensitivity: Decimal,
    /// The least extra spend over the baseline median, in the series' currency.
    pub min_impact: Decimal,
    /// The least increase over the baseline median, in percent.
    pub min_increase_percent: Decimal,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: true,
            sensitivity: Decimal::from(4),
            min_impact: Decimal::from(20),
            min_increase_percent: Decimal::from(50),
        }
    }
}

/// Overrides of some settings (a field left out keeps the wider scope's value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub enabled: Option<bool>,
    pub sensitivity: Option<Decimal>,
    pub min_impact: Option<Decimal>,
    pub min_increase_percent: Option<Decimal>,
}

impl Overrides {
    fn over(&self, base: Settings) -> Settings {
        Settings {
            enabled: self.enabled.unwrap_or(base.enabled),
            sensitivity: self.sensitivity.unwrap_or(base.sensitivity),
            min_impact: self.min_impact.unwrap_or(base.min_impact),
            min_increase_percent: self
                .min_increase_percent
                .unwrap_or(base.min_increase_percent),
        }
    }

    fn problems(&self, at: &str, out: &mut Vec<String>) {
        let positive = |name: &str, v: Option<Decimal>, out: &mut Vec<String>| {
            if v.is_some_and(|v| v <= Decimal::ZERO) {
                out.push(format!("{at}.{name}: must be greater than 0"));
            }
        };
        positive("sensitivity", self.sensitivity, out);
        if self.min_impact.is_some_and(|v| v < Decimal::ZERO) {
            out.push(format!("{at}.min_impact: must be 0 or more"));
        }
        if self.min_increase_percent.is_some_and(|v| v < Decimal::ZERO) {
            out.push(format!("{at}.min_increase_percent: must be 0 or more"));
        }
    }
}

/// Settings for one account, one service, or one service in one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scoped {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_impact: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_increase_percent: Option<Decimal>,
}

impl Scoped {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            enabled: self.enabled,
            sensitivity: self.sensitivity,
            min_impact: self.min_impact,
            min_increase_percent: self.min_increase_percent,
        }
    }
}

/// The whole `[anomalies]` table: global overrides and `[[anomalies.scope]]` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_impact: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_increase_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<Scoped>,
}

impl Config {
    /// The global overrides.
    pub fn global(&self) -> Overrides {
        Overrides {
            enabled: self.enabled,
            sensitivity: self.sensitivity,
            min_impact: self.min_impact,
            min_increase_percent: self.min_increase_percent,
        }
    }

    /// The settings of one (account, service): the most specific scope that names it (account
    /// and service, then service, then account) over the global settings over the defaults.
    pub fn settings_for(&self, account: &str, service: &str) -> Settings {
        let base = self.global().over(Settings::default());
        let rank = |s: &Scoped| -> Option<u8> {
            let a = s.account.as_deref().map(|a| a == account);
            let v = s.service.as_deref().map(|v| v == service);
            match (a, v) {
                (Some(true), Some(true)) => Some(3),
                (None, Some(true)) => Some(2),
                (Some(true), None) => Some(1),
                _ => None,
            }
        };
        let mut matching: Vec<(u8, &Scoped)> = self
            .scope
            .iter()
            .filter_map(|s| rank(s).map(|r| (r, s)))
            .collect();
        matching.sort_by_key(|(r, _)| *r);
        matching
            .into_iter()
            .fold(base, |settings, (_, s)| s.overrides().over(settings))
    }

    /// Everything wrong with the table, each naming its field.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.global().problems("anomalies", &mut out);
        for (i, s) in self.scope.iter().enumerate() {
            let at = format!("anomalies.scope[{i}]");
            if s.account.is_none() && s.service.is_none() {
                out.push(format!("{at}: name an account, a service or both"));
            }
            if let Some(a) = &s.account {
                if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                    out.push(format!("{at}.account: '{a}' is not a 12-digit account id"));
                }
            }
            s.overrides().problems(&at, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    #[test]
    fn the_most_specific_scope_wins_field_by_field() {
        let c = Config {
            min_impact: Some(d(50)),
            scope: vec![
                Scoped {
                    account: Some("111111111111".into()),
                    service: Some("AmazonEC2".into()),
                    sensitivity: Some(d(6)),
                    ..Scoped::default()
                },
                Scoped {
                    service: Some("AmazonEC2".into()),
                    enabled: Some(false),
                    sensitivity: Some(d(3)),
                    ..Scoped::default()
                },
            ],
            ..Config::default()
        };
        let s = c.settings_for("111111111111", "AmazonEC2");
        assert_eq!(
            (s.enabled, s.sensitivity, s.min_impact),
            (false, d(6), d(50))
        );
        let other = c.settings_for("222222222222", "AmazonEC2");
        assert_eq!((other.enabled, other.sensitivity), (false, d(3)));
        let s3 = c.settings_for("111111111111", "AmazonS3");
        assert_eq!(
            s3,
            Settings {
                min_impact: d(50),
                ..Settings::default()
            }
        );
    }

    #[test]
    fn bad_values_are_named() {
        let c = Config {
            sensitivity: Some(d(0)),
            scope: vec![Scoped {
                account: Some("12".into()),
                ..Scoped::default()
            }],
            ..Config::default()
        };
        assert_eq!(
            c.problems(),
            vec![
                "anomalies.sensitivity: must be greater than 0".to_string(),
                "anomalies.scope[0].account: '12' is not a 12-digit account id".to_string(),
            ]
        );
    }
}
