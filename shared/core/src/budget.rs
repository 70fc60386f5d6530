//! Budgets and their threshold crossings, pure (see docs/budgets.md).
//!
//! A [`Budget`] watches the spend of one [`Scope`] in one currency against a monthly amount.
//! Each [`Threshold`] is a [`Level`] (a percentage of the amount, or an absolute amount) on a
//! [`Basis`] (the actual month-to-date spend, or the forecast month-end spend). [`evaluate`]
//! turns a budget and the spend of one billing period into the [`Crossing`]s it has reached;
//! claims downstream make each crossing alert once.

use crate::period::Period;
use crate::report::{ReportSummary, Total};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// At most this many escalation levels are reported for one evaluation: the highest ones.
/// (A tiny step on a budget far exceeded would otherwise mean thousands of alerts.)
pub const MAX_ESCALATIONS: u64 = 50;

/// Which spend a budget watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Every account of the payer.
    All,
    /// One account (12 digits).
    Account(String),
    /// One service (product code, e.g. `AmazonEC2`) in one account.
    AccountService { account: String, service: String },
    /// One service (product code) across every account.
    Service(String),
    /// A cost-allocation tag value. Report totals carry no tags yet, so a tag budget covers
    /// nothing (its spend is always zero) until they do.
    Tag { key: String, value: String },
}

impl Scope {
    /// Parses the text form of [`Scope::to_text`]: `all`, `account:<id>`,
    /// `account-service:<id>:<code>`, `service:<code>`, `tag:<key>=<value>`. The older stored
    /// form, a bare account id (and `""` or `*` for all), is read too.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if matches!(text, "" | "all" | "*") {
            return Ok(Scope::All);
        }
        if let Some(rest) = text.strip_prefix("account-service:") {
            return match rest.split_once(':') {
                Some((account, service)) => Ok(Scope::AccountService {
                    account: account.into(),
                    service: service.into(),
                }),
                None => Err(format!(
                    "scope '{text}': expected account-service:<account>:<service>"
                )),
            };
        }
        if let Some(account) = text.strip_prefix("account:") {
            return Ok(Scope::Account(account.into()));
        }
        if let Some(service) = text.strip_prefix("service:") {
            return Ok(Scope::Service(service.into()));
        }
        if let Some(tag) = text.strip_prefix("tag:") {
            return Scope::tag(tag).map_err(|e| format!("scope '{text}': {e}"));
        }
        if !text.contains(':') {
            return Ok(Scope::Account(text.into()));
        }
        Err(format!(
            "scope '{text}' is not one of all, account:<id>, account-service:<id>:<code>, \
             service:<code>, tag:<key>=<value>"
        ))
    }

    /// A tag scope from `KEY=VALUE` (split at the first `=`; the value may be empty).
    pub fn tag(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((key, value)) => Ok(Scope::Tag {
                key: key.into(),
                value: value.into(),
            }),
            None => Err(format!("'{text}' is not KEY=VALUE")),
        }
    }

    /// The scope from the separate `account`, `service` and `tag` settings of the CLI and the
    /// TOML file (none of them: every account). Errors name the offending setting.
    pub fn from_parts(
        account: Option<String>,
        service: Option<String>,
        tag: Option<String>,
    ) -> Result<Self, Problem> {
        match (account, service, tag) {
            (None, None, None) => Ok(Scope::All),
            (Some(account), None, None) => Ok(Scope::Account(account)),
            (Some(account), Some(service), None) => Ok(Scope::AccountService { account, service }),
            (None, Some(service), None) => Ok(Scope::Service(service)),
            (None, None, Some(tag)) => Scope::tag(&tag).map_err(|e| Problem::new("tag", e)),
            (_, _, Some(_)) => Err(Problem::new(
                "tag",
                "cannot be combined with account or service",
            )),
        }
    }

    /// The stored text form (see [`Scope::parse`]).
    pub fn to_text(&self) -> String {
        match self {
            Scope::All => "all".into(),
            Scope::Account(a) => format!("account:{a}"),
            Scope::AccountService { account, service } => {
                format!("account-service:{account}:{service}")
            }
            Scope::Service(s) => format!("service:{s}"),
            Scope::Tag { key, value } => format!("tag:{key}={value}"),
        }
    }

    /// For people: "all accounts", "account 123456789012", "AmazonEC2 in account …", …
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "all accounts".into(),
            Scope::Account(a) => format!("account {a}"),
            Scope::AccountService { account, service } => format!("{service} in account {account}"),
            Scope::Service(s) => format!("{s} in all accounts"),
            Scope::Tag { key, value } => format!("tag {key}={value}"),
        }
    }

    /// The one account the scope is limited to, if any.
    pub fn account(&self) -> Option<&str> {
        match self {
            Scope::Account(a) | Scope::AccountService { account: a, .. } => Some(a),
            _ => None,
        }
    }

    /// The one service the scope is limited to, if any.
    pub fn service(&self) -> Option<&str> {
        match self {
            Scope::Service(s) | Scope::AccountService { service: s, .. } => Some(s),
            _ => None,
        }
    }

    /// Whether spend of this account and service (product code) is in the scope. A tag scope
    /// covers no per-service total: its spend comes from the report's tag columns (`spent`).
    pub fn covers(&self, account: &str, service: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Account(a) => a == account,
            Scope::AccountService {
                account: a,
                service: s,
            } => a == account && s == service,
            Scope::Service(s) => s == service,
            Scope::Tag { .. } => false,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

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
        f.write_str(self.as_str())
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
    fn sort_key(&self) -> (Basis, u8, Decimal) {
        match self.level {
            Level::Percent(p) => (self.basis, 0, p),
            Level::Absolute(a) => (self.basis, 1, a),
        }
    }
}

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

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn check_service(field: &str, service: &str, problems: &mut Vec<Problem>) {
    if service.is_empty() {
        problems.push(Problem::new(field, "must not be empty"));
    } else if service.trim() != service || service.chars().any(char::is_control) {
        problems.push(Problem::new(
            field,
            format!("'{service}' is not a product code like AmazonEC2"),
        ));
    }
}

