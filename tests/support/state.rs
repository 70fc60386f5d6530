//! What a user would look at after deliveries, read straight from the tables (scans are fine in
//! a test) and the alert inbox: the live totals per (payer, period), the pointers, the totals
//! items that belong to no live version, and the alerts received by id.

use crate::Stack;
use aws_sdk_dynamodb::types::AttributeValue;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Item = HashMap<String, AttributeValue>;

fn get(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) | Some(AttributeValue::N(s)) => s.clone(),
        _ => String::new(),
    }
}

/// (payer, period, account, service, currency).
pub type TotalKey = (String, String, String, String, String);

/// A period's pointer as far as the user can tell: which report, in which format and status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PointerView {
    pub report_key: String,
    pub format: String,
    pub status: String,
    pub rank: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Live totals: cost and status per (payer, period, account, service, currency).
    pub live: BTreeMap<TotalKey, (Decimal, String)>,
    /// Pointer per (period, payer).
    pub pointers: BTreeMap<(String, String), PointerView>,
    /// The live version per (period, payer).
    pub versions: BTreeMap<(String, String), String>,
    /// Totals items (sheets) not under a live version: `pk` → item count.
    pub orphans: BTreeMap<String, usize>,
}

impl Snapshot {
    pub async fn read(stack: &Stack) -> Snapshot {
        let tables = &stack.ingest.config.tables;
        let mut pointers = BTreeMap::new();
        let mut versions = BTreeMap::new();
        let mut live_pks = BTreeSet::new();
        for item in stack.scan(&tables.reports).await {
            if !get(&item, "sk").starts_with("S#") {
                continue;
            }
            let (period, payer, version) = (
                get(&item, "period"),
                get(&item, "payer"),
                get(&item, "version"),
            );
            live_pks.insert(format!("T#{payer}#{period}#{version}"));
            versions.insert((period.clone(), payer.clone()), version);
            pointers.insert(
                (period, payer),
                PointerView {
                    report_key: get(&item, "report_key"),
                    format: get(&item, "format"),
                    status: get(&item, "status"),
                    rank: get(&item, "rank"),
                },
            );
        }
        let mut live = BTreeMap::new();
        let mut orphans = BTreeMap::new();
        for item in stack.scan(&tables.totals).await {
            let pk = get(&item, "pk");
            if !live_pks.contains(&pk) {
                *orphans.entry(pk).or_insert(0) += 1;
                continue;
            }
            let totals = stack
                .ingest
                .totals
                .read_item(&item)
                .unwrap_or_else(|e| panic!("a stored totals item does not read: {e}"));
            for total in totals {
                live.insert(
                    (
                        total.payer,
                        total.period.to_string(),
                        total.account,
                        total.service,
                        total.currency,
                    ),
                    (total.cost, total.status.name().to_string()),
                );
            }
        }
        Snapshot {
            live,
            pointers,
            versions,
            orphans,
        }
    }

    /// The differences that matter between this (after faults) and `clean`, one line each.
    pub fn diff(&self, clean: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        if self.live != clean.live {
            let missing: Vec<_> = clean
                .live
                .iter()
                .filter(|(k, v)| self.live.get(*k) != Some(*v))
                .map(|(k, v)| format!("{}/{}/{}/{}/{}={}", k.0, k.1, k.2, k.3, k.4, v.0))
                .collect();
            let extra: Vec<_> = self
                .live
                .iter()
                .filter(|(k, v)| clean.live.get(*k) != Some(*v))
                .map(|(k, v)| format!("{}/{}/{}/{}/{}={}", k.0, k.1, k.2, k.3, k.4, v.0))
                .collect();
            out.push(format!(
                "live totals differ: {} lines live vs {} expected; expected but not live {:?}; live but not expected {:?}",
                self.live.len(),
                clean.live.len(),
                missing,
                extra
            ));
        }
        if self.pointers != clean.pointers {
            out.push(format!(
                "pointers differ: {:?} vs expected {:?}",
                self.pointers, clean.pointers
            ));
        }
        if !self.orphans.is_empty() {
            out.push(format!(
                "totals items outside the live versions {:?}: {:?}",
                self.versions.values().collect::<Vec<_>>(),
                self.orphans
            ));
        }
        out
    }
}

/// The `alert_id` message attribute of an SNS envelope received through SQS.
pub fn alert_id(message: &Value) -> String {
    message["MessageAttributes"]["alert_id"]["Value"]
        .as_str()
        .unwrap_or("<no alert_id>")
        .to_string()
}

/// How often each alert id was received.
pub fn count_ids(messages: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in messages {
        *out.entry(alert_id(m)).or_insert(0) += 1;
    }
    out
}

/// Compares received alert counts with the set owed: (lost, duplicated, unexpected).
pub fn compare_alerts(
    received: &BTreeMap<String, usize>,
    owed: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let lost = owed
        .iter()
        .filter(|id| !received.contains_key(*id))
        .cloned()
        .collect();
    let duplicated = received
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| format!("{id} x{n}"))
        .collect();
    let unexpected = received
        .keys()
        .filter(|id| !owed.contains(*id))
        .cloned()
        .collect();
    (lost, duplicated, unexpected)
}
