//! The alerts table: a conditional put claims a (budget, period, basis, threshold) before its
//! message is published, so each crossing alerts once.

use super::attr::{get_s, n, n_int, s, Item};
use super::StoreError;
use aws_sdk_dynamodb::Client;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

/// Claims are kept for 400 days (long enough for any restatement of the period).
const KEEP_SECONDS: i64 = 400 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    pub period: String,
    pub budget: String,
    pub basis: String,
    pub threshold: String,
    pub alert_id: String,
    pub claimed_at: String,
    pub published_at: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Clone)]
pub struct AlertsStore {
    client: Client,
    table: String,
}

fn sort_key(budget: &str, basis: &str, threshold: Decimal) -> String {
    format!("{budget}#{basis}#{}", threshold.normalize())
}

impl AlertsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// True when this call claimed the alert; false when it was claimed before.
    #[allow(clippy::too_many_arguments)]
    pub async fn claim(
        &self,
        period: &str,
        budget: &str,
        basis: &str,
        threshold: Decimal,
        alert_id: &str,
        spent: Decimal,
        limit: Decimal,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let item: Item = HashMap::from([
            ("pk".into(), s(format!("P#{period}"))),
            ("sk".into(), s(sort_key(budget, basis, threshold))),
            ("period".into(), s(period)),
            ("budget".into(), s(budget)),
            ("basis".into(), s(basis)),
            ("threshold".into(), n(threshold)),
            ("alert_id".into(), s(alert_id)),
            ("amount".into(), n(spent)),
            ("limit".into(), n(limit)),
            ("claimed_at".into(), s(now.to_rfc3339())),
            ("expires_at".into(), n_int(now.timestamp() + KEEP_SECONDS)),
        ]);
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
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
        period: &str,
        budget: &str,
        basis: &str,
        threshold: Decimal,
        message_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("P#{period}")))
            .key("sk", s(sort_key(budget, basis, threshold)))
            .update_expression("SET published_at = :t, message_id = :m")
            .expression_attribute_values(":t", s(now.to_rfc3339()))
            .expression_attribute_values(":m", s(message_id))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", &self.table, e))?;
        Ok(())
    }

    /// Gives a claim back (its message could not be published), so a retry can alert.
    pub async fn release(
        &self,
        period: &str,
        budget: &str,
        basis: &str,
        threshold: Decimal,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("P#{period}")))
            .key("sk", s(sort_key(budget, basis, threshold)))
            .condition_expression("attribute_not_exists(published_at)")
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", &self.table, e))?;
        Ok(())
    }

    pub async fn list(&self, period: &str) -> Result<Vec<AlertRecord>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("P#{period}")))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query", &self.table, e))?;
        Ok(page
            .items()
            .iter()
            .map(|i| AlertRecord {
                period: get_s(i, "period").unwrap_or_default(),
                budget: get_s(i, "budget").unwrap_or_default(),
                basis: get_s(i, "basis").unwrap_or_default(),
                threshold: i
                    .get("threshold")
                    .and_then(|v| v.as_n().ok())
                    .cloned()
                    .unwrap_or_default(),
                alert_id: get_s(i, "alert_id").unwrap_or_default(),
                claimed_at: get_s(i, "claimed_at").unwrap_or_default(),
                published_at: get_s(i, "published_at"),
                message_id: get_s(i, "message_id"),
            })
            .collect())
    }
}
