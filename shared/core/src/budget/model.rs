//! [`Model`]: what a budget counts beyond its scope — the cost type and the charge kinds it
//! leaves out, a team's filter, its period, a usage unit, and an amount that follows the past.
//! The default model is what every budget counted before: unblended monthly cost of its scope,
//! so an older budgets file or stored item means what it always meant.

use super::cost::Measure;
use super::filter::{Filter, Source, Values};
use super::span::Cadence;
use super::spec::Spec;
use super::{Budget, Problem, Scope};
use crate::commitment::Watch;
use std::collections::BTreeMap;

/// An amount set from the budget's own past: the mean of its last `months` complete months'
/// actual spend (`amount = { auto = "mean", months = 3 }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auto {
    /// 1 to 24.
    pub months: u32,
}

/// How many past months an automatic amount may look back over.
pub const AUTO_MONTHS_MAX: u32 = 24;

/// What a budget counts beyond its scope (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Model {
    pub measure: Measure,
    pub filter: Filter,
    pub cadence: Cadence,
    /// A usage budget's unit (`kind = "usage"`, `unit = "GB-Mo"`): the amount and thresholds are
    /// quantities of it, and the budget's currency is the unit.
    pub unit: Option<String>,
    pub auto: Option<Auto>,
    /// A commitment budget (`kind = "ri_utilization"`, `"commitment_expiry"`, …): it watches
    /// a gauge of the report's commitments, or their end dates, not a spend.
    pub watch: Option<Watch>,
}

impl Model {
    /// Whether this is the model of a plain monthly unblended budget (summed from the totals,
    /// as budgets always were).
    pub fn is_plain(&self) -> bool {
        *self == Model::default()
    }
}

impl Budget {
    /// Whether the engine sums this budget in its pass (anything but the plain model); a plain
    /// budget is summed from the report's totals and tag totals, as before.
    pub fn summed_in_pass(&self) -> bool {
        !self.model.is_plain() && self.model.watch.is_none()
    }

    /// What a commitment budget watches; `None` for a budget on spend or usage.
    pub fn watch(&self) -> Option<&Watch> {
        self.model.watch.as_ref()
    }

    /// What the engine evaluates for this budget: its filter narrowed by its scope (an
    /// `account`, `service` or `tag` written beside a filter), its measure and its unit.
    pub fn spec(&self) -> Result<Spec, Problem> {
        let mut filter = self.model.filter.clone();
        for (source, value) in scope_rules(&self.scope) {
            filter = filter
                .narrowed(source, vec![value])
                .map_err(|e| Problem::new("filter", e))?;
        }
        Ok(Spec {
            name: self.name.clone(),
            filter,
            measure: self.model.measure.clone(),
            unit: self.model.unit.clone(),
        })
    }

