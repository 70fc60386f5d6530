//! What moved inside a service: for a few watched (account, service, currency) keys, the
//! usage-side spend per day of each usage type, operation and region (CUR 1.0, CUR 2.0, FOCUS).
//!
//! A second pass over a report, run only when anomaly detection flagged a key, so the first
//! pass stays as lean as it is; memory is bounded by the watched keys ×
//! [`MAX_VALUES`] values per dimension × the days of the month, whatever the report's size.
//! The rows counted are the ones the daily series counts (CUR: `charges` and `discounts`,
//! FOCUS: `charges`), on the day of their usage start (`tally::day_of`).

use super::error::{ErrorKind, RowError};
use super::header::{field, present, Col, Header};
use super::record::Record;
use super::tally::{day_of, Finished, Rows};
use crate::ledger::Part;
use crate::period::Period;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Distinct values kept per watched key and dimension; the rest add up under [`OTHER`].
pub const MAX_VALUES: usize = 200;
/// Where values past [`MAX_VALUES`] go.
pub const OTHER: &str = "(other)";

/// The three ways a service's spend is broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    UsageType,
    Operation,
    Region,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [
        Dimension::UsageType,
        Dimension::Operation,
        Dimension::Region,
    ];

    /// For people: `usage type`, `operation`, `region`.
    pub fn label(self) -> &'static str {
        match self {
            Dimension::UsageType => "usage type",
            Dimension::Operation => "operation",
            Dimension::Region => "region",
        }
    }

    /// The columns that hold it, first found wins (CUR 1.0, CUR 2.0, FOCUS with AWS columns).
    fn columns(self) -> &'static [&'static str] {
        match self {
            Dimension::UsageType => &["lineItem/UsageType", "line_item_usage_type", "x_UsageType"],
            Dimension::Operation => &["lineItem/Operation", "line_item_operation", "x_Operation"],
            Dimension::Region => &[
                "product/region",
                "product/regionCode",
                "product_region_code",
                "RegionId",
                "RegionName",
            ],
        }
    }
}

/// One watched series: account, service code (as in [`super::Total::service`]), currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub account: String,
    pub service: String,
    pub currency: String,
}

/// Per watched key and dimension: each value's spend per day of the month (index `d − 1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverTable {
    pub by_key: HashMap<Key, HashMap<Dimension, HashMap<String, Vec<Decimal>>>>,
}

impl DriverTable {
    /// The daily spend of one value, if it was seen.
    pub fn series(&self, key: &Key, dim: Dimension) -> Option<&HashMap<String, Vec<Decimal>>> {
        self.by_key.get(key)?.get(&dim)
    }
}

#[derive(Clone, Copy)]
enum Family {
    Cur,
    Focus,
}

#[derive(Clone, Copy)]
struct Cols {
    family: Family,
    account: Col,
    fallback_account: Option<Col>,
    service: Col,
    service_name: Option<Col>,
    currency: Col,
    cost: Col,
    kind: Option<Col>,
    start: Option<Col>,
    end: Option<Col>,
    dims: [Option<Col>; 3],
}

/// The row logic of the driver pass.
pub struct Drivers {
    period: Period,
    watch: HashMap<Key, usize>,
    accounts: std::collections::HashSet<Vec<u8>>,
    cols: Option<Cols>,
    /// Per watched key (by index), per dimension: value → spend per day.
    cells: Vec<[HashMap<String, Vec<Decimal>>; 3]>,
}

impl Drivers {
    pub fn new(period: Period, keys: &[Key]) -> Self {
        let watch: HashMap<Key, usize> = keys
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        Self {
            period,
            accounts: keys.iter().map(|k| k.account.as_bytes().to_vec()).collect(),
            cells: vec![Default::default(); keys.len()],
            watch,
            cols: None,
        }
    }

    /// The table, once every row was read.
    pub fn table(self) -> DriverTable {
        let mut by_key = HashMap::new();
        for (key, i) in self.watch {
            let [u, o, r] = self.cells[i].clone();
            by_key.insert(
                key,
                HashMap::from([
                    (Dimension::UsageType, u),
                    (Dimension::Operation, o),
                    (Dimension::Region, r),
                ]),
            );
        }
        DriverTable { by_key }
    }
}

fn text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

