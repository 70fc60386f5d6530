//! Totals per cost-allocation tag value, for budgets scoped to a tag. Tag columns are found by
//! header name: `user:<Key>` (cost allocation report, DBR with tags) and
//! `resourceTags/user:<Key>` (CUR 1.0). Keys are case-sensitive (`user:Name` ≠ `user:name`);
//! an empty value means untagged and is not counted. Per row: one byte comparison per tag
//! column and an interned lookup, no allocation once a value has been seen.

use super::header::{present, Header};
#[cfg(test)]
use super::record::OwnedRecord;
use super::record::Record;
use crate::ledger::Interner;
use crate::money::{add_into, canonical, Overflow};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

const PREFIXES: [&str; 2] = ["resourceTags/user:", "user:"];

/// Spend of one tag value in one currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagTotal {
    pub key: String,
    pub value: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
}

#[derive(Debug, Default)]
pub struct TagTally {
    /// (column index, interned key) of the current part's header.
    columns: Vec<(usize, u32)>,
    keys: Interner,
    values: Interner,
    currencies: Interner,
    sums: HashMap<(u32, u32, u32), Decimal, foldhash::fast::RandomState>,
}

impl TagTally {
    /// Finds the tag columns of a header (each part of a manifest binds its own).
    pub fn bind(&mut self, header: &Header) {
        self.columns.clear();
        for (idx, name) in header.names().iter().enumerate() {
            if let Some(key) = PREFIXES.iter().find_map(|p| name.strip_prefix(p)) {
                if !key.is_empty() {
                    let id = self.keys.id(key.as_bytes());
                    self.columns.push((idx, id));
                }
            }
        }
    }

    /// An empty tally bound to the same columns.
    pub fn fork(&self) -> Self {
        Self {
            columns: self.columns.clone(),
            keys: self.keys.clone(),
            ..Self::default()
        }
    }

    /// Adds the sums of another tally of the same report, exactly.
    pub fn absorb(&mut self, other: TagTally) -> Result<(), Overflow> {
        let keys = self.keys.translate(&other.keys);
        let values = self.values.translate(&other.values);
        let currencies = self.currencies.translate(&other.currencies);
        for ((k, v, c), cost) in other.sums {
            let key = (keys[k as usize], values[v as usize], currencies[c as usize]);
            add_into(self.sums.entry(key).or_default(), cost)?;
        }
        Ok(())
    }

    /// Books a summed row's cost on each of its tag values.
    #[inline]
    pub fn add(
        &mut self,
        record: &Record<'_>,
        currency: &[u8],
        cost: Decimal,
    ) -> Result<(), Overflow> {
        if self.columns.is_empty() {
            return Ok(());
        }
        let currency = self.currencies.id(currency.trim_ascii());
        for &(idx, key) in &self.columns {
            let value = record.get(idx).unwrap_or_default().trim_ascii();
            if present(value) {
                let value = self.values.id(value);
                add_into(self.sums.entry((key, value, currency)).or_default(), cost)?;
            }
        }
        Ok(())
    }

    /// Sorted by key, value, currency.
    pub fn finish(self) -> Result<Vec<TagTotal>, Overflow> {
        let mut out: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
        for ((k, v, c), cost) in self.sums {
            add_into(
                out.entry((
                    self.keys.text(k),
                    self.values.text(v),
                    self.currencies.text(c),
                ))
                .or_default(),
                cost,
            )?;
        }
        Ok(out
            .into_iter()
            .map(|((key, value, currency), cost)| TagTotal {
                key,
                value,
                currency,
                cost: canonical(cost),
            })
            .collect())
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
    fn tag_values_are_summed_per_key_and_currency() {
        let mut t = TagTally::default();
        t.bind(&Header::from_names(&[
            "cost",
            "user:Name",
            "resourceTags/user:team",
            "user:name",
        ]));
        t.add(
            &OwnedRecord::new(&["1", "web", "data", "x"]).record(),
            b"USD",
            d("1.5"),
        )
        .unwrap();
        t.add(
            &OwnedRecord::new(&["1", "web", "", ""]).record(),
            b"USD",
            d("2"),
        )
        .unwrap();
        t.add(
            &OwnedRecord::new(&["1", "", "data"]).record(),
            b"EUR",
            d("3"),
        )
        .unwrap();
        let got = t.finish().unwrap();
        let flat: Vec<_> = got
            .iter()
            .map(|t| {
                (
                    t.key.as_str(),
                    t.value.as_str(),
                    t.currency.as_str(),
                    t.cost,
                )
            })
            .collect();
        assert_eq!(
            flat,
            [
                ("Name", "web", "USD", d("3.5")),
                ("name", "x", "USD", d("1.5")),
                ("team", "data", "EUR", d("3")),
                ("team", "data", "USD", d("1.5")),
            ]
        );
    }

    #[test]
    fn no_tag_columns_costs_nothing() {
        let mut t = TagTally::default();
        t.bind(&Header::from_names(&["a", "b"]));
        t.add(&OwnedRecord::new(&["1", "2"]).record(), b"USD", d("1"))
            .unwrap();
        assert!(t.finish().unwrap().is_empty());
    }
}
