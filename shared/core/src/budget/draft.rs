//! [`Draft`]: the one way a budget is built from input that may be wrong in several places at
//! once (a budgets file, `budgets put`'s flags, a stored item). Readers record each field they
//! cannot read; [`Draft::finish`] then adds the problems of [`Budget::validate`] that are not
//! already reported, and gives the budget only when there is none.

use super::{Basis, Budget, Problem, Threshold};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::str::FromStr;

/// Problems found so far while reading a budget, and the fields they were found in.
#[derive(Debug, Default)]
pub struct Draft {
    problems: Vec<Problem>,
    failed: HashSet<String>,
}

/// A decimal as written (`1000`, `1234.56`, `1e3`), or why it is not one.
pub fn decimal(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| format!("'{text}' is not a decimal number"))
}

impl Draft {
    /// Records that `field` could not be read, and why.
    pub fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.problems.push(Problem::new(field, reason));
        self.failed.insert(field.to_string());
    }

    /// Whether a problem was already recorded for `field`.
    pub fn has(&self, field: &str) -> bool {
        self.failed.contains(field)
    }

    /// The problems recorded so far.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// The comma-separated thresholds of a flag (`50%, 80%, 1000 USD`, on `basis` unless one
    /// says ` forecast`), read with [`super::parse_threshold`] (a bare number of at least 1 is
    /// a percentage); a problem on `field` for the first that does not read.
    pub fn threshold_list(
        &mut self,
        field: &str,
        text: &str,
        basis: Basis,
        currency: &str,
    ) -> Vec<Threshold> {
        let read: Result<Vec<Threshold>, String> = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let threshold = super::parse_threshold(t, currency, true)?;
                Ok(match basis {
                    Basis::Forecast => threshold.on(Basis::Forecast),
                    Basis::Actual => threshold,
                })
            })
            .collect();
        read.unwrap_or_else(|e| {
            self.fail(field, e);
            Vec::new()
        })
    }

    /// The budget when neither reading nor [`Budget::validate`] found a problem; otherwise
    /// every problem, each field once. `index[k]` is the input position (1-based) of the
    /// budget's threshold k + 1, so that messages name the thresholds as the input numbers
    /// them (some may have been dropped for not reading).
    pub fn finish(mut self, budget: Budget, index: &[usize]) -> Result<Budget, Vec<Problem>> {
        if let Err(found) = budget.validate() {
            let scope_failed = ["scope", "account", "service", "tag"]
                .iter()
                .any(|f| self.has(f));
            let thresholds_failed = self
                .failed
                .iter()
                .any(|f| f.starts_with("thresholds") || f == "forecast-thresholds");
            for mut p in found {
                if let Some(k) = p
                    .field
                    .strip_prefix("thresholds #")
                    .and_then(|k| k.parse::<usize>().ok())
                {
                    p.field = format!("thresholds #{}", position(index, k));
                    p.reason = renumber(&p.reason, index);
                }
                let skip = self.has(&p.field)
                    || (p.field == "thresholds" && thresholds_failed)
                    || (matches!(p.field.as_str(), "account" | "service" | "tag") && scope_failed);
                if !skip {
                    self.problems.push(p);
                }
            }
        }
        if self.problems.is_empty() {
            Ok(budget)
        } else {
            Err(self.problems)
        }
    }
}

impl Budget {
    /// This budget if it is valid, else every problem ([`Draft::finish`] with nothing read
    /// wrong): for a budget built whole, e.g. from a stored item.
    pub fn checked(self) -> Result<Budget, Vec<Problem>> {
        let index: Vec<usize> = (1..=self.thresholds.len()).collect();
        Draft::default().finish(self, &index)
    }
}

/// The input position of threshold `k` (1-based), `k` itself when `index` does not say.
fn position(index: &[usize], k: usize) -> usize {
    k.checked_sub(1)
        .and_then(|i| index.get(i))
        .copied()
        .unwrap_or(k)
}

/// "thresholds #k" inside a message, renumbered to the input's positions.
fn renumber(reason: &str, index: &[usize]) -> String {
    let Some((before, after)) = reason.split_once("thresholds #") else {
        return reason.to_string();
    };
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(k) if k >= 1 && k <= index.len() => format!(
            "{before}thresholds #{}{}",
            index[k - 1],
            &after[digits.len()..]
        ),
        _ => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::test_support::{budget, d, pct};
    use crate::budget::Scope;

    #[test]
    fn a_valid_budget_is_built() {
        let b = budget(Scope::All, "1000", &[pct("50"), pct("80")]);
        assert_eq!(b.clone().checked(), Ok(b));
    }

    #[test]
    fn every_problem_is_named_once_with_the_inputs_numbering() {
        let mut draft = Draft::default();
        // The input's threshold #2 did not read; #1 and #3 did, and are the same level.
        draft.fail("thresholds #2", "'x' is not a threshold");
        let b = Budget {
            amount: d("-1"),
            ..budget(Scope::All, "1000", &[pct("50"), pct("50")])
        };
        let problems: Vec<String> = draft
            .finish(b, &[1, 3])
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "thresholds #2: 'x' is not a threshold",
                "amount: must be greater than zero, got -1",
                "thresholds #3: the same level as thresholds #1 (50% of the amount, actual)",
            ]
        );
    }

    #[test]
    fn a_field_that_did_not_read_is_not_reported_again_by_validation() {
        let mut draft = Draft::default();
        draft.fail("thresholds", "'0.8' is a bare number below 1");
        let b = budget(Scope::All, "10", &[]);
        let problems = draft.finish(b, &[]).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn flag_thresholds_read_on_their_basis_and_refuse_a_bare_fraction() {
        let mut draft = Draft::default();
        let t = draft.threshold_list("thresholds", "50%, 80, 1000 USD", Basis::Actual, "USD");
        assert_eq!(t.len(), 3);
        let f = draft.threshold_list("forecast-thresholds", "90%", Basis::Forecast, "USD");
        assert_eq!(f[0].basis, Basis::Forecast);
        assert!(draft.into_problems().is_empty());
        let mut draft = Draft::default();
        assert!(draft
            .threshold_list("thresholds", "0.8", Basis::Actual, "USD")
            .is_empty());
        let problems = draft.into_problems();
        assert_eq!(problems[0].field, "thresholds");
        assert!(problems[0].reason.contains("\"80%\""), "{problems:?}");
    }

    #[test]
    fn decimals_read_as_written() {
        assert_eq!(decimal(" 1234.56 "), Ok(d("1234.56")));
        assert_eq!(decimal("1e3"), Ok(d("1000")));
        assert_eq!(decimal("ten"), Err("'ten' is not a decimal number".into()));
    }
}