    /// What the budget counts, in words, for messages and listings: "amortized cost, quarterly,
    /// without credits and tax, filter accounts = [111111111111]". Empty for a plain budget.
    pub fn model_text(&self) -> String {
        let m = &self.model;
        if m.is_plain() {
            return String::new();
        }
        let mut parts = Vec::new();
        if let Some(w) = &m.watch {
            parts.push(match w {
                Watch::Gauge(g) => g.words().to_string(),
                Watch::Expiry { .. } => format!(
                    "commitment expiry, {} days before each end",
                    w.days()
                        .iter()
                        .rev()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            if !m.filter.is_empty() {
                parts.push(format!("filter {}", filter_text(&m.filter)));
            }
            return parts.join(", ");
        }
        parts.push(match &m.unit {
            Some(unit) => format!("usage in {unit}"),
            None => format!("{} cost", m.measure.cost),
        });
        if m.cadence != Cadence::Monthly {
            parts.push(m.cadence.name().to_string());
        }
        if !m.measure.exclude.is_empty() {
            parts.push(format!("without {}", m.measure.exclude_names().join(", ")));
        }
        if !m.filter.is_empty() {
            parts.push(format!("filter {}", filter_text(&m.filter)));
        }
        if let Some(auto) = m.auto {
            parts.push(format!("amount: mean of the last {} months", auto.months));
        }
        parts.join(", ")
    }

    pub(super) fn check_model(&self, problems: &mut Vec<Problem>) {
        let m = &self.model;
        if let Some(w) = &m.watch {
            self.check_watch(w, problems);
            return;
        }
        if let Err(p) = self.spec() {
            problems.push(p);
        }
        if let Some(unit) = &m.unit {
            if unit.is_empty() || unit.len() > 40 || unit.chars().any(char::is_control) {
                problems.push(Problem::new(
                    "unit",
                    format!("'{unit}' is not a pricing unit like GB-Mo or Hrs"),
                ));
            }
            if m.measure != Measure::default() {
                problems.push(Problem::new(
                    "cost",
                    "a usage budget counts a quantity: cost and exclude do not apply",
                ));
            }
        }
        if let Some(auto) = m.auto {
            if auto.months == 0 || auto.months > AUTO_MONTHS_MAX {
                problems.push(Problem::new(
                    "amount",
                    format!(
                        "auto: months must be 1 to {AUTO_MONTHS_MAX}, got {}",
                        auto.months
                    ),
                ));
            }
        }
        if m.cadence == Cadence::Daily
            && self
                .thresholds
                .iter()
                .any(|t| t.basis == super::Basis::Forecast)
        {
            problems.push(Problem::new(
                "thresholds",
                "a daily budget has no forecast: use actual thresholds",
            ));
        }
    }
}

impl Budget {
    /// A commitment budget: its kind's own rules (monthly, no cost type, unit or automatic
    /// amount; a gauge's lines are percentages under which it alerts; an expiry budget's are its
    /// lead times).
    fn check_watch(&self, w: &Watch, problems: &mut Vec<Problem>) {
        let m = &self.model;
        let kind = w.kind_name();
        if m.cadence != Cadence::Monthly {
            problems.push(Problem::new(
                "period",
                format!("a {kind} budget is watched per month: leave period out"),
            ));
        }
        if m.measure != Measure::default() || m.unit.is_some() || m.auto.is_some() {
            problems.push(Problem::new(
                "kind",
                format!("a {kind} budget has no cost type, exclusions, unit or automatic amount"),
            ));
        }
        if self.scope != Scope::All {
            problems.push(Problem::new(
                "scope",
                format!("a {kind} budget selects with [budget.filter] (accounts, services)"),
            ));
        }
        if self.escalation_step.is_some() {
            problems.push(Problem::new(
                "escalation_step",
                format!("a {kind} budget does not escalate"),
            ));
        }
        for (field, reason) in w.problems(&m.filter) {
            problems.push(Problem::new(field, reason));
        }
        if self.digest && self.digest_every == super::Every::Week {
            problems.push(Problem::new(
                "digest",
                format!("a {kind} budget's digest is daily: write digest = \"daily\""),
            ));
        }
        match w {
            Watch::Gauge(_) => {
                for (i, t) in self.thresholds.iter().enumerate() {
                    let ok = t.basis == super::Basis::Actual
                        && matches!(t.level, super::Level::Percent(p)
                            if p > rust_decimal::Decimal::ZERO && p <= rust_decimal::Decimal::ONE_HUNDRED);
                    if !ok {
                        problems.push(Problem::new(
                            format!("thresholds #{}", i + 1),
                            format!(
                                "a {kind} budget alerts below a percentage of 0 to 100: write \"below 90%\""
                            ),
                        ));
                    }
                }
            }
            Watch::Expiry { .. } => {
                if !self.thresholds.is_empty() {
                    problems.push(Problem::new(
                        "thresholds",
                        "an expiry budget warns at its lead times (days = [60, 30, 7]): leave thresholds out",
                    ));
                }
                if self.digest {
                    problems.push(Problem::new(
                        "digest",
                        "an expiry budget has no daily figure to digest",
                    ));
                }
            }
        }
    }
}

/// The scope as filter rules.
fn scope_rules(scope: &Scope) -> Vec<(Source, String)> {
    use super::filter::{Dimension, Keyed};
    match scope {
        Scope::All => Vec::new(),
        Scope::Account(a) => vec![(Source::Plain(Dimension::Account), a.clone())],
        Scope::Service(s) => vec![(Source::Plain(Dimension::Service), s.clone())],
        Scope::AccountService { account, service } => vec![
            (Source::Plain(Dimension::Account), account.clone()),
            (Source::Plain(Dimension::Service), service.clone()),
        ],
        Scope::Tag { key, value } => {
            vec![(Source::Keyed(Keyed::Tag, key.clone()), value.clone())]
        }
    }
}

/// A filter as the budgets file writes it: `accounts = [..], tags = { team = [..] }`.
pub fn filter_text(filter: &Filter) -> String {
    let table: BTreeMap<String, Values> = filter.clone().into();
    table
        .iter()
        .map(|(k, v)| match v {
            Values::List(list) => format!("{k} = {list:?}"),
            Values::PerName(map) => {
                let inner: Vec<String> = map.iter().map(|(n, l)| format!("{n} = {l:?}")).collect();
                format!("{k} = {{ {} }}", inner.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
