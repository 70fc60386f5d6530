//! The totals table: one item per (payer, period, version, account, service, currency).

use super::attr::{get_n, get_s, n, need_period, part, s, Item};
use super::StoreError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use billwatch_core::period::Period;
use billwatch_core::report::{ReportSummary, Status};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::time::Duration;

pub const BY_ACCOUNT_SERVICE: &str = "by-account-service";
const BATCH: usize = 25;
const MAX_ATTEMPTS: u32 = 10;

/// One stored total, as read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredTotal {
    pub payer: String,
    pub period: Period,
    pub version: String,
    pub account: String,
    pub service: String,
    pub service_name: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    pub breakdown: Vec<(String, String)>,
    pub status: Status,
    pub as_of: Option<String>,
    pub report_key: String,
    pub stored_at: String,
}

pub fn partition(payer: &str, period: Period, version: &str) -> String {
    format!("T#{}#{period}#{version}", part(payer))
}

#[derive(Clone)]
pub struct TotalsStore {
    client: Client,
    table: String,
}

impl TotalsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Writes every total of `summary` under `version`. Returns the number of items.
    pub async fn write_version(
        &self,
        summary: &ReportSummary,
        payer: &str,
        period: Period,
        version: &str,
        report_key: &str,
        stored_at: &str,
    ) -> Result<usize, StoreError> {
        let pk = partition(payer, period, version);
        let requests: Vec<WriteRequest> = summary
            .totals
            .iter()
            .map(|t| {
                let breakdown: HashMap<String, AttributeValue> = t
                    .breakdown
                    .0
                    .iter()
                    .map(|(part, amount)| (part.name().to_string(), n(*amount)))
                    .collect();
                let mut item: Item = HashMap::from([
                    ("pk".into(), s(&pk)),
                    (
                        "sk".into(),
                        s(format!(
                            "{}#{}#{}",
                            part(&t.account_id),
                            part(&t.service),
                            part(&t.currency)
                        )),
                    ),
                    (
                        "gsi1pk".into(),
                        s(format!("{}#{}", part(&t.account_id), part(&t.service))),
                    ),
                    (
                        "gsi1sk".into(),
                        s(format!(
                            "{period}#{}#{version}#{}",
                            part(payer),
                            part(&t.currency)
                        )),
                    ),
                    ("payer".into(), s(payer)),
                    ("period".into(), s(period.to_string())),
                    ("version".into(), s(version)),
                    ("account".into(), s(&t.account_id)),
                    ("service".into(), s(&t.service)),
                    ("service_name".into(), s(&t.service_name)),
                    ("currency".into(), s(&t.currency)),
                    ("cost".into(), n(t.cost)),
                    ("breakdown".into(), AttributeValue::M(breakdown)),
                    ("status".into(), s(summary.status.name())),
                    ("report_key".into(), s(report_key)),
                    ("stored_at".into(), s(stored_at)),
                ]);
                if let Some(as_of) = &summary.as_of {
                    item.insert("as_of".into(), s(as_of));
                }
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .expect("item is set"),
                    )
                    .build()
            })
            .collect();
        let count = requests.len();
        self.batch_write(requests).await?;
        Ok(count)
    }

    /// Deletes every item of one version (a superseded or a refused delivery).
    pub async fn delete_version(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<usize, StoreError> {
        let pk = partition(payer, period, version);
        let keys = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .projection_expression("pk, sk"),
            &self.table,
        )
        .await?;
        let requests: Vec<WriteRequest> = keys
            .into_iter()
            .map(|key| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key))
                            .build()
                            .expect("key is set"),
                    )
                    .build()
            })
            .collect();
        let count = requests.len();
        self.batch_write(requests).await?;
        Ok(count)
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                attempt += 1;
                if attempt > MAX_ATTEMPTS {
                    return Err(StoreError::Incomplete {
                        operation: "BatchWriteItem",
                        table: self.table.clone(),
                        message: format!("{} items still unprocessed after retries", pending.len()),
                    });
                }
                if attempt > 1 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamo("BatchWriteItem", &self.table, e))?;
                pending = out
                    .unprocessed_items()
                    .and_then(|m| m.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// The totals of one version, optionally of one account.
    pub async fn query(
        &self,
        payer: &str,
        period: Period,
        version: &str,
        account: Option<&str>,
    ) -> Result<Vec<StoredTotal>, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(partition(payer, period, version)));
        request = match account {
            Some(a) => request
                .key_condition_expression("pk = :pk AND begins_with(sk, :a)")
                .expression_attribute_values(":a", s(format!("{}#", part(a)))),
            None => request.key_condition_expression("pk = :pk"),
        };
        let mut out = Vec::new();
        let items = super::query_all(request.clone(), &self.table).await?;
        for item in &items {
            out.push(self.parse(item)?);
        }
        Ok(out)
    }

    /// Every stored version of one account + service, oldest period first.
    pub async fn history(
        &self,
        account: &str,
        service: &str,
    ) -> Result<Vec<StoredTotal>, StoreError> {
        let mut out = Vec::new();
        let items = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .index_name(BY_ACCOUNT_SERVICE)
                .key_condition_expression("gsi1pk = :k")
                .expression_attribute_values(
                    ":k",
                    s(format!("{}#{}", part(account), part(service))),
                ),
            &self.table,
        )
        .await?;
        for item in &items {
            out.push(self.parse(item)?);
        }
        Ok(out)
    }

    fn parse(&self, item: &Item) -> Result<StoredTotal, StoreError> {
        let need = |name: &str| {
            get_s(item, name).ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: format!("missing '{name}'"),
            })
        };
        let mut breakdown: Vec<(String, String)> = item
            .get("breakdown")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_n().ok().map(|n| (k.clone(), n.clone())))
                    .collect()
            })
            .unwrap_or_default();
        breakdown.sort();
        Ok(StoredTotal {
            payer: need("payer")?,
            period: need_period(item, "period", &self.table)?,
            version: need("version")?,
            account: need("account")?,
            service: need("service")?,
            service_name: get_s(item, "service_name").unwrap_or_default(),
            currency: need("currency")?,
            cost: get_n(item, "cost").ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: "missing or invalid 'cost'".into(),
            })?,
            breakdown,
            status: Status::from_name(&need("status")?).ok_or_else(|| StoreError::Malformed {
                table: self.table.clone(),
                message: "a total with an unknown status".into(),
            })?,
            as_of: get_s(item, "as_of"),
            report_key: get_s(item, "report_key").unwrap_or_default(),
            stored_at: get_s(item, "stored_at").unwrap_or_default(),
        })
    }
}
