//! What a report says, as billwatch tells it: totals per (account, service, currency) with their
//! breakdown, the period, the status, the as-of time and the report's own checks.

use super::format::Format;
use crate::ledger::{Amounts, Days, Ledger, Part};
use crate::money::{add_into, canonical, sub_exact, Overflow};
use crate::period::Period;
use rust_decimal::Decimal;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Estimated,
    Final,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl Status {
    /// The status whose [`Status::name`] is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Status::Estimated, Status::Final]
            .into_iter()
            .find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Estimated => "estimated",
            Status::Final => "final",
        }
    }
}

/// The parts of a total, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Breakdown(pub Vec<(Part, Decimal)>);

impl Breakdown {
    pub fn get(&self, part: Part) -> Option<Decimal> {
        self.0.iter().find(|(p, _)| *p == part).map(|(_, d)| *d)
    }
}

impl Serialize for Breakdown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (part, amount) in &self.0 {
            map.serialize_entry(part.name(), &amount.to_string())?;
        }
        map.end()
    }
}

fn as_string<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Total {
    pub account_id: String,
    pub service: String,
    pub service_name: String,
    pub currency: String,
    #[serde(serialize_with = "as_string")]
    pub cost: Decimal,
    pub breakdown: Breakdown,
    /// Usage-side amounts (`charges` + `discounts`) per day of the billing month: index `d − 1`
    /// holds day `d`, the length is the days in the month. `None` when the report has no daily
    /// usage (legacy, DBR, a monthly-granularity CUR, an unknown period). Rows that could not be
    /// placed on one day of the month are in the breakdown but in no day, so the series may add up
    /// to less than charges + discounts. Not part of the JSON contract.
    #[serde(skip)]
    pub daily_usage: Option<Vec<Decimal>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrandTotal {
    pub currency: String,
    #[serde(serialize_with = "as_string")]
    pub cost: Decimal,
}

/// One of the report's own reconciliation checks, with both figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    #[serde(serialize_with = "as_string")]
    pub expected: Decimal,
    #[serde(serialize_with = "as_string")]
    pub actual: Decimal,
    pub ok: bool,
}

impl Check {
    /// Half a cent: the totals must agree to the cent.
    pub const TOLERANCE: Decimal = Decimal::from_parts(5, 0, 0, false, 3);

