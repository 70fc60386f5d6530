//! The alerts table: the outbox of alerts owed (`O#<version>#<n>`, written with the flip that
//! makes a delivery live), and the claims: a conditional put claims an alert before its message
//! is published, so each alert is sent once however many deliveries, retries or duplicate
//! events follow. A claim that was never marked published (a crash between claim and publish)
//! expires after [`CLAIM_LEASE_SECONDS`] and can then be claimed again.

use super::attr::{get_period, get_s, n_int, s, Item};
use super::item_size::item_bytes;
use super::owed::Owed;
use super::reports::fits_beside_pointer;
use super::unless_condition_failed;
use super::StoreError;
use crate::timestamp;
use aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use aws_sdk_dynamodb::Client;
use billwatch_core::alert::{Alert, AlertKind, Severity};
use billwatch_core::delivery::{outbox, OutboxItem};
use billwatch_core::period::Period;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Claims are kept for 400 days (long enough for any restatement of the period).
const KEEP_SECONDS: i64 = 400 * 24 * 3600;

pub use billwatch_core::delivery::decide::CLAIM_LEASE_SECONDS;
pub use billwatch_core::delivery::Claim;

/// What one alert is, for the record and for `billwatch alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    pub period: Period,
    /// Unique within the period: `<budget>#<basis>#<percent>`, `<budget>#close#final`,
    /// `health#…`.
    pub key: String,
    pub alert_id: String,
    pub kind: AlertKind,
    pub budget: Option<String>,
    pub basis: Option<String>,
    pub severity: Severity,
    pub subject: String,
    /// Why it was sent, in one line.
    pub reason: String,
    pub report_key: Option<String>,
    pub claimed_at: String,
    pub published_at: Option<String>,
    pub message_id: Option<String>,
    /// Set when SNS refused the message for good.
    pub failed_at: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct AlertsStore {
    client: Client,
    table: String,
}

fn pk(period: Period) -> String {
    format!("P#{period}")
}

