//! The alerts table: a conditional put claims an alert before its message is published, so
//! each alert is sent once however many deliveries, retries or duplicate events follow. A claim
//! that was never marked published (a crash between claim and publish) expires after
//! [`CLAIM_LEASE_SECONDS`] and can then be claimed again by a later delivery.

use super::attr::{get_period, get_s, n_int, s, Item};
use super::StoreError;
use crate::timestamp;
use aws_sdk_dynamodb::Client;
use billwatch_core::alert::{Alert, AlertKind};
use billwatch_core::budget::Basis;
use billwatch_core::period::Period;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Claims are kept for 400 days (long enough for any restatement of the period).
const KEEP_SECONDS: i64 = 400 * 24 * 3600;
/// An unpublished claim older than this is considered abandoned.
pub const CLAIM_LEASE_SECONDS: i64 = 15 * 60;

/// What one alert is, for the record and for `billwatch alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    pub period: Period,
    /// Unique within the period: `<budget>#<basis>#<percent>`, `<budget>#close#final`,
    /// `health#…`.
    pub key: String,
    pub alert_id: String,
    /// `budget`, `escalation`, `month-close`, `health`.
    pub kind: String,
    pub budget: Option<String>,
    pub basis: Option<String>,
    pub severity: String,
    pub subject: String,
    /// Why it was sent, in one line.
    pub reason: String,
    pub report_key: Option<String>,
    pub claimed_at: String,
    pub published_at: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Clone)]
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

    /// True when this call claimed the alert; false when it is (or was) someone else's.
    pub async fn claim(&self, alert: &Alert, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut item: Item = HashMap::from([
            ("pk".into(), s(pk(alert.period))),
            ("sk".into(), s(&alert.key)),
            ("period".into(), s(alert.period.to_string())),
            ("alert_id".into(), s(&alert.alert_id)),
            ("kind".into(), s(alert.kind.as_str())),
            ("severity".into(), s(alert.severity.name())),
            ("subject".into(), s(&alert.message.subject)),
            ("reason".into(), s(&alert.reason)),
            ("claimed_at".into(), s(timestamp(now))),
            ("claimed_epoch".into(), n_int(now.timestamp())),
            ("expires_at".into(), n_int(now.timestamp() + KEEP_SECONDS)),
        ]);
        let basis = match (alert.kind, alert.basis) {
            (AlertKind::MonthClose, _) => Some("final"),
            (_, b) => b.map(Basis::as_str),
        };
        for (name, value) in [
            ("budget", alert.budget.as_deref()),
            ("basis", basis),
            ("report_key", alert.report_key.as_deref()),
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
                "attribute_not_exists(pk) OR (attribute_not_exists(published_at) AND claimed_epoch < :stale)",
            )
            .expression_attribute_values(":stale", n_int(now.timestamp() - CLAIM_LEASE_SECONDS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo("PutItem", &self.table, e)),
        }
    }

    pub async fn mark_published(
        &self,
        period: Period,
        key: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(period)))
            .key("sk", s(key))
            .update_expression("SET published_at = :t, message_id = :m")
            .expression_attribute_values(":t", s(timestamp(now)))
            .expression_attribute_values(":m", s(message_id))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", &self.table, e))?;
        Ok(())
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
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::dynamo("DeleteItem", &self.table, e)),
        }
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
        Ok(items.iter().map(|i| parse(i, period)).collect())
    }
}

fn parse(i: &Item, period: Period) -> AlertRecord {
    AlertRecord {
        period: get_period(i, "period").unwrap_or(period),
        key: get_s(i, "sk").unwrap_or_default(),
        alert_id: get_s(i, "alert_id").unwrap_or_default(),
        kind: get_s(i, "kind").unwrap_or_default(),
        budget: get_s(i, "budget"),
        basis: get_s(i, "basis"),
        severity: get_s(i, "severity").unwrap_or_default(),
        subject: get_s(i, "subject").unwrap_or_default(),
        reason: get_s(i, "reason").unwrap_or_default(),
        report_key: get_s(i, "report_key"),
        claimed_at: get_s(i, "claimed_at").unwrap_or_default(),
        published_at: get_s(i, "published_at"),
        message_id: get_s(i, "message_id"),
    }
}
