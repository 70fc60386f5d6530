//! The period's live pointer: which delivery's totals are live, how deliveries are ordered, and
//! the conditional flip that makes one live.

use super::{period_pk, ReportsStore};
use crate::store::attr::{get_s, get_u64, n_int, need_period, part, s, Item};
use crate::store::item_size::item_bytes;
use crate::store::StoreError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use billwatch_core::period::Period;
use billwatch_core::report::{Format, Status};
use std::collections::HashMap;

/// TransactWriteItems takes at most this many actions...
pub const TRANSACTION_MAX_ITEMS: usize = 100;
/// ...and at most 4 MB of items in all (counted as [`item_bytes`] counts them).
pub const TRANSACTION_MAX_BYTES: usize = 4_000_000;
/// Room kept for the pointer item when the outbox beside it is sized: its fields are a few
/// short strings and the report key (at most 1,024 bytes).
pub const POINTER_RESERVE_BYTES: usize = 16 * 1024;

/// Whether outbox items of `bytes` in all, `count` of them, fit one flip transaction beside
/// the pointer.
pub fn fits_beside_pointer(count: usize, bytes: usize) -> bool {
    count < TRANSACTION_MAX_ITEMS && bytes + POINTER_RESERVE_BYTES <= TRANSACTION_MAX_BYTES
}

pub use billwatch_core::delivery::{Flip, Order, Pointer};

impl ReportsStore {
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
        // DynamoDB refuses a transaction over its limits as a whole (the local emulator takes
        // it): refuse it here, before sending, with what was too big. The ingest sizes the
        // outbox to fit (AlertsStore::outbox_for_flip), so this only guards against a caller
        // that did not.
        let count = 1 + beside.len();
        let bytes = item_bytes(&item) + beside.iter().map(|(_, i)| item_bytes(i)).sum::<usize>();
        if count > TRANSACTION_MAX_ITEMS || bytes > TRANSACTION_MAX_BYTES {
            return Err(StoreError::Malformed {
                table: self.table.clone(),
                message: format!(
                    "the flip of {} would be a transaction of {count} items, {bytes} bytes: over \
                     TransactWriteItems' {TRANSACTION_MAX_ITEMS} items or {TRANSACTION_MAX_BYTES} bytes",
                    next.version
                ),
            });
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

    fn parse_pointer(&self, i: &Item) -> Result<Pointer, StoreError> {
        let need = |name: &str| {
            get_s(i, name).ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: format!("pointer without '{name}'"),
            })
        };
        Ok(Pointer {
            payer: need("payer")?,
            period: need_period(i, "period", &self.table)?,
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
