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
    /// Each budget the pass was asked to sum, in the order asked ([`crate::budget::spec`]).
    /// Not part of the JSON contract of `summarize`.
    #[serde(skip)]
    pub budgets: Vec<crate::budget::spec::Figures>,
    /// Objects read (1, or the parts of a manifest). Not part of the JSON contract.
    #[serde(skip)]
    pub objects_read: usize,
    /// The delivery's identity where the report states one (CUR `assemblyId`, Data Exports
    /// `executionId`). Not part of the JSON contract.
    #[serde(skip)]
    pub delivery_id: Option<String>,
    /// The report's commitments (Reserved Instances, Savings Plans) and coverage, when the pass
    /// was asked for them and the report is a CUR. Not part of the JSON contract.
    #[serde(skip)]
    pub commitments: Option<crate::commitment::Summary>,
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

/// Gives every total of one delivery a daily series when any has one: the engine gives each a
/// series of the month's length (zeros for a key without usage rows), and storage keeps an
/// all-zero series as nothing, so totals read back need their zeros again before a forecast or
/// a chart takes "every total has a series" to mean the report is daily.
pub fn fill_daily(totals: &mut [Total], period: Period) {
    if totals.iter().any(|t| t.daily_usage.is_some()) {
        let days = period.days() as usize;
        for t in totals.iter_mut().filter(|t| t.daily_usage.is_none()) {
            t.daily_usage = Some(vec![Decimal::ZERO; days]);
        }
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
    let sorted = Sorted::new(ledger, service_code, period);
    let mut totals = Vec::with_capacity(sorted.len());
    for total in sorted.totals(parts) {
        totals.push(total?);
    }
    Ok((totals, sorted.grand_totals()?))
}

/// A ledger's keys in the order of their totals (account, service code, currency, as text), one
/// total per run of keys with the same three: the totals are built one at a time from it, so a
/// summary can be written out without holding them all (4 bytes a key, plus the texts of the
/// interned values).
pub struct Sorted<'a> {
    ledger: &'a Ledger,
    month_days: Option<usize>,
    accounts: Vec<String>,
    /// Per service id: its code and its raw text.
    services: Vec<(String, String)>,
    currencies: Vec<String>,
    /// Slot numbers in order, and where each total's run ends.
    order: Vec<u32>,
    ends: Vec<u32>,
}

/// Each id's rank among the ids of `texts` (ids whose texts are equal share a rank).
fn ranks<T: Ord>(texts: &[T]) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..texts.len() as u32).collect();
    ids.sort_unstable_by(|&a, &b| texts[a as usize].cmp(&texts[b as usize]));
    let mut rank = vec![0u32; texts.len()];
    let mut r = 0u32;
    for (i, &id) in ids.iter().enumerate() {
        if i > 0 && texts[ids[i - 1] as usize] != texts[id as usize] {
            r += 1;
        }
        rank[id as usize] = r;
    }
    rank
}

impl<'a> Sorted<'a> {
    pub fn new(
        ledger: &'a Ledger,
        service_code: fn(&str) -> String,
        period: Option<Period>,
    ) -> Self {
        let month_days = period
            .filter(|_| ledger.has_days())
            .map(|p| p.days() as usize);
        let texts = |i: &crate::ledger::Interner| {
            (0..i.len() as u32).map(|id| i.text(id)).collect::<Vec<_>>()
        };
        let accounts = texts(&ledger.accounts);
        let currencies = texts(&ledger.currencies);
        let services: Vec<(String, String)> = texts(&ledger.services)
            .into_iter()
            .map(|raw| (service_code(&raw), raw))
            .collect();
        let (rank_a, rank_c) = (ranks(&accounts), ranks(&currencies));
        let codes: Vec<&String> = services.iter().map(|(code, _)| code).collect();
        let rank_s = ranks(&codes);
        // Within one total, keys go by their raw service text: the first one names the total.
        let rank_raw = ranks(&services);
        let group = |&(a, s, c): &crate::ledger::Key| {
            (rank_a[a as usize], rank_s[s as usize], rank_c[c as usize])
        };
        let mut order: Vec<u32> = (0..ledger.len() as u32).collect();
        order.sort_unstable_by_key(|&i| {
            let key = ledger.key_at(i);
            let (a, s, c) = group(&key);
            (a, s, c, rank_raw[key.1 as usize])
        });
        let mut ends = Vec::new();
        for i in 1..order.len() {
            if group(&ledger.key_at(order[i - 1])) != group(&ledger.key_at(order[i])) {
                ends.push(i as u32);
            }
        }
        if !order.is_empty() {
            ends.push(order.len() as u32);
        }
        Self {
            ledger,
            month_days,
            accounts,
            services,
            currencies,
            order,
            ends,
        }
    }

