//! The reports table: each period's pointer to its live totals version (`pointer`), the versions
//! being written (`versions`), every ingest of every object, and the newest sequencer seen per
//! object key.

mod pointer;
mod versions;

pub use pointer::{
    fits_beside_pointer, Flip, Order, Pointer, TRANSACTION_MAX_BYTES, TRANSACTION_MAX_ITEMS,
};
pub use versions::VersionMark;

use super::attr::{get_period, get_s, get_u64, n_int, s, Item};
use super::StoreError;
use crate::outcome::Outcome;
use crate::store::unless_condition_failed;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use billwatch_core::period::Period;
use billwatch_core::report::{Format, Status};
use std::collections::HashMap;

pub use billwatch_core::delivery::IngestRecord;

fn period_pk(period: Period) -> String {
    format!("P#{period}")
}

fn key_pk(bucket: &str, key: &str) -> String {
    format!("K#{bucket}/{key}")
}

#[derive(Clone, Debug)]
pub struct ReportsStore {
    client: Client,
    table: String,
}

impl ReportsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The newest padded sequencer stored for an object key.
    pub async fn latest_sequencer(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key_pk(bucket, key)))
            .key("sk", s("LATEST"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", &self.table, e))?;
        Ok(out.item().and_then(|i| get_s(i, "sequencer")))
    }

    /// Remembers the newest sequencer of a key; an older one never overwrites a newer one.
    pub async fn note_sequencer(
        &self,
        bucket: &str,
        key: &str,
        padded_sequencer: &str,
        etag: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key_pk(bucket, key)))
            .item("sk", s("LATEST"))
            .item("sequencer", s(padded_sequencer))
            .condition_expression("attribute_not_exists(pk) OR sequencer < :seq")
            .expression_attribute_values(":seq", s(padded_sequencer));
        if let Some(etag) = etag {
            request = request.item("etag", s(etag));
        }
        unless_condition_failed("PutItem", &self.table, request.send().await)
    }

    pub async fn record(&self, r: &IngestRecord) -> Result<(), StoreError> {
        let mut item: Item = HashMap::from([
            ("pk".into(), s(period_pk(r.period))),
            (
                "sk".into(),
                s(format!("R#{}#{}/{}", r.received_at, r.bucket, r.key)),
            ),
            ("period".into(), s(r.period.to_string())),
            ("received_at".into(), s(&r.received_at)),
            ("bucket".into(), s(&r.bucket)),
            ("key".into(), s(&r.key)),
            ("rows_read".into(), n_int(r.rows_read)),
            ("rows_summed".into(), n_int(r.rows_summed)),
            ("outcome".into(), s(r.outcome.as_str())),
            ("duration_ms".into(), n_int(r.duration_ms)),
            ("totals_written".into(), n_int(r.totals_written)),
            ("alerts_sent".into(), n_int(r.alerts_sent)),
        ]);
        let optional = [
            ("etag", &r.etag),
            ("sequencer", &r.sequencer),
            ("version_id", &r.version_id),
            ("delivery_id", &r.delivery_id),
            ("format", &r.format.map(|f| f.name().to_string())),
            ("payer", &r.payer),
            ("status", &r.status.map(|f| f.name().to_string())),
            ("as_of", &r.as_of),
            ("error", &r.error),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                item.insert(name.into(), s(v));
            }
        }
        if !r.checks.is_empty() {
            item.insert(
                "checks".into(),
                AttributeValue::L(r.checks.iter().map(s).collect()),
            );
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Every ingest recorded for a period, oldest first.
    pub async fn list(&self, period: Period) -> Result<Vec<IngestRecord>, StoreError> {
        Ok(self
            .query_prefix(period, "R#")
            .await?
            .iter()
            .map(|i| IngestRecord {
                period: get_period(i, "period").unwrap_or(period),
                received_at: get_s(i, "received_at").unwrap_or_default(),
                bucket: get_s(i, "bucket").unwrap_or_default(),
                key: get_s(i, "key").unwrap_or_default(),
                etag: get_s(i, "etag"),
                sequencer: get_s(i, "sequencer"),
                version_id: get_s(i, "version_id"),
                delivery_id: get_s(i, "delivery_id"),
                format: get_s(i, "format").and_then(|f| Format::from_name(&f)),
                payer: get_s(i, "payer"),
                status: get_s(i, "status").and_then(|f| Status::from_name(&f)),
                as_of: get_s(i, "as_of"),
                rows_read: get_u64(i, "rows_read").unwrap_or_default(),
                rows_summed: get_u64(i, "rows_summed").unwrap_or_default(),
                checks: i
                    .get("checks")
                    .and_then(|v| v.as_l().ok())
                    .map(|l| l.iter().filter_map(|c| c.as_s().ok().cloned()).collect())
                    .unwrap_or_default(),
                outcome: get_s(i, "outcome")
                    .and_then(|o| Outcome::from_name(&o))
                    .unwrap_or(Outcome::Failed),
                error: get_s(i, "error"),
                duration_ms: get_u64(i, "duration_ms").unwrap_or_default(),
                totals_written: get_u64(i, "totals_written").unwrap_or_default(),
                alerts_sent: get_u64(i, "alerts_sent").unwrap_or_default(),
            })
            .collect())
    }

    async fn query_prefix(&self, period: Period, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let items = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", s(period_pk(period)))
                .expression_attribute_values(":p", s(prefix))
                .consistent_read(true),
            &self.table,
        )
        .await?;
        Ok(items)
    }
}