impl AlertsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Claims an owed alert: a conditional put that succeeds when no claim exists or the one
    /// that exists was abandoned (unpublished past its lease).
    pub async fn claim(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        let mut item: Item = HashMap::from([
            ("pk".into(), s(pk(alert.period))),
            ("sk".into(), s(&alert.key)),
            ("period".into(), s(alert.period.to_string())),
            ("alert_id".into(), s(&alert.alert_id)),
            ("kind".into(), s(&alert.kind)),
            ("severity".into(), s(&alert.severity)),
            ("subject".into(), s(&alert.subject)),
            ("reason".into(), s(&alert.reason)),
            ("claimed_at".into(), s(timestamp(now))),
            ("claimed_epoch".into(), n_int(now.timestamp())),
            ("expires_at".into(), n_int(now.timestamp() + KEEP_SECONDS)),
        ]);
        for (name, value) in [
            ("budget", &alert.budget),
            ("basis", &alert.basis),
            ("report_key", &alert.report_key),
        ] {
            if let Some(v) = value {
                item.insert(name.into(), s(v));
            }
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (attribute_not_exists(published_at) AND attribute_not_exists(failed_at) AND claimed_epoch < :stale)",
            )
            .expression_attribute_values(":stale", n_int(now.timestamp() - CLAIM_LEASE_SECONDS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) => match e.as_service_error() {
                Some(ConditionalCheckFailedException(c)) => {
                    let old = c.item();
                    let done = old.is_some_and(|i| {
                        i.contains_key("published_at") || i.contains_key("failed_at")
                    });
                    Ok(if done { Claim::Done } else { Claim::Leased })
                }
                _ => Err(StoreError::dynamo("PutItem", &self.table, e)),
            },
        }
    }

    /// Whether the alert `key` of `period` was already sent (or given up on for good).
    pub async fn is_done(&self, period: Period, key: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(period)))
            .key("sk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", &self.table, e))?;
        Ok(out
            .item()
            .is_some_and(|i| i.contains_key("published_at") || i.contains_key("failed_at")))
    }

    /// Gives up on a claimed alert whose message SNS refuses for good (a topic that does not
    /// exist, a message it rejects): kept with the error, shown by `billwatch alerts`.
    pub async fn mark_failed(
        &self,
        period: Period,
        key: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let request = self
            .claim_update(period, key)
            .update_expression("SET failed_at = :t, #error = :e")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":t", s(timestamp(now)))
            .expression_attribute_values(":e", s(error.chars().take(1000).collect::<String>()));
        self.send_update(request).await
    }

    /// An update of the claim of `key`, its expression still to be set.
    fn claim_update(&self, period: Period, key: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(period)))
            .key("sk", s(key))
    }

    async fn send_update(&self, request: UpdateItemFluentBuilder) -> Result<(), StoreError> {
        request
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", &self.table, e))?;
        Ok(())
    }

    /// The outbox of a period: `(sort key, alerts)` per item, oldest delivery first.
    pub async fn outbox(&self, period: Period) -> Result<Vec<(String, Vec<Owed>)>, StoreError> {
        let items = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :o)")
                .expression_attribute_values(":pk", s(pk(period)))
                .expression_attribute_values(":o", s("O#"))
                .consistent_read(true),
            &self.table,
        )
        .await?;
        items
            .iter()
            .map(|i| {
                let sk = get_s(i, "sk").unwrap_or_default();
                let alerts = get_s(i, "alerts")
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .ok_or_else(|| StoreError::Malformed {
                        table: self.table.clone(),
                        message: format!("outbox item {sk} without readable alerts"),
                    })?;
                Ok((sk, alerts))
            })
            .collect()
    }

    /// The outbox items for one delivery's owed alerts, each well under DynamoDB's 400 KB
    /// (cut as the core cuts them: [`outbox::outbox_items`]).
    pub fn outbox_items(&self, version: &str, owed: &[Owed], now: DateTime<Utc>) -> Vec<Item> {
        outbox::outbox_items(version, owed)
            .iter()
            .map(|o| self.outbox_item(o, now))
            .collect()
    }

    /// One outbox item as the alerts table keeps it: under the period of the delivery whose
    /// flip writes it (the one its drain reads), whatever period each alert is claimed under
    /// (a quarterly budget's alerts are claimed under the quarter's first month).
    pub fn outbox_item_of(&self, period: Period, o: &OutboxItem, now: DateTime<Utc>) -> Item {
        HashMap::from([
            ("pk".into(), s(pk(period))),
            ("sk".into(), s(&o.sk)),
            (
                "alerts".into(),
                s(serde_json::to_string(&o.alerts).expect("owed alerts serialise")),
            ),
            ("created_at".into(), s(timestamp(now))),
            ("expires_at".into(), n_int(now.timestamp() + KEEP_SECONDS)),
        ])
    }

    /// [`Self::outbox_item_of`] under the period of its first alert (for sizing: every
    /// period's key has the same length).
    pub fn outbox_item(&self, o: &OutboxItem, now: DateTime<Utc>) -> Item {
        let period = o
            .alerts
            .first()
            .map(|a| a.period)
            .unwrap_or_else(|| Period::new(2000, 1).expect("a month"));
        self.outbox_item_of(period, o, now)
    }

    /// Whether outbox items fit one flip transaction beside the pointer.
    pub fn outbox_fits(&self, items: &[OutboxItem], now: DateTime<Utc>) -> bool {
        let bytes = items
            .iter()
            .map(|o| item_bytes(&self.outbox_item(o, now)))
            .sum();
        fits_beside_pointer(items.len(), bytes)
    }

    /// The outbox items of a delivery's `alerts` for the transaction that makes it live
    /// (`ReportsStore::flip`), cut to fit as the core cuts them ([`outbox::fit_outbox`]).
    /// Returns the items and how many alerts went into the one overflow message.
    pub fn outbox_for_flip(
        &self,
        version: &str,
        alerts: &[Alert],
        overflow: impl Fn(&[Alert]) -> Alert,
        now: DateTime<Utc>,
    ) -> (Vec<Item>, usize) {
        let (items, left_out) =
            outbox::fit_outbox(version, alerts, overflow, |i| self.outbox_fits(i, now));
        let items = items.iter().map(|o| self.outbox_item(o, now)).collect();
        (items, left_out)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub async fn delete_item(&self, period: Period, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(period)))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", &self.table, e))?;
        Ok(())
    }

    pub async fn mark_published(
        &self,
        period: Period,
        key: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let request = self
            .claim_update(period, key)
            .update_expression("SET published_at = :t, message_id = :m")
            .expression_attribute_values(":t", s(timestamp(now)))
            .expression_attribute_values(":m", s(message_id));
        self.send_update(request).await
    }

    /// Gives an unpublished claim back (its message could not be published), so a retry can
    /// alert at once instead of waiting for the lease to run out.
    pub async fn release(&self, period: Period, key: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(period)))
            .key("sk", s(key))
            .condition_expression("attribute_not_exists(published_at)")
            .send()
            .await;
        unless_condition_failed("DeleteItem", &self.table, result)
    }

    /// Every alert of a period, in key order.
    pub async fn list(&self, period: Period) -> Result<Vec<AlertRecord>, StoreError> {
        let items = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk(period))),
            &self.table,
        )
        .await?;
        items
            .iter()
            .filter(|i| !get_s(i, "sk").is_some_and(|k| k.starts_with("O#")))
            .map(|i| self.parse(i, period))
            .collect()
    }

    fn parse(&self, i: &Item, period: Period) -> Result<AlertRecord, StoreError> {
        let malformed = |what: &str| StoreError::Malformed {
            table: self.table.clone(),
            message: format!("an alert with an unknown {what}"),
        };
        Ok(AlertRecord {
            period: get_period(i, "period").unwrap_or(period),
            key: get_s(i, "sk").unwrap_or_default(),
            alert_id: get_s(i, "alert_id").unwrap_or_default(),
            kind: get_s(i, "kind")
                .and_then(|k| AlertKind::from_name(&k))
                .ok_or_else(|| malformed("kind"))?,
            budget: get_s(i, "budget"),
            basis: get_s(i, "basis"),
            severity: get_s(i, "severity")
                .and_then(|k| Severity::from_name(&k))
                .ok_or_else(|| malformed("severity"))?,
            subject: get_s(i, "subject").unwrap_or_default(),
            reason: get_s(i, "reason").unwrap_or_default(),
            report_key: get_s(i, "report_key"),
            claimed_at: get_s(i, "claimed_at").unwrap_or_default(),
            published_at: get_s(i, "published_at"),
            failed_at: get_s(i, "failed_at"),
            error: get_s(i, "error"),
            message_id: get_s(i, "message_id"),
        })
    }
}
