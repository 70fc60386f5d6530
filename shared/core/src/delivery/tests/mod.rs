//! Tests of the delivery: its decisions one by one (`decide`), the driver on the in-memory
//! ports (`driver`, `failures`), and the in-memory ports against what the DynamoDB adapters do
//! (`memory`). The core has no runtime: `futures_executor::block_on` runs the futures (the
//! in-memory ports never wait).

mod budgets;
mod commitments;
mod decide;
mod driver;
mod failures;
mod memory;
mod model;

use super::memory::{Memory, MemoryError};
use super::{deliver, Object, RecordOutcome};
use crate::budget::{Budget, Scope, Threshold};
use crate::period::Period;
use crate::report::{Format, GrandTotal, ReportSummary, Status, Total};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

pub(super) const BUCKET: &str = "billing";
pub(super) const PAYER: &str = "111111111111";
pub(super) const KEY: &str = "cur/r/20261101-20261201/r-00001.csv.gz";

pub(super) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(super) fn nov() -> Period {
    Period::new(2026, 11).unwrap()
}

/// 2026-11-20 08:00 UTC plus `minutes`.
pub(super) fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// One period of a CUR 2.0 report: one total of `cost` USD.
pub(super) fn summary(period: Period, cost: &str) -> ReportSummary {
    ReportSummary {
        source: KEY.into(),
        format: Format::Cur2,
        payer_account_id: Some(PAYER.into()),
        billing_period: Some(period),
        status: Status::Estimated,
        as_of: None,
        rows_read: 3,
        rows_summed: 3,
        totals: vec![Total {
            account_id: "222222222222".into(),
            service: "AmazonEC2".into(),
            service_name: "Amazon Elastic Compute Cloud".into(),
            currency: "USD".into(),
            cost: d(cost),
            breakdown: Default::default(),
            daily_usage: None,
        }],
        grand_totals: vec![GrandTotal {
            currency: "USD".into(),
            cost: d(cost),
        }],
        checks: Vec::new(),
        skipped: Default::default(),
        warnings: Vec::new(),
        tag_totals: Vec::new(),
        budgets: Vec::new(),
        objects_read: 1,
        delivery_id: None,
        commitments: None,
    }
}

/// A budget of `amount` USD over everything, alerting at 50 % and 100 % of the actual spend.
pub(super) fn budget(amount: &str) -> Budget {
    Budget {
        name: "team".into(),
        scope: Scope::All,
        amount: d(amount),
        currency: "USD".into(),
        thresholds: vec![Threshold::percent(d("50")), Threshold::percent(d("100"))],
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: Vec::new(),
        digest_every: Default::default(),
        model: Default::default(),
    }
}

/// The event of `key` with sequencer `seq`, `minutes` after 08:00.
pub(super) fn object(key: &str, seq: &str, minutes: i64) -> Object {
    Object {
        bucket: BUCKET.into(),
        key: key.into(),
        etag: Some(format!("etag-{seq}")),
        version_id: None,
        sequencer: Some(seq.into()),
        event_time: at(minutes),
    }
}

/// Stores at 08:00 with a 100 USD budget, and `KEY` reading as 60 USD in November.
pub(super) fn world() -> Memory {
    let m = Memory::new(at(0));
    m.set_budgets(vec![budget("100")]);
    m.put_object(BUCKET, KEY, Ok(vec![summary(nov(), "60")]));
    m
}

pub(super) fn run(m: &Memory, o: &Object) -> Result<RecordOutcome, MemoryError> {
    futures_executor::block_on(deliver(m, o))
}

/// The index of the `n`th call named `name` (from 0) in the log of a run.
pub(super) fn nth_call(log: &[&str], name: &str, n: usize) -> u64 {
    log.iter()
        .enumerate()
        .filter(|(_, c)| **c == name)
        .nth(n)
        .map(|(i, _)| i as u64)
        .unwrap_or_else(|| panic!("no call #{n} named {name} in {log:?}"))
}
