//! The reports table: each period's pointer to its live totals version, every ingest of every
//! object, and the newest sequencer seen per object key.

use super::attr::{get_period, get_s, get_u64, n_int, part, s, Item};
use super::StoreError;
use crate::outcome::Outcome;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use billwatch_core::period::Period;
use billwatch_core::report::{Format, Status};
use serde::Serialize;
use std::collections::HashMap;

/// Which totals version is live for a (payer, period), and which delivery it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pointer {
    pub payer: String,
    pub period: Period,
    pub version: String,
    pub report_key: String,
    pub order_key: String,
    pub rank: u8,
    pub format: Format,
    pub status: Status,
    pub as_of: Option<String>,
    pub delivery_id: Option<String>,
    pub stored_at: String,
    pub rows_summed: u64,
    /// The S3 sequencer of the object read (right-padded), which alone orders writes of one key.
    pub sequencer: Option<String>,
}

/// Where a delivery stands among the deliveries of its period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub rank: u8,
    pub report_key: String,
    pub order_key: String,
    pub sequencer: Option<String>,
}

impl Order {
    /// Whether this delivery should replace `other` as the period's live one: a better
    /// format, or the same rank and newer. Two writes of one key are ordered by their S3
    /// sequencer only; different keys by event time (then sequencer).
    pub fn outranks(&self, other: &Order) -> bool {
        if self.rank != other.rank {
            return self.rank > other.rank;
        }
        if self.report_key == other.report_key {
            if let (Some(a), Some(b)) = (&self.sequencer, &other.sequencer) {
                return a > b;
            }
        }
        self.order_key > other.order_key
    }
}

impl Pointer {
    pub fn order(&self) -> Order {
        Order {
            rank: self.rank,
            report_key: self.report_key.clone(),
            order_key: self.order_key.clone(),
            sequencer: self.sequencer.clone(),
        }
    }

    pub fn outranks(&self, current: &Pointer) -> bool {
        self.order().outranks(&current.order())
    }
}

/// A version noted before its totals were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMark {
    pub version: String,
    pub written_epoch: i64,
    pub order: Order,
}

/// The outcome of trying to make a delivery the live one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flip {
    /// Now live, with the items written beside it.
    Flipped,
    /// The pointer changed since it was read: read it again and decide again.
    Conflict,
}

/// One ingest of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestRecord {
    pub period: Period,
    pub received_at: String,
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub version_id: Option<String>,
    pub delivery_id: Option<String>,
    pub format: Option<Format>,
    pub payer: Option<String>,
    pub status: Option<Status>,
    pub as_of: Option<String>,
    pub rows_read: u64,
    pub rows_summed: u64,
    /// `name: expected vs actual ok|FAILED`, one per check.
    pub checks: Vec<String>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub totals_written: u64,
    pub alerts_sent: u64,
}

fn version_sk(payer: &str, version: &str) -> String {
    format!("V#{}#{version}", part(payer))
}

fn period_pk(period: Period) -> String {
    format!("P#{period}")
}

fn key_pk(bucket: &str, key: &str) -> String {
    format!("K#{bucket}/{key}")
}