    /// The number of totals.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each total's run of slots.
    fn runs(&self) -> impl Iterator<Item = &[u32]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(from, to)| &self.order[from as usize..to as usize])
    }

    /// The amounts of one run, merged.
    fn amounts(&self, run: &[u32]) -> Result<Amounts, Overflow> {
        let mut sum = Amounts::default();
        for &i in run {
            sum.merge(self.ledger.amounts_at(i))?;
        }
        Ok(sum)
    }

    /// Σ cost per currency, sorted by currency.
    pub fn grand_totals(&self) -> Result<Vec<GrandTotal>, Overflow> {
        let mut grand: BTreeMap<&str, Decimal> = BTreeMap::new();
        for run in self.runs() {
            let cost = self.amounts(run)?.cost;
            let c = self.ledger.key_at(run[0]).2;
            add_into(grand.entry(&self.currencies[c as usize]).or_default(), cost)?;
        }
        Ok(grand
            .into_iter()
            .map(|(currency, cost)| GrandTotal {
                currency: currency.to_string(),
                cost: canonical(cost),
            })
            .collect())
    }

    /// The totals, in order, each built when it is asked for.
    pub fn totals<'s>(
        &'s self,
        parts: &'s [Part],
    ) -> impl Iterator<Item = Result<Total, Overflow>> + 's {
        self.runs().map(move |run| self.total(run, parts))
    }

    fn total(&self, run: &[u32], parts: &[Part]) -> Result<Total, Overflow> {
        let amounts = self.amounts(run)?;
        let (a, s, c) = self.ledger.key_at(run[0]);
        let (code, raw) = &self.services[s as usize];
        let daily_usage = match self.month_days {
            Some(n) => {
                let mut sum: Option<Days> = None;
                for &i in run {
                    if let Some(days) = self.ledger.days_at(i) {
                        match &mut sum {
                            None => sum = Some(days),
                            Some(sum) => {
                                for (mine, theirs) in sum.iter_mut().zip(days.iter()) {
                                    add_into(mine, *theirs)?;
                                }
                            }
                        }
                    }
                }
                let days = sum.unwrap_or([Decimal::ZERO; 32]);
                Some(days[1..=n].iter().map(|&d| canonical(d)).collect())
            }
            None => None,
        };
        Ok(Total {
            account_id: self.accounts[a as usize].clone(),
            service: code.clone(),
            service_name: self
                .ledger
                .service_name(s)
                .map_or_else(|| raw.clone(), str::to_string),
            currency: self.currencies[c as usize].clone(),
            cost: canonical(amounts.cost),
            breakdown: Breakdown(
                parts
                    .iter()
                    .map(|&p| (p, canonical(amounts.part(p))))
                    .collect(),
            ),
            daily_usage,
        })
    }
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
    fn totals_read_back_get_their_zero_series_again_only_when_one_has_a_series() {
        let nov: Period = "2026-11".parse().unwrap();
        let with = |daily: Option<Vec<Decimal>>| Total {
            account_id: "1".into(),
            service: "s".into(),
            service_name: "s".into(),
            currency: "USD".into(),
            cost: d("1"),
            breakdown: Default::default(),
            daily_usage: daily,
        };
        let mut mixed = vec![with(Some(vec![d("1"); 30])), with(None)];
        fill_daily(&mut mixed, nov);
        assert_eq!(mixed[1].daily_usage, Some(vec![Decimal::ZERO; 30]));
        let mut monthly = vec![with(None), with(None)];
        fill_daily(&mut monthly, nov);
        assert!(monthly.iter().all(|t| t.daily_usage.is_none()));
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