    pub fn new(name: String, expected: Decimal, actual: Decimal) -> Self {
        Self {
            name,
            expected: canonical(expected),
            actual: canonical(actual),
            // A difference too large to compute is certainly not within tolerance.
            ok: sub_exact(expected, actual).is_some_and(|d| d.abs() <= Self::TOLERANCE),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    pub source: String,
    pub format: Format,
    pub payer_account_id: Option<String>,
    pub billing_period: Option<Period>,
    pub status: Status,
    pub as_of: Option<String>,
    pub rows_read: u64,
    pub rows_summed: u64,
    pub totals: Vec<Total>,
    pub grand_totals: Vec<GrandTotal>,
    pub checks: Vec<Check>,
    /// Rows not summed, per record / line item type (`PayerLineItem`, `AccountTotal`, an unknown
    /// type…), sorted by type. Empty for a report whose every row is summed.
    pub skipped: BTreeMap<String, u64>,
    /// Things the user must know that do not stop the summary: a record or line item type
    /// billwatch has never seen (named, with its rows and what was done with them).
    pub warnings: Vec<String>,
    /// Spend per cost-allocation tag value, where the report has tag columns. Not part of the
    /// JSON contract.
    #[serde(skip)]
    pub tag_totals: Vec<super::tags::TagTotal>,
    /// Objects read (1, or the parts of a manifest). Not part of the JSON contract.
    #[serde(skip)]
    pub objects_read: usize,
    /// The delivery's identity where the report states one (CUR `assemblyId`, Data Exports
    /// `executionId`). Not part of the JSON contract.
    #[serde(skip)]
    pub delivery_id: Option<String>,
}

impl ReportSummary {
    /// Σ cost per currency.
    pub fn grand_total(&self, currency: &str) -> Option<Decimal> {
        self.grand_totals
            .iter()
            .find(|g| g.currency == currency)
            .map(|g| g.cost)
    }
}

/// Turns a ledger into sorted totals. `service_code` maps a row's service field to the key
/// shown (identity, or the DBR name → code table); totals that map to the same key merge, their
/// daily series summed. When the ledger has daily usage and `period` (`YYYY-MM`) is known, every
/// total gets a `daily_usage` series of the month's length (zeros for a key without usage rows).
pub fn totals_of(
    ledger: &Ledger,
    parts: &[Part],
    service_code: fn(&str) -> String,
    period: Option<Period>,
) -> Result<(Vec<Total>, Vec<GrandTotal>), Overflow> {
    let month_days = period
        .filter(|_| ledger.has_days())
        .map(|p| p.days() as usize);
    type Merged = (Amounts, String, Option<Days>);
    let mut merged: BTreeMap<(String, String, String), Merged> = BTreeMap::new();
    for (key, amounts) in ledger.iter() {
        let &(a, s, c) = key;
        let raw_service = ledger.services.text(s);
        let service = service_code(&raw_service);
        let name = ledger
            .service_name(s)
            .map(str::to_string)
            .unwrap_or_else(|| raw_service.clone());
        let entry = merged
            .entry((ledger.accounts.text(a), service, ledger.currencies.text(c)))
            .or_insert_with(|| (Amounts::default(), name, None));
        entry.0.merge(amounts)?;
        if let (Some(_), Some(days)) = (month_days, ledger.days(key)) {
            let sum = entry.2.get_or_insert([Decimal::ZERO; 32]);
            for (mine, theirs) in sum.iter_mut().zip(days.iter()) {
                add_into(mine, *theirs)?;
            }
        }
    }
    let mut grand: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut totals = Vec::with_capacity(merged.len());
    for ((account_id, service, currency), (amounts, service_name, days)) in merged {
        add_into(grand.entry(currency.clone()).or_default(), amounts.cost)?;
        totals.push(Total {
            account_id,
            service,
            service_name,
            currency,
            cost: canonical(amounts.cost),
            breakdown: Breakdown(
                parts
                    .iter()
                    .map(|&p| (p, canonical(amounts.part(p))))
                    .collect(),
            ),
            daily_usage: month_days.map(|n| {
                let days = days.unwrap_or([Decimal::ZERO; 32]);
                days[1..=n].iter().map(|&d| canonical(d)).collect()
            }),
        });
    }
    let grand_totals = grand
        .into_iter()
        .map(|(currency, cost)| GrandTotal {
            currency,
            cost: canonical(cost),
        })
        .collect();
    Ok((totals, grand_totals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn totals_sort_merge_and_keep_currencies_apart() {
        let mut l = Ledger::default();
        l.entry(b"2", b"Amazon RDS Service", b"USD")
            .add(Part::Charges, d("1.5"))
            .unwrap();
        l.entry(b"2", b"Amazon Relational Database Service", b"USD")
            .add(Part::Discounts, d("-0.5"))
            .unwrap();
        l.entry(b"1", b"AmazonS3", b"EUR")
            .add(Part::Charges, d("2"))
            .unwrap();
        l.entry(b"1", b"AmazonS3", b"USD")
            .add(Part::Charges, d("3"))
            .unwrap();
        let (totals, grand) = totals_of(
            &l,
            &[Part::Charges, Part::Discounts],
            super::super::product_codes::code_for,
            Some("2026-11".parse().unwrap()),
        )
        .unwrap();
        assert!(totals.iter().all(|t| t.daily_usage.is_none()));
        let keys: Vec<_> = totals
            .iter()
            .map(|t| {
                (
                    t.account_id.as_str(),
                    t.service.as_str(),
                    t.currency.as_str(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("1", "AmazonS3", "EUR"),
                ("1", "AmazonS3", "USD"),
                ("2", "AmazonRDS", "USD")
            ]
        );
        assert_eq!(totals[2].cost, d("1.0"));
        assert_eq!(totals[2].breakdown.get(Part::Discounts), Some(d("-0.5")));
        assert_eq!(
            grand,
            [
                GrandTotal {
                    currency: "EUR".into(),
                    cost: d("2")
                },
                GrandTotal {
                    currency: "USD".into(),
                    cost: d("4.0")
                }
            ]
        );
    }

    #[test]
    fn daily_series_merge_and_have_the_month_length() {
        let mut l = Ledger::default();
        l.add_on_day(
            b"2",
            b"Amazon RDS Service",
            b"USD",
            Part::Charges,
            d("1.5"),
            1,
        )
        .unwrap();
        l.add_on_day(
            b"2",
            b"Amazon RDS Service",
            b"USD",
            Part::Charges,
            d("4"),
            0,
        )
        .unwrap();
        l.add_on_day(
            b"2",
            b"Amazon Relational Database Service",
            b"USD",
            Part::Discounts,
            d("-0.5"),
            1,
        )
        .unwrap();
        l.add_on_day(
            b"2",
            b"Amazon Relational Database Service",
            b"USD",
            Part::Charges,
            d("2"),
            28,
        )
        .unwrap();
        l.entry(b"2", b"AWSSupportBusiness", b"USD")
            .add(Part::Fees, d("100"))
            .unwrap();
        let code = |s: &str| super::super::product_codes::code_for(s);
        let (totals, _) =
            totals_of(&l, &[Part::Charges], code, Some("2026-02".parse().unwrap())).unwrap();
        assert_eq!(totals[0].service, "AWSSupportBusiness");
        assert_eq!(totals[0].daily_usage, Some(vec![Decimal::ZERO; 28]));
        let rds = totals[1].daily_usage.as_ref().unwrap();
        assert_eq!(rds.len(), 28);
        assert_eq!(rds[0], d("1.0"));
        assert_eq!(rds[27], d("2"));
        assert_eq!(rds.iter().sum::<Decimal>(), d("3.0"));
        assert_eq!(totals[1].cost, d("7.0"));
        let (unknown, _) = totals_of(&l, &[Part::Charges], code, None).unwrap();
        assert!(unknown.iter().all(|t| t.daily_usage.is_none()));
    }

    #[test]
    fn daily_usage_is_not_part_of_the_json() {
        let t = Total {
            account_id: "1".into(),
            service: "AmazonEC2".into(),
            service_name: "EC2".into(),
            currency: "USD".into(),
            cost: d("1"),
            breakdown: Breakdown::default(),
            daily_usage: Some(vec![d("1")]),
        };
        assert!(!serde_json::to_string(&t).unwrap().contains("daily"));
    }

    #[test]
    fn checks_pass_within_half_a_cent() {
        assert!(Check::new("a".into(), d("10.00"), d("10.004999")).ok);
        assert!(Check::new("a".into(), d("10.00"), d("9.995")).ok);
        assert!(!Check::new("a".into(), d("10.00"), d("10.0051")).ok);
    }

    #[test]
    fn breakdown_serialises_in_order_as_strings() {
        let b = Breakdown(vec![
            (Part::Charges, d("1.10")),
            (Part::Credits, d("-0.10")),
        ]);
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"charges":"1.10","credits":"-0.10"}"#
        );
    }
}
