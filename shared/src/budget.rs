//! Budgets and their threshold crossings, pure over a report summary.

use crate::report::ReportSummary;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Which spend a budget watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every account of the payer.
    All,
    Account(String),
}

impl Scope {
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "" | "all" | "*" => Scope::All,
            account => Scope::Account(account.to_string()),
        }
    }

    pub fn as_text(&self) -> &str {
        match self {
            Scope::All => "all",
            Scope::Account(a) => a,
        }
    }

    pub fn covers(&self, account: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Account(a) => a == account,
        }
    }
}

/// A monthly budget: an amount in one currency, alerting at percentage thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub name: String,
    pub scope: Scope,
    pub amount: Decimal,
    pub currency: String,
    /// Percentages of `amount`, e.g. 50, 80, 100.
    pub thresholds: Vec<Decimal>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BudgetError {
    #[error("budget name must be 1-100 characters of letters, digits, '-', '_' or '.', got '{0}'")]
    Name(String),
    #[error("budget '{0}': amount must be greater than zero")]
    Amount(String),
    #[error("budget '{0}': currency must be a 3-letter code like USD")]
    Currency(String),
    #[error("budget '{0}': needs at least one threshold, each greater than zero")]
    Thresholds(String),
}

impl Budget {
    pub fn validate(&self) -> Result<(), BudgetError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 100
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(BudgetError::Name(self.name.clone()));
        }
        if self.amount <= Decimal::ZERO {
            return Err(BudgetError::Amount(self.name.clone()));
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(BudgetError::Currency(self.name.clone()));
        }
        if self.thresholds.is_empty() || self.thresholds.iter().any(|t| *t <= Decimal::ZERO) {
            return Err(BudgetError::Thresholds(self.name.clone()));
        }
        Ok(())
    }
}

/// A threshold a budget's spend has reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub budget: Budget,
    pub period: String,
    pub threshold: Decimal,
    pub spent: Decimal,
    /// Spend as a percentage of the budget, rounded to 0.1.
    pub percent: Decimal,
}

/// The budget's spend in this report: Σ totals in its scope and currency.
pub fn spent(budget: &Budget, summary: &ReportSummary) -> Decimal {
    summary
        .totals
        .iter()
        .filter(|t| t.currency == budget.currency && budget.scope.covers(&t.account_id))
        .map(|t| t.cost)
        .sum()
}

/// Every threshold reached by each budget (claims downstream make each alert once).
pub fn crossings(budgets: &[Budget], summary: &ReportSummary) -> Vec<Crossing> {
    let Some(period) = summary.billing_period.clone() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for budget in budgets {
        let spent = spent(budget, summary);
        let percent = (spent * Decimal::ONE_HUNDRED / budget.amount).round_dp(1);
        let mut thresholds = budget.thresholds.clone();
        thresholds.sort();
        thresholds.dedup();
        for threshold in thresholds {
            if spent * Decimal::ONE_HUNDRED >= budget.amount * threshold {
                out.push(Crossing {
                    budget: budget.clone(),
                    period: period.clone(),
                    threshold,
                    spent,
                    percent,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Format, Status, Total};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn summary(totals: &[(&str, &str, &str)]) -> ReportSummary {
        ReportSummary {
            source: "s".into(),
            format: Format::Cur1,
            payer_account_id: Some("1".into()),
            billing_period: Some("2026-11".into()),
            status: Status::Estimated,
            as_of: None,
            rows_read: 0,
            rows_summed: 0,
            totals: totals
                .iter()
                .map(|(a, c, cost)| Total {
                    account_id: a.to_string(),
                    service: "AmazonEC2".into(),
                    service_name: "EC2".into(),
                    currency: c.to_string(),
                    cost: d(cost),
                    breakdown: Default::default(),
                })
                .collect(),
            grand_totals: vec![],
            checks: vec![],
            objects_read: 1,
            delivery_id: None,
        }
    }

    fn budget(scope: Scope, amount: &str, thresholds: &[&str]) -> Budget {
        Budget {
            name: "team".into(),
            scope,
            amount: d(amount),
            currency: "USD".into(),
            thresholds: thresholds.iter().map(|t| d(t)).collect(),
        }
    }

    #[test]
    fn crossings_count_scope_and_currency_only() {
        let s = summary(&[
            ("111", "USD", "60"),
            ("222", "USD", "30"),
            ("111", "EUR", "500"),
        ]);
        let all = budget(Scope::All, "100", &["50", "80", "100"]);
        let got: Vec<_> = crossings(&[all], &s).iter().map(|c| c.threshold).collect();
        assert_eq!(got, [d("50"), d("80")]);
        let one = budget(Scope::Account("111".into()), "100", &["50", "80"]);
        let c = crossings(&[one], &s);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].spent, d("60"));
        assert_eq!(c[0].percent, d("60.0"));
    }

    #[test]
    fn exactly_at_the_threshold_crosses() {
        let s = summary(&[("111", "USD", "80.00")]);
        assert_eq!(
            crossings(&[budget(Scope::All, "100", &["80"])], &s).len(),
            1
        );
        let s = summary(&[("111", "USD", "79.999999")]);
        assert!(crossings(&[budget(Scope::All, "100", &["80"])], &s).is_empty());
    }

    #[test]
    fn invalid_budgets_are_refused() {
        assert!(budget(Scope::All, "100", &["80"]).validate().is_ok());
        assert_eq!(
            budget(Scope::All, "0", &["80"]).validate(),
            Err(BudgetError::Amount("team".into()))
        );
        assert_eq!(
            budget(Scope::All, "10", &[]).validate(),
            Err(BudgetError::Thresholds("team".into()))
        );
        let mut b = budget(Scope::All, "10", &["50"]);
        b.currency = "usd".into();
        assert!(b.validate().is_err());
        b.currency = "USD".into();
        b.name = "a b".into();
        assert!(b.validate().is_err());
    }
}
