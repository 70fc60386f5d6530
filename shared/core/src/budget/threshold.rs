//! [`Threshold`]s: a [`Level`] (a percentage of the amount, or an absolute amount) on a
//! [`Basis`] (the actual month-to-date spend, or the forecast month-end spend).

use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// What a threshold compares: the month-to-date spend or the forecast month-end spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Basis {
    #[default]
    Actual,
    Forecast,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Actual => "actual",
            Basis::Forecast => "forecast",
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Basis {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "actual" => Ok(Basis::Actual),
            "forecast" => Ok(Basis::Forecast),
            other => Err(format!("'{other}' is not actual or forecast")),
        }
    }
}

/// Where a threshold lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// A percentage of the budget's amount, e.g. 80.
    Percent(Decimal),
    /// An amount in the budget's currency.
    Absolute(Decimal),
}

/// One alerting threshold of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold {
    pub level: Level,
    pub basis: Basis,
}

impl Threshold {
    /// `p` % of the amount, on the actual spend.
    pub fn percent(p: Decimal) -> Self {
        Self {
            level: Level::Percent(p),
            basis: Basis::Actual,
        }
    }

    /// An absolute amount, on the actual spend.
    pub fn absolute(a: Decimal) -> Self {
        Self {
            level: Level::Absolute(a),
            basis: Basis::Actual,
        }
    }

    /// The same level on another basis.
    pub fn on(self, basis: Basis) -> Self {
        Self { basis, ..self }
    }

    /// The level as a percentage of `amount`, normalized: the threshold's identity in claims
    /// (`250` of `1000` → `25`). Absolute levels are rounded to 6 decimal places. None when
    /// `amount` is not positive or the arithmetic overflows.
    pub fn level_percent(&self, amount: Decimal) -> Option<Decimal> {
        match self.level {
            Level::Percent(p) => Some(p.normalize()),
            Level::Absolute(a) => {
                if amount <= Decimal::ZERO {
                    return None;
                }
                a.checked_mul(Decimal::ONE_HUNDRED)?
                    .checked_div(amount)
                    .map(|p| p.round_dp(6).normalize())
            }
        }
    }

    /// The level in the budget's currency.
    pub fn level_amount(&self, amount: Decimal) -> Option<Decimal> {
        match self.level {
            Level::Percent(p) => amount
                .checked_mul(p)?
                .checked_div(Decimal::ONE_HUNDRED)
                .map(|v| v.normalize()),
            Level::Absolute(a) => Some(a.normalize()),
        }
    }

    /// For people and the CLI: `80%`, `250 USD`, with ` forecast` on that basis.
    pub fn describe(&self, currency: &str) -> String {
        let level = match self.level {
            Level::Percent(p) => format!("{}%", p.normalize()),
            Level::Absolute(a) => format!("{} {currency}", a.normalize()),
        };
        match self.basis {
            Basis::Actual => level,
            Basis::Forecast => format!("{level} forecast"),
        }
    }

    /// Orders thresholds for display and comparison: basis, then kind, then level.
    pub(super) fn sort_key(&self) -> (Basis, u8, Decimal) {
        match self.level {
            Level::Percent(p) => (self.basis, 0, p),
            Level::Absolute(a) => (self.basis, 1, a),
        }
    }
}
