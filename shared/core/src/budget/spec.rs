//! What a budget asks of each report line, and what the engine answers for it.
//!
//! A [`Spec`] is a budget as the report engine sees it: which lines count ([`Filter`]), what
//! each counts for ([`Measure`]: a cost type less the charge kinds left out, or a quantity of
//! one usage unit). The engine answers a [`Figures`] per spec and billing period: the spend per
//! currency (or the quantity, for a usage budget), month to date and per day of the month, or
//! why this report cannot answer it (a column it lacks), never a silent zero.

use super::cost::{CostType, Measure};
use super::filter::Filter;
use rust_decimal::Decimal;
use std::sync::Arc;

/// A budget as the engine evaluates it on each line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    pub name: String,
    pub filter: Filter,
    pub measure: Measure,
    /// A usage budget's unit (`GB-Mo`, `Hrs`): it sums the quantity of usage lines of that
    /// unit, and ignores the measure's cost type.
    pub unit: Option<String>,
}

/// The specs a pass evaluates, shared by the threads that read it.
pub type Specs = Arc<[Spec]>;

/// The specs of the budgets the engine sums in its pass (a plain budget is summed from the
/// totals). A budget whose spec cannot be built is invalid and refused wherever a budget is
/// read or written (`Budget::validate`); it is left out here.
pub fn specs_of(budgets: &[super::Budget]) -> Specs {
    budgets
        .iter()
        .filter(|b| b.summed_in_pass())
        .filter_map(|b| b.spec().ok())
        .collect::<Vec<_>>()
        .into()
}

impl Spec {
    /// Whether the spec asks only what the totals already hold: unblended cost, a filter on
    /// accounts and services alone, and leaving out only kinds the totals keep apart (credits,
    /// refunds, tax, discounts, support). Legacy reports answer only such specs.
    pub fn from_totals(&self) -> bool {
        use super::cost::ChargeKind::*;
        self.unit.is_none()
            && self.measure.cost == CostType::Unblended
            && self.filter.plain_on_accounts_and_services()
            && self
                .measure
                .exclude
                .iter()
                .all(|k| matches!(k, Credit | Refund | Tax | Discount | Support))
    }
}

/// One currency's (or unit's) spend of a budget in one billing period.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Spend {
    /// A currency code, or a usage budget's unit.
    pub currency: String,
    /// Σ over the period to date, exact.
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    /// The part of `total` booked on no single day (fees, month-long lines, corrections),
    /// counted once by a forecast.
    #[serde(with = "rust_decimal::serde::str")]
    pub once: Decimal,
    /// Per day of the month, 1 to the month's last day (index 0 is day 1); empty when the
    /// report has no daily lines (legacy, DBR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Decimal>,
}

/// A budget's answer from one report and period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    pub name: String,
    /// The spend per currency, sorted; or why the report cannot answer the budget.
    pub answer: Result<Vec<Spend>, String>,
    /// What the user should know about the figure (lines of other units left out of a usage
    /// budget).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A commitment budget's gauge (utilization or coverage), when `answer` is `Ok` (its
    /// spends then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gauge: Option<crate::commitment::Gauged>,
}

impl Figures {
    /// Adds another delivery's figures of the same budget (another payer's, for one month):
    /// per currency, totals and days added; a reason either has is the sum's.
    pub fn merge(&mut self, other: &Figures) {
        self.notes.extend(other.notes.iter().cloned());
        match (&mut self.gauge, &other.gauge) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, Some(theirs)) if self.answer.is_ok() => self.gauge = Some(theirs.clone()),
            _ => {}
        }
        let theirs = match &other.answer {
            Err(why) => {
                if self.answer.is_ok() {
                    self.answer = Err(why.clone());
                }
                return;
            }
            Ok(theirs) => theirs,
        };
        let Ok(mine) = &mut self.answer else {
            return;
        };
        for t in theirs {
            match mine.iter_mut().find(|m| m.currency == t.currency) {
                Some(m) => {
                    m.total += t.total;
                    m.once += t.once;
                    if m.days.len() < t.days.len() {
                        m.days.resize(t.days.len(), Decimal::ZERO);
                    }
                    for (a, b) in m.days.iter_mut().zip(&t.days) {
                        *a += *b;
                    }
                }
                None => mine.push(t.clone()),
            }
        }
        mine.sort_by(|a, b| a.currency.cmp(&b.currency));
    }

    /// The spend in `currency` (zero when the budget's lines had none), or the reason the report
    /// cannot answer.
    pub fn spend_in(&self, currency: &str) -> Result<Spend, String> {
        match &self.answer {
            Ok(spends) => Ok(spends
                .iter()
                .find(|s| s.currency == currency)
                .cloned()
                .unwrap_or_else(|| Spend {
                    currency: currency.to_string(),
                    ..Spend::default()
                })),
            Err(why) => Err(why.clone()),
        }
    }
}