impl Rows for Drivers {
    fn bind(&mut self, h: &Header) -> Result<Vec<Col>, RowError> {
        let dims = Dimension::ALL.map(|d| h.first_of(d.columns()).ok().flatten());
        let cols = if h.has("SubAccountId") {
            Cols {
                family: Family::Focus,
                account: h.required("SubAccountId")?,
                fallback_account: h.optional("BillingAccountId")?,
                service: h
                    .optional("x_ServiceCode")?
                    .map_or_else(|| h.required("ServiceName"), Ok)?,
                service_name: h.optional("ServiceName")?,
                currency: h.required("BillingCurrency")?,
                cost: h.required("BilledCost")?,
                kind: h.optional("ChargeCategory")?,
                start: h.optional("ChargePeriodStart")?,
                end: h.optional("ChargePeriodEnd")?,
                dims,
            }
        } else if h.has("lineItem/UsageAccountId") || h.has("line_item_usage_account_id") {
            let cur1 = h.has("lineItem/UsageAccountId");
            let pick = |a: &'static str, b: &'static str| if cur1 { a } else { b };
            Cols {
                family: Family::Cur,
                account: h.required(pick(
                    "lineItem/UsageAccountId",
                    "line_item_usage_account_id",
                ))?,
                fallback_account: None,
                service: h.required(pick("lineItem/ProductCode", "line_item_product_code"))?,
                service_name: None,
                currency: h.required(pick("lineItem/CurrencyCode", "line_item_currency_code"))?,
                cost: h.required(pick("lineItem/UnblendedCost", "line_item_unblended_cost"))?,
                kind: h.optional(pick("lineItem/LineItemType", "line_item_line_item_type"))?,
                start: h.optional(pick(
                    "lineItem/UsageStartDate",
                    "line_item_usage_start_date",
                ))?,
                end: h.optional(pick("lineItem/UsageEndDate", "line_item_usage_end_date"))?,
                dims,
            }
        } else {
            return Err(RowError::plain(ErrorKind::Invalid(
                "what moved inside a service is read from CUR and FOCUS reports only".into(),
            )));
        };
        self.cols = Some(cols);
        // Nothing is strict: the first pass already refused a malformed report.
        Ok(Vec::new())
    }

    fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        let c = self.cols.expect("bind runs before rows");
        let mut account = c.account.get(r);
        if !present(account) {
            account = field(c.fallback_account, r);
        }
        if !self.accounts.contains(account) {
            return Ok(());
        }
        let counted = match c.family {
            Family::Cur => matches!(
                super::cur::part_of(field(c.kind, r)).0,
                Part::Charges | Part::Discounts
            ),
            Family::Focus => super::focus::part_of(field(c.kind, r)).0 == Part::Charges,
        };
        if !counted {
            return Ok(());
        }
        let mut service = c.service.get(r);
        if !present(service) {
            service = field(c.service_name, r);
        }
        let key = Key {
            account: text(account),
            service: text(service),
            currency: text(c.currency.get(r)),
        };
        let Some(&i) = self.watch.get(&key) else {
            return Ok(());
        };
        let Some(start) = c.start else {
            return Ok(());
        };
        let ym = Some((self.period.year(), self.period.month()));
        let day = day_of(start.get(r), field(c.end, r), ym) as usize;
        if day == 0 {
            return Ok(());
        }
        let Ok(cost) = c.cost.amount(r) else {
            return Ok(());
        };
        let days = self.period.days() as usize;
        for (d, col) in c.dims.iter().enumerate() {
            let raw = field(*col, r);
            let value = if present(raw) {
                text(raw)
            } else {
                "(none)".to_string()
            };
            let map = &mut self.cells[i][d];
            let slot = if map.contains_key(&value) || map.len() < MAX_VALUES {
                value
            } else {
                OTHER.to_string()
            };
            let series = map.entry(slot).or_insert_with(|| vec![Decimal::ZERO; days]);
            if let Some(v) = series.get_mut(day - 1) {
                *v = v.checked_add(cost).unwrap_or(*v);
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind> {
        Err(ErrorKind::Invalid(
            "the driver pass has no summary; take its table".into(),
        ))
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{drivers_path, summarize_path, Limits};

    fn key(account: &str, service: &str) -> Key {
        Key {
            account: account.into(),
            service: service.into(),
            currency: "USD".into(),
        }
    }

    fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn day(table: &DriverTable, k: &Key, dim: Dimension, value: &str, d: usize) -> Option<Decimal> {
        table.series(k, dim)?.get(value).map(|s| s[d - 1])
    }

    #[test]
    fn cur2_rows_are_broken_down_by_usage_type_operation_and_region_code() {
        // Two days of EC2 in one account; a Tax row and another account are not counted.
        let text = "\
bill_payer_account_id,bill_billing_period_start_date,line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,line_item_usage_type,line_item_operation,product_region_code,line_item_currency_code,line_item_unblended_cost
111111111111,2026-11-01T00:00:00Z,222222222222,Usage,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,AmazonEC2,BoxUsage:m5.large,RunInstances,us-east-1,USD,10.5
111111111111,2026-11-01T00:00:00Z,222222222222,Usage,2026-11-02T00:00:00Z,2026-11-02T01:00:00Z,AmazonEC2,USW2-BoxUsage:p4d.24xlarge,RunInstances:0002,us-west-2,USD,32.77
111111111111,2026-11-01T00:00:00Z,222222222222,Usage,2026-11-02T01:00:00Z,2026-11-02T02:00:00Z,AmazonEC2,USW2-BoxUsage:p4d.24xlarge,RunInstances:0002,us-west-2,USD,32.77
111111111111,2026-11-01T00:00:00Z,222222222222,Tax,2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,AmazonEC2,,,,USD,9
111111111111,2026-11-01T00:00:00Z,333333333333,Usage,2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,AmazonEC2,BoxUsage:m5.large,RunInstances,us-east-1,USD,500
";
        let (_dir, path) = file("cur2.csv", text);
        assert_eq!(
            summarize_path(&path, None, &Limits::default())
                .unwrap()
                .format,
            crate::report::Format::Cur2
        );
        let k = key("222222222222", "AmazonEC2");
        let nov = "2026-11".parse().unwrap();
        let t = drivers_path(
            &path,
            None,
            &Limits::default(),
            nov,
            std::slice::from_ref(&k),
        )
        .unwrap();
        let p4d = "USW2-BoxUsage:p4d.24xlarge";
        assert_eq!(
            day(&t, &k, Dimension::UsageType, p4d, 2),
            Some(Decimal::new(6554, 2))
        );
        assert_eq!(
            day(&t, &k, Dimension::UsageType, "BoxUsage:m5.large", 1),
            Some(Decimal::new(105, 1))
        );
        assert_eq!(
            day(&t, &k, Dimension::Operation, "RunInstances:0002", 2),
            Some(Decimal::new(6554, 2))
        );
        assert_eq!(
            day(&t, &k, Dimension::Region, "us-west-2", 2),
            Some(Decimal::new(6554, 2))
        );
        // The tax row and the other account add nothing anywhere.
        let total: Decimal = t
            .series(&k, Dimension::Region)
            .unwrap()
            .values()
            .flatten()
            .sum();
        assert_eq!(total, Decimal::new(7604, 2));
        assert!(!t.by_key.contains_key(&key("333333333333", "AmazonEC2")));
    }

    #[test]
    fn focus_rows_use_the_aws_columns_and_the_service_code() {
        let text = "\
BilledCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,RegionId,ServiceName,SubAccountId,x_ServiceCode,x_UsageType,x_Operation
4.5,111111111111,USD,2026-11-01T00:00:00Z,Usage,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,eu-west-1,Amazon Simple Storage Service,222222222222,AmazonS3,EUW1-TimedStorage-ByteHrs,StandardStorage
1.25,111111111111,USD,2026-11-01T00:00:00Z,Usage,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,eu-west-1,Amazon Simple Storage Service,222222222222,AmazonS3,EUW1-Requests-Tier1,PutObject
7,111111111111,USD,2026-11-01T00:00:00Z,Purchase,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,eu-west-1,Amazon Simple Storage Service,222222222222,AmazonS3,Fee,Fee
";
        let (_dir, path) = file("focus.csv", text);
        let k = key("222222222222", "AmazonS3");
        let nov = "2026-11".parse().unwrap();
        let t = drivers_path(
            &path,
            None,
            &Limits::default(),
            nov,
            std::slice::from_ref(&k),
        )
        .unwrap();
        assert_eq!(
            day(&t, &k, Dimension::UsageType, "EUW1-Requests-Tier1", 3),
            Some(Decimal::new(125, 2))
        );
        assert_eq!(
            day(&t, &k, Dimension::Operation, "StandardStorage", 3),
            Some(Decimal::new(45, 1))
        );
        // The Purchase (a fee) is not usage: the region holds the two usage rows only.
        assert_eq!(
            day(&t, &k, Dimension::Region, "eu-west-1", 3),
            Some(Decimal::new(575, 2))
        );
    }

    #[test]
    fn values_past_the_cap_add_up_under_other() {
        let mut text = String::from("lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UsageType,lineItem/CurrencyCode,lineItem/UnblendedCost\n");
        for i in 0..MAX_VALUES + 5 {
            text += &format!("222222222222,Usage,2026-11-05T00:00:00Z,2026-11-05T01:00:00Z,AWSLambda,type-{i:04},USD,1\n");
        }
        let (_dir, path) = file("cur1.csv", &text);
        let k = key("222222222222", "AWSLambda");
        let t = drivers_path(
            &path,
            None,
            &Limits::default(),
            "2026-11".parse().unwrap(),
            std::slice::from_ref(&k),
        )
        .unwrap();
        let usage = t.series(&k, Dimension::UsageType).unwrap();
        assert_eq!(usage.len(), MAX_VALUES + 1);
        assert_eq!(usage[OTHER][4], Decimal::from(5));
        // Missing columns are "(none)", not an error.
        assert_eq!(
            t.series(&k, Dimension::Region).unwrap()["(none)"][4],
            Decimal::from(MAX_VALUES as i64 + 5)
        );
    }
}
