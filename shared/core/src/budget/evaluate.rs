//! Evaluation: a budget's spend in a report ([`spent`]) and the [`Crossing`]s it has reached
//! in one billing period ([`evaluate`]), escalation levels past 100 % included.

use super::{Basis, Budget, Scope};
use crate::period::Period;
use crate::report::ReportSummary;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::HashSet;

/// At most this many escalation levels are reported for one evaluation: the highest ones.
/// (A tiny step on a budget far exceeded would otherwise mean thousands of alerts.)
pub const MAX_ESCALATIONS: u64 = 50;

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

    /// The budget's own threshold this crossing reached (none for an escalation step).
    pub fn threshold(&self) -> Option<&super::Threshold> {
        if self.escalation {
            return None;
        }
        self.budget.thresholds.iter().find(|t| {
            t.basis == self.basis && t.level_percent(self.budget.amount) == Some(self.level_percent)
        })
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
    use crate::budget::test_support::{abs, budget, d, pct, A};
    use crate::report::{Format, Status, Total};

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
            skipped: Default::default(),
            warnings: vec![],
            tag_totals: vec![],
            budgets: vec![],
            objects_read: 1,
            delivery_id: None,
            commitments: None,
        }
    }

    const B: &str = "222222222222";

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
}
