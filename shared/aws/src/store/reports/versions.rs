//! Versions noted before their totals are written, so that one whose attempt died can be found
//! and removed.

use super::pointer::{Order, Pointer};
use super::{period_pk, ReportsStore};
use crate::store::attr::{get_s, get_u64, n_int, part, s};
use crate::store::{unless_condition_failed, StoreError};
use billwatch_core::period::Period;

pub use billwatch_core::delivery::VersionMark;

impl ReportsStore {
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

    /// The versions of (payer, period) noted as written, with when and where they rank.
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
                    complete: i.contains_key("complete"),
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

    /// Notes that every item of `version` is written.
    pub async fn version_complete(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        // Conditional on the mark: a concurrent delivery of the same event may have swept it
        // (and this version's items) already; an update without the condition would create a
        // bare item no sweep lists. Without its mark, the version is removed by this
        // delivery's own sweep (`billwatch_core::delivery::decide::sweeps_own`).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(period_pk(period)))
            .key("sk", s(version_sk(payer, version)))
            .update_expression("SET complete = :t")
            .condition_expression("attribute_exists(sk)")
            .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .send()
            .await;
        unless_condition_failed("UpdateItem", &self.table, result)
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
}

fn version_sk(payer: &str, version: &str) -> String {
    format!("V#{}#{version}", part(payer))
}