impl Budget {
    /// Checks every field; returns every problem found, not just the first.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 100
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            problems.push(Problem::new(
                "name",
                format!(
                    "'{}' is not 1-100 letters, digits, '-', '_' or '.'",
                    self.name
                ),
            ));
        }
        if self.amount <= Decimal::ZERO {
            problems.push(Problem::new(
                "amount",
                format!("must be greater than zero, got {}", self.amount.normalize()),
            ));
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            problems.push(Problem::new(
                "currency",
                format!(
                    "'{}' is not a 3-letter ISO 4217 code like USD",
                    self.currency
                ),
            ));
        }
        match &self.scope {
            Scope::All => {}
            Scope::Account(a) | Scope::AccountService { account: a, .. } if !is_account_id(a) => {
                problems.push(Problem::new(
                    "account",
                    format!("'{a}' is not a 12-digit account id"),
                ));
            }
            _ => {}
        }
        if let Some(service) = self.scope.service() {
            check_service("service", service, &mut problems);
        }
        if let Scope::Tag { key, value } = &self.scope {
            if key.is_empty() {
                problems.push(Problem::new("tag", "the tag key must not be empty"));
            }
            if key.chars().chain(value.chars()).any(char::is_control) {
                problems.push(Problem::new("tag", "must not contain control characters"));
            }
        }
        if self.thresholds.is_empty() {
            problems.push(Problem::new("thresholds", "needs at least one threshold"));
        }
        let mut seen: Vec<(Basis, Decimal, usize)> = Vec::new();
        for (i, t) in self.thresholds.iter().enumerate() {
            let field = format!("thresholds #{}", i + 1);
            let (kind, value) = match t.level {
                Level::Percent(p) => ("percent", p),
                Level::Absolute(a) => ("amount", a),
            };
            if value <= Decimal::ZERO {
                problems.push(Problem::new(
                    field,
                    format!(
                        "{kind} must be greater than zero, got {}",
                        value.normalize()
                    ),
                ));
                continue;
            }
            let Some(percent) = t.level_percent(self.amount) else {
                continue;
            };
            match seen.iter().find(|(b, p, _)| *b == t.basis && *p == percent) {
                Some((_, _, first)) => problems.push(Problem::new(
                    field,
                    format!(
                        "the same level as thresholds #{first} ({}% of the amount, {})",
                        percent, t.basis
                    ),
                )),
                None => seen.push((t.basis, percent, i + 1)),
            }
        }
        if let Some(step) = self.escalation_step {
            if step <= Decimal::ZERO {
                problems.push(Problem::new(
                    "escalation_step",
                    format!(
                        "must be a percentage greater than zero, got {}",
                        step.normalize()
                    ),
                ));
            }
        }
        if let Some(arn) = &self.topic_arn {
            let parts: Vec<&str> = arn.split(':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && !parts[1].is_empty()
                && parts[2] == "sns"
                && !parts[3].is_empty()
                && is_account_id(parts[4])
                && !parts[5].is_empty();
            if !ok {
                problems.push(Problem::new(
                    "topic_arn",
                    format!(
                        "'{arn}' is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"
                    ),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

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
        self.sorted_thresholds()
            .iter()
            .map(|t| t.describe(&self.currency))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A threshold a budget's spend has reached in one billing period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub budget: Budget,
    pub period: Period,
    pub basis: Basis,
    /// The threshold as a percentage of the amount, normalized (its identity in claims).
    pub level_percent: Decimal,
    /// The threshold in the budget's currency.
    pub level_amount: Decimal,
    /// Month-to-date spend in the scope.
    pub actual: Decimal,
    /// Forecast month-end spend, when one was given.
    pub forecast: Option<Decimal>,
    /// The basis value (actual or forecast) as a percentage of the amount, rounded to 0.1.
    pub percent: Decimal,
    /// An escalation level past 100 % (from `escalation_step`), not a configured threshold.
    pub escalation: bool,
}

impl Crossing {
    /// `<basis>#<level_percent>`, e.g. `actual#80`: one claim per key per budget and period.
    pub fn claim_key(&self) -> String {
        format!("{}#{}", self.basis, self.level_percent.normalize())
    }

    /// `<budget>:<period>:<basis>:<level_percent>`, stable across deliveries, for downstream
    /// de-duplication.
    pub fn alert_id(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.budget.name,
            self.period,
            self.basis,
            self.level_percent.normalize()
        )
    }
}

/// The budget's actual spend in this report: Σ totals in its scope and currency.
pub fn spent(budget: &Budget, summary: &ReportSummary) -> Decimal {
    if let Scope::Tag { key, value } = &budget.scope {
        // Tag spend comes from the report's tag columns (see `report::tags`).
        return summary
            .tag_totals
            .iter()
            .filter(|t| t.key == *key && t.value == *value && t.currency == budget.currency)
            .map(|t| t.cost)
            .sum();
    }
    summary
        .totals
        .iter()
        .filter(|t| budget.covers(t))
        .map(|t| t.cost)
        .sum()
}

/// `value` as a percentage of `amount`, rounded to 0.1 (None if it cannot be computed).
fn percent_of(value: Decimal, amount: Decimal) -> Option<Decimal> {
    value
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(amount)
        .map(|p| p.round_dp(1))
}

/// Whether `actual` reaches `100 + k × step` % of `amount`.
fn reaches(actual: Decimal, amount: Decimal, step: Decimal, k: u64) -> Option<Decimal> {
    let level = Decimal::from(k)
        .checked_mul(step)?
        .checked_add(Decimal::ONE_HUNDRED)?;
    let needed = amount.checked_mul(level)?;
    (actual.checked_mul(Decimal::ONE_HUNDRED)? >= needed).then_some(level)
}

/// The escalation levels (percent) that `actual` has reached: `100 + k × step` for k ≥ 1, at
/// most the [`MAX_ESCALATIONS`] highest.
fn escalation_levels(actual: Decimal, amount: Decimal, step: Decimal) -> Vec<Decimal> {
    if step <= Decimal::ZERO || amount <= Decimal::ZERO || actual < amount {
        return Vec::new();
    }
    let Some(over) = actual
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|v| v.checked_div(amount))
        .and_then(|p| p.checked_sub(Decimal::ONE_HUNDRED))
        .and_then(|p| p.checked_div(step))
    else {
        return Vec::new();
    };
    // The estimate may be off by one where the division rounded: settle it exactly.
    let Some(mut k_max) = over.floor().to_u64() else {
        return Vec::new();
    };
    while k_max > 0 && reaches(actual, amount, step, k_max).is_none() {
        k_max -= 1;
    }
    while reaches(actual, amount, step, k_max + 1).is_some() {
        k_max += 1;
    }
    let k_min = k_max.saturating_sub(MAX_ESCALATIONS - 1).max(1);
    (k_min..=k_max)
        .filter_map(|k| reaches(actual, amount, step, k))
        .map(|l| l.normalize())
        .collect()
}

/// Every threshold of `budget` reached in `period` by `actual` (month-to-date spend) or
/// `forecast` (month-end forecast), plus the escalation levels past 100 % (actual basis), in
/// order of basis then level, one per claim key. A value exactly at a level reaches it; a
/// forecast-basis threshold never crosses without a forecast.
pub fn evaluate(
    budget: &Budget,
    period: Period,
    actual: Decimal,
    forecast: Option<Decimal>,
) -> Vec<Crossing> {
    if budget.amount <= Decimal::ZERO {
        return Vec::new();
    }
    let crossing = |basis: Basis, level_percent: Decimal, level_amount: Decimal, escalation| {
        let value = match basis {
            Basis::Actual => actual,
            Basis::Forecast => forecast.unwrap_or_default(),
        };
        Crossing {
            budget: budget.clone(),
            period,
            basis,
            level_percent,
            level_amount,
            actual,
            forecast,
            percent: percent_of(value, budget.amount).unwrap_or_default(),
            escalation,
        }
    };
    let mut out = Vec::new();
    for t in &budget.thresholds {
        let value = match t.basis {
            Basis::Actual => Some(actual),
            Basis::Forecast => forecast,
        };
        let (Some(value), Some(level_percent), Some(level_amount)) = (
            value,
            t.level_percent(budget.amount),
            t.level_amount(budget.amount),
        ) else {
            continue;
        };
        if level_amount > Decimal::ZERO && value >= level_amount {
            out.push(crossing(t.basis, level_percent, level_amount, false));
        }
    }
    if let Some(step) = budget.escalation_step {
        for level in escalation_levels(actual, budget.amount, step) {
            let level_amount = (budget.amount * level / Decimal::ONE_HUNDRED).normalize();
            out.push(crossing(Basis::Actual, level, level_amount, true));
        }
    }
    // Configured thresholds first, so one at an escalation level keeps escalation = false.
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.claim_key()));
    out.sort_by(|a, b| {
        (a.basis, a.level_percent)
            .cmp(&(b.basis, b.level_percent))
            .then(a.escalation.cmp(&b.escalation))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Format, Status};

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn pd(s: &str) -> Period {
        s.parse().unwrap()
    }

    /// The actual-basis crossings of every budget in the report's own billing period, as
    /// ingest evaluates them (without a forecast). Empty without a period.
    fn crossings(budgets: &[Budget], summary: &ReportSummary) -> Vec<Crossing> {
        let Some(period) = summary.billing_period else {
            return Vec::new();
        };
        budgets
            .iter()
            .flat_map(|b| evaluate(b, period, spent(b, summary), None))
            .collect()
    }

    fn total(account: &str, service: &str, currency: &str, cost: &str) -> Total {
        Total {
            account_id: account.into(),
            service: service.into(),
            service_name: service.into(),
            currency: currency.into(),
            cost: d(cost),
            breakdown: Default::default(),
            daily_usage: None,
        }
    }

    fn summary(totals: Vec<Total>) -> ReportSummary {
        ReportSummary {
            source: "s".into(),
            format: Format::Cur1,
            payer_account_id: Some("1".into()),
            billing_period: Some(pd("2026-11")),
            status: Status::Estimated,
            as_of: None,
            rows_read: 0,
            rows_summed: 0,
            totals,
            grand_totals: vec![],
            checks: vec![],
            tag_totals: vec![],
            objects_read: 1,
            delivery_id: None,
        }
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    fn budget(scope: Scope, amount: &str, thresholds: &[Threshold]) -> Budget {
        Budget {
            name: "team".into(),
            scope,
            amount: d(amount),
            currency: "USD".into(),
            thresholds: thresholds.to_vec(),
            escalation_step: None,
            topic_arn: None,
        }
    }

    fn pct(p: &str) -> Threshold {
        Threshold::percent(d(p))
    }

    fn abs(a: &str) -> Threshold {
        Threshold::absolute(d(a))
    }

    fn keys(c: &[Crossing]) -> Vec<String> {
        c.iter().map(Crossing::claim_key).collect()
    }

    fn report() -> ReportSummary {
        summary(vec![
            total(A, "AmazonEC2", "USD", "60"),
            total(A, "AmazonS3", "USD", "5"),
            total(B, "AmazonEC2", "USD", "30"),
            total(A, "AmazonEC2", "EUR", "500"),
        ])
    }

    #[test]
    fn every_scope_sums_its_own_spend_in_its_currency() {
        let s = report();
        let spent_of = |scope| spent(&budget(scope, "100", &[pct("50")]), &s);
        assert_eq!(spent_of(Scope::All), d("95"));
        assert_eq!(spent_of(Scope::Account(A.into())), d("65"));
        assert_eq!(
            spent_of(Scope::AccountService {
                account: A.into(),
                service: "AmazonEC2".into()
            }),
            d("60")
        );
        assert_eq!(spent_of(Scope::Service("AmazonEC2".into())), d("90"));
        assert_eq!(spent_of(Scope::Service("AmazonRDS".into())), d("0"));
        // A tag budget's spend comes from the report's tag totals, in its currency only.
        assert_eq!(
            spent_of(Scope::Tag {
                key: "team".into(),
                value: "data".into()
            }),
            d("0")
        );
        let mut tagged = report();
        tagged.tag_totals = ["USD", "USD", "EUR"]
            .iter()
            .zip(["data", "web", "data"])
            .map(|(currency, value)| crate::report::tags::TagTotal {
                key: "team".into(),
                value: value.into(),
                currency: currency.to_string(),
                cost: d("7.25"),
            })
            .collect();
        let team_data = budget(
            Scope::Tag {
                key: "team".into(),
                value: "data".into(),
            },
            "100",
            &[pct("5")],
        );
        assert_eq!(spent(&team_data, &tagged), d("7.25"));
        let mut eur = budget(Scope::All, "100", &[pct("50")]);
        eur.currency = "EUR".into();
        assert_eq!(spent(&eur, &s), d("500"));
        assert!(eur.covers(&s.totals[3]) && !eur.covers(&s.totals[0]));
    }

    #[test]
    fn crossings_count_scope_and_currency_only() {
        let s = report();
        let all = budget(Scope::All, "100", &[pct("50"), pct("80"), pct("100")]);
        assert_eq!(keys(&crossings(&[all], &s)), ["actual#50", "actual#80"]);
        let one = budget(Scope::Account(A.into()), "100", &[pct("50"), pct("80")]);
        let c = crossings(&[one], &s);
        assert_eq!(keys(&c), ["actual#50"]);
        assert_eq!(c[0].actual, d("65"));
        assert_eq!(c[0].percent, d("65.0"));
        assert_eq!(c[0].level_amount, d("50"));
        assert_eq!(c[0].period, pd("2026-11"));
        assert_eq!(c[0].forecast, None);
        let ec2 = budget(Scope::Service("AmazonEC2".into()), "100", &[pct("90")]);
        assert_eq!(keys(&crossings(&[ec2], &s)), ["actual#90"]);
        let tag = budget(
            Scope::Tag {
                key: "team".into(),
                value: "data".into(),
            },
            "1",
            &[pct("1")],
        );
        assert!(crossings(&[tag], &s).is_empty());
        let mut no_period = s.clone();
        no_period.billing_period = None;
        assert!(crossings(&[budget(Scope::All, "1", &[pct("1")])], &no_period).is_empty());
    }

    #[test]
    fn exactly_at_the_threshold_crosses() {
        let b = budget(Scope::All, "100", &[pct("80"), abs("90")]);
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("80.00"), None)),
            ["actual#80"]
        );
        assert!(evaluate(&b, pd("2026-11"), d("79.999999"), None).is_empty());
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("90"), None)),
            ["actual#80", "actual#90"]
        );
        let f = budget(Scope::All, "100", &[pct("80").on(Basis::Forecast)]);
        assert_eq!(
            keys(&evaluate(&f, pd("2026-11"), d("1"), Some(d("80")))),
            ["forecast#80"]
        );
        assert!(evaluate(&f, pd("2026-11"), d("1"), Some(d("79.99"))).is_empty());
    }

    #[test]
    fn absolute_levels_are_identified_by_their_percent_of_the_amount() {
        let b = budget(Scope::All, "1000", &[abs("250"), abs("1000.00")]);
        let c = evaluate(&b, pd("2026-11"), d("300"), None);
        assert_eq!(keys(&c), ["actual#25"]);
        assert_eq!(c[0].level_amount, d("250"));
        assert_eq!(c[0].percent, d("30.0"));
        assert_eq!(c[0].alert_id(), "team:2026-11:actual:25");
        let c = evaluate(&b, pd("2026-11"), d("1000"), None);
        assert_eq!(keys(&c), ["actual#25", "actual#100"]);
        // A third of the amount: rounded to 6 places for the key, compared exactly.
        let b = budget(Scope::All, "3", &[abs("1")]);
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("1"), None)),
            ["actual#33.333333"]
        );
        assert!(evaluate(&b, pd("2026-11"), d("0.9999999"), None).is_empty());
    }

    #[test]
    fn both_bases_cross_independently() {
        let b = budget(
            Scope::All,
            "1000",
            &[
                pct("50"),
                pct("80").on(Basis::Forecast),
                pct("100").on(Basis::Forecast),
                abs("1200").on(Basis::Forecast),
            ],
        );
        // No forecast: forecast thresholds do not cross.
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("600"), None)),
            ["actual#50"]
        );
        let c = evaluate(&b, pd("2026-11"), d("600"), Some(d("1100")));
        assert_eq!(keys(&c), ["actual#50", "forecast#80", "forecast#100"]);
        assert_eq!(c[0].percent, d("60.0"));
        assert_eq!(c[1].percent, d("110.0"));
        assert_eq!(c[1].forecast, Some(d("1100")));
        assert_eq!(c[1].actual, d("600"));
        assert_eq!(c[1].level_amount, d("800"));
        assert_eq!(c[2].alert_id(), "team:2026-11:forecast:100");
        let c = evaluate(&b, pd("2026-11"), d("10"), Some(d("1200")));
        assert_eq!(keys(&c), ["forecast#80", "forecast#100", "forecast#120"]);
    }

    #[test]
    fn escalation_adds_every_step_reached_past_100() {
        let mut b = budget(Scope::All, "1000", &[pct("50"), pct("100")]);
        b.escalation_step = Some(d("20"));
        let c = evaluate(&b, pd("2026-11"), d("1450"), None);
        assert_eq!(
            keys(&c),
            ["actual#50", "actual#100", "actual#120", "actual#140"]
        );
        assert_eq!(
            c.iter().map(|c| c.escalation).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert_eq!(c[3].level_amount, d("1400"));
        assert_eq!(c[3].percent, d("145.0"));
        // Exactly at 140 % reaches 140; just under 100 % escalates nothing.
        assert_eq!(keys(&evaluate(&b, pd("2026-11"), d("1400"), None)).len(), 4);
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("999.99"), None)),
            ["actual#50"]
        );
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("1000"), None)),
            ["actual#50", "actual#100"]
        );
        // A configured threshold at an escalation level is one crossing, not an escalation.
        b.thresholds.push(pct("120"));
        let c = evaluate(&b, pd("2026-11"), d("1450"), None);
        assert_eq!(
            keys(&c),
            ["actual#50", "actual#100", "actual#120", "actual#140"]
        );
        assert!(!c[2].escalation && c[3].escalation);
        // Escalation follows the actual spend only, never the forecast.
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("10"), Some(d("5000")))),
            Vec::<String>::new()
        );
        // Fractional steps and amounts that do not divide evenly settle exactly.
        let mut b = budget(Scope::All, "3", &[pct("100")]);
        b.escalation_step = Some(d("12.5"));
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("3.75"), None)),
            ["actual#100", "actual#112.5", "actual#125"]
        );
        assert_eq!(
            keys(&evaluate(&b, pd("2026-11"), d("3.7499"), None)),
            ["actual#100", "actual#112.5"]
        );
    }

    #[test]
    fn escalation_is_capped_at_the_highest_levels() {
        let mut b = budget(Scope::All, "1", &[pct("100")]);
        b.escalation_step = Some(d("0.001"));
        let c = evaluate(&b, pd("2026-11"), d("1000000"), None);
        assert_eq!(c.len() as u64, 1 + MAX_ESCALATIONS);
        assert_eq!(c.last().unwrap().claim_key(), "actual#100000000");
    }

    #[test]
    fn scopes_round_trip_through_their_text() {
        let scopes = [
            Scope::All,
            Scope::Account(A.into()),
            Scope::AccountService {
                account: A.into(),
                service: "AmazonEC2".into(),
            },
            Scope::Service("AWSSupportBusiness".into()),
            Scope::Tag {
                key: "user:team".into(),
                value: "a=b".into(),
            },
        ];
        for s in scopes {
            assert_eq!(Scope::parse(&s.to_text()), Ok(s.clone()), "{s}");
        }
        // The older stored form: a bare account id.
        assert_eq!(Scope::parse(A), Ok(Scope::Account(A.into())));
        assert_eq!(Scope::parse("*"), Ok(Scope::All));
        assert!(Scope::parse("region:us-east-1").is_err());
        assert!(Scope::parse("tag:team").is_err());
        assert_eq!(
            Scope::from_parts(Some(A.into()), Some("AmazonS3".into()), None),
            Ok(Scope::AccountService {
                account: A.into(),
                service: "AmazonS3".into()
            })
        );
        assert_eq!(
            Scope::from_parts(Some(A.into()), None, Some("team=data".into()))
                .unwrap_err()
                .field,
            "tag"
        );
    }

    #[test]
    fn validation_lists_every_problem_with_its_field() {
        let good = Budget {
            escalation_step: Some(d("20")),
            topic_arn: Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
            ..budget(Scope::Account(A.into()), "100", &[pct("80"), abs("90")])
        };
        assert_eq!(good.validate(), Ok(()));
        let bad = Budget {
            name: "a b".into(),
            scope: Scope::AccountService {
                account: "123".into(),
                service: "".into(),
            },
            amount: d("-5"),
            currency: "usd".into(),
            thresholds: vec![pct("0"), pct("80"), pct("80"), abs("-1")],
            escalation_step: Some(d("0")),
            topic_arn: Some("arn:aws:sqs:us-east-1:123456789012:q".into()),
        };
        let problems: Vec<String> = bad
            .validate()
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            problems,
            [
                "name: 'a b' is not 1-100 letters, digits, '-', '_' or '.'",
                "amount: must be greater than zero, got -5",
                "currency: 'usd' is not a 3-letter ISO 4217 code like USD",
                "account: '123' is not a 12-digit account id",
                "service: must not be empty",
                "thresholds #1: percent must be greater than zero, got 0",
                "thresholds #3: the same level as thresholds #2 (80% of the amount, actual)",
                "thresholds #4: amount must be greater than zero, got -1",
                "escalation_step: must be a percentage greater than zero, got 0",
                "topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q' is not an SNS topic ARN \
                 (arn:aws:sns:<region>:<account>:<name>)",
            ]
        );
        let dup = budget(Scope::All, "1000", &[pct("25"), abs("250")]);
        assert_eq!(
            dup.validate().unwrap_err()[0].to_string(),
            "thresholds #2: the same level as thresholds #1 (25% of the amount, actual)"
        );
        // The same level on the other basis is a different threshold.
        let both = budget(
            Scope::All,
            "1000",
            &[pct("25"), pct("25").on(Basis::Forecast)],
        );
        assert_eq!(both.validate(), Ok(()));
        let empty = budget(Scope::All, "10", &[]);
        assert_eq!(
            empty.validate().unwrap_err()[0].to_string(),
            "thresholds: needs at least one threshold"
        );
        let tag = budget(
            Scope::Tag {
                key: "".into(),
                value: "x".into(),
            },
            "10",
            &[pct("1")],
        );
        assert_eq!(
            tag.validate().unwrap_err()[0].to_string(),
            "tag: the tag key must not be empty"
        );
    }

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