#[derive(Clone)]
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
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::dynamo("PutItem", &self.table, e)),
        }
    }

    /// Makes `next` the live delivery of its period, in one transaction with `beside` (items
    /// of other tables, e.g. the alerts it owes), on condition that the pointer is still
    /// `current` (as read before deciding). Either all of it is written or none.
    pub async fn flip(
        &self,
        next: &Pointer,
        current: Option<&Pointer>,
        beside: Vec<(String, Item)>,
    ) -> Result<Flip, StoreError> {
        let mut item: Item = HashMap::from([
            ("pk".into(), s(period_pk(next.period))),
            ("sk".into(), s(format!("S#{}", part(&next.payer)))),
            ("payer".into(), s(&next.payer)),
            ("period".into(), s(next.period.to_string())),
            ("version".into(), s(&next.version)),
            ("report_key".into(), s(&next.report_key)),
            ("order_key".into(), s(&next.order_key)),
            ("rank".into(), n_int(next.rank)),
            ("format".into(), s(next.format.name())),
            ("status".into(), s(next.status.name())),
            ("stored_at".into(), s(&next.stored_at)),
            ("rows_summed".into(), n_int(next.rows_summed)),
        ]);
        for (name, value) in [
            ("as_of", &next.as_of),
            ("delivery_id", &next.delivery_id),
            ("sequencer", &next.sequencer),
        ] {
            if let Some(v) = value {
                item.insert(name.into(), s(v));
            }
        }
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        put = match current {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(c) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", s(&c.version)),
        };
        let malformed = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Malformed {
            table: self.table.clone(),
            message: e.to_string(),
        };
        let mut actions = vec![TransactWriteItem::builder()
            .put(put.build().map_err(malformed)?)
            .build()];
        for (table, item) in beside {
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .map_err(malformed)?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Flip::Flipped),
            Err(e) => {
                let conflict = e.as_service_error().is_some_and(|s| match s {
                    TransactWriteItemsError::TransactionCanceledException(c) => c
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed")),
                    _ => false,
                });
                if conflict {
                    Ok(Flip::Conflict)
                } else {
                    Err(StoreError::dynamo("TransactWriteItems", &self.table, e))
                }
            }
        }
    }

    /// Notes that `version` of (payer, period) is being written, before its first item: so a
    /// version whose delivery died before going live can be found and removed later.
    pub async fn mark_version(
        &self,
        next: &Pointer,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(period_pk(next.period)))
            .item("sk", s(version_sk(&next.payer, &next.version)))
            .item("payer", s(&next.payer))
            .item("version", s(&next.version))
            .item("written_epoch", n_int(now.timestamp()))
            .item("rank", n_int(next.rank))
            .item("report_key", s(&next.report_key))
            .item("order_key", s(&next.order_key));
        if let Some(seq) = &next.sequencer {
            request = request.item("sequencer", s(seq));
        }
        request
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", &self.table, e))?;
        Ok(())
    }

    /// The versions of (payer, period) noted as written: `(version, written epoch seconds)`.
    pub async fn versions(
        &self,
        period: Period,
        payer: &str,
    ) -> Result<Vec<VersionMark>, StoreError> {
        Ok(self
            .query_prefix(period, &format!("V#{}#", part(payer)))
            .await?
            .iter()
            .filter_map(|i| {
                Some(VersionMark {
                    version: get_s(i, "version")?,
                    written_epoch: get_u64(i, "written_epoch")? as i64,
                    order: Order {
                        rank: get_u64(i, "rank").and_then(|r| u8::try_from(r).ok())?,
                        report_key: get_s(i, "report_key")?,
                        order_key: get_s(i, "order_key")?,
                        sequencer: get_s(i, "sequencer"),
                    },
                })
            })
            .collect())
    }

    pub async fn forget_version(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(period_pk(period)))
            .key("sk", s(version_sk(payer, version)))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", &self.table, e))?;
        Ok(())
    }

    pub async fn pointer(
        &self,
        period: Period,
        payer: &str,
    ) -> Result<Option<Pointer>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(period_pk(period)))
            .key("sk", s(format!("S#{}", part(payer))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", &self.table, e))?;
        out.item().map(|i| self.parse_pointer(i)).transpose()
    }

    /// Every payer's pointer for a period.
    pub async fn pointers(&self, period: Period) -> Result<Vec<Pointer>, StoreError> {
        self.query_prefix(period, "S#")
            .await?
            .iter()
            .map(|i| self.parse_pointer(i))
            .collect()
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

    fn parse_pointer(&self, i: &Item) -> Result<Pointer, StoreError> {
        let need = |name: &str| {
            get_s(i, name).ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: format!("pointer without '{name}'"),
            })
        };
        Ok(Pointer {
            payer: need("payer")?,
            period: need("period")?
                .parse()
                .map_err(
                    |e: billwatch_core::period::PeriodError| StoreError::Malformed {
                        table: self.table.clone(),
                        message: e.to_string(),
                    },
                )?,
            version: need("version")?,
            report_key: need("report_key")?,
            order_key: need("order_key")?,
            rank: get_u64(i, "rank")
                .and_then(|r| u8::try_from(r).ok())
                .unwrap_or_default(),
            format: Format::from_name(&need("format")?).ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: "pointer with an unknown format".into(),
            })?,
            status: Status::from_name(&need("status")?).ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: "pointer with an unknown status".into(),
            })?,
            as_of: get_s(i, "as_of"),
            delivery_id: get_s(i, "delivery_id"),
            stored_at: need("stored_at")?,
            rows_summed: get_u64(i, "rows_summed").unwrap_or_default(),
            sequencer: get_s(i, "sequencer"),
        })
    }
}
