//! The totals table: per (payer, period, version), one item per account holding its totals
//! (see [`sheet`] and docs/tables.md), written and deleted by many BatchWriteItem calls at once
//! ([`super::batch`]).

pub mod sheet;

pub use sheet::partition;

use super::attr::{part, s, Item};
use super::batch;
use super::item_size::{item_bytes, write_units};
use super::StoreError;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use billwatch_core::budget::spec::Figures;
use billwatch_core::period::Period;
use billwatch_core::report::{ReportSummary, Status};
use rust_decimal::Decimal;

/// The index of every account's sheets across periods (its name is kept from the per-total
/// layout, when it was keyed by account and service, so that a deployed table upgrades in place).
pub const BY_ACCOUNT_SERVICE: &str = "by-account-service";

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
    /// Usage per day of the month (CUR, FOCUS), as the engine's `Total::daily_usage`; None
    /// for reports without daily data (and totals stored before it was kept).
    #[serde(skip)]
    pub daily: Option<Vec<Decimal>>,
    pub status: Status,
    pub as_of: Option<String>,
    pub report_key: String,
    pub stored_at: String,
}

/// The sort key prefix of a version's budget items. `%` starts no account's sheet key (an
/// account's `%` is escaped as `%25`), so no account collides with it.
const BUDGET_SK: &str = "%budget#";

/// The sort key prefix of a version's commitment items (`%commitments#0000`, …): the report's
/// commitments and coverage, kept when a commitment budget asked for them.
const COMMITMENTS_SK: &str = "%commitments#";

/// Commitments per item: a commitment with a month of daily figures is about 3 KB of JSON, so
/// a chunk stays far under DynamoDB's 400 KB item limit.
const COMMITMENTS_PER_ITEM: usize = 60;

/// Whether an item of a version holds a budget's figures or commitments rather than an
/// account's totals.
fn is_budget_item(item: &Item) -> bool {
    item.get("sk")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|sk| sk.starts_with(BUDGET_SK) || sk.starts_with(COMMITMENTS_SK))
}

/// The stored form of a report's commitments: the commitments, and coverage per usage account
/// and service family (its daily figures are kept in the gauges' own figures).
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct CommitmentChunk {
    commitments: Vec<billwatch_core::commitment::Commitment>,
    coverage: Vec<(
        String,
        billwatch_core::commitment::Family,
        billwatch_core::commitment::Coverage,
    )>,
}

/// The items of a report's commitments in a version: the coverage and the first commitments in
/// the first item, then [`COMMITMENTS_PER_ITEM`] commitments per item.
fn commitment_items(
    payer: &str,
    period: Period,
    version: &str,
    summary: &billwatch_core::commitment::Summary,
) -> Result<Vec<Item>, String> {
    let mut chunks: Vec<CommitmentChunk> = summary
        .commitments
        .chunks(COMMITMENTS_PER_ITEM)
        .map(|c| CommitmentChunk {
            commitments: c.to_vec(),
            coverage: Vec::new(),
        })
        .collect();
    if chunks.is_empty() {
        chunks.push(CommitmentChunk::default());
    }
    chunks[0].coverage = summary
        .coverage
        .iter()
        .map(|((account, family), c)| {
            let mut c = c.clone();
            c.days.clear();
            (account.clone(), *family, c)
        })
        .collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let item: Item = std::collections::HashMap::from([
                ("pk".into(), s(partition(payer, period, version))),
                ("sk".into(), s(format!("{COMMITMENTS_SK}{i:04}"))),
                (
                    "commitments".into(),
                    s(serde_json::to_string(chunk).expect("commitments serialize")),
                ),
            ]);
            if item_bytes(&item) > super::item_size::MAX_ITEM_BYTES {
                return Err(format!(
                    "commitments item {i}: {} bytes do not fit one item",
                    item_bytes(&item)
                ));
            }
            Ok(item)
        })
        .collect()
}

/// The item of one budget's figures in a version: the figures as JSON (a daily series per
/// currency at most: a few kilobytes).
fn budget_item(payer: &str, period: Period, version: &str, f: &Figures) -> Result<Item, String> {
    let item: Item = std::collections::HashMap::from([
        ("pk".into(), s(partition(payer, period, version))),
        ("sk".into(), s(format!("{BUDGET_SK}{}", part(&f.name)))),
        (
            "figures".into(),
            s(serde_json::to_string(f).expect("figures serialize")),
        ),
    ]);
    if item_bytes(&item) > super::item_size::MAX_ITEM_BYTES {
        return Err(format!(
            "budget '{}': its figures ({} bytes) do not fit one item",
            f.name,
            item_bytes(&item)
        ));
    }
    Ok(item)
}

/// What writing one version took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionWrite {
    /// Totals stored.
    pub totals: usize,
    /// Items written (sheets).
    pub items: usize,
    /// Their size as DynamoDB counts it, and the write units that costs in the table (the
    /// index `by-account-service`, projecting every attribute, costs as much again).
    pub bytes: usize,
    pub write_units: u64,
    /// BatchWriteItem calls, retries included.
    pub calls: u64,
}

#[derive(Clone, Debug)]
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

    /// Writes every total of `summary` under `version`: one sheet per account (see
    /// [`sheet`]), many BatchWriteItem calls at once.
    pub async fn write_version(
        &self,
        summary: &ReportSummary,
        payer: &str,
        period: Period,
        version: &str,
        report_key: &str,
        stored_at: &str,
    ) -> Result<VersionWrite, StoreError> {
        let items = sheet::sheets(
            &summary.totals,
            &sheet::Version {
                payer,
                period,
                version,
                status: summary.status,
                as_of: summary.as_of.as_deref(),
                report_key,
                stored_at,
            },
        )
        .map_err(|message| StoreError::Malformed {
            table: self.table.clone(),
            message,
        })?;
        let mut items = items;
        for figures in &summary.budgets {
            items.push(
                budget_item(payer, period, version, figures).map_err(|message| {
                    StoreError::Malformed {
                        table: self.table.clone(),
                        message,
                    }
                })?,
            );
        }
        if let Some(c) = &summary.commitments {
            items.extend(
                commitment_items(payer, period, version, c).map_err(|message| {
                    StoreError::Malformed {
                        table: self.table.clone(),
                        message,
                    }
                })?,
            );
        }
        let mut written = VersionWrite {
            totals: summary.totals.len(),
            items: items.len(),
            ..VersionWrite::default()
        };
        let requests: Vec<WriteRequest> = items
            .into_iter()
            .map(|item| {
                let bytes = item_bytes(&item);
                written.bytes += bytes;
                written.write_units += write_units(bytes);
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
        written.calls = batch::write_all(&self.client, &self.table, requests)
            .await?
            .calls;
        Ok(written)
    }

    /// Deletes every item of one version (a superseded or a refused delivery). Returns the
    /// number of items.
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
        batch::write_all(&self.client, &self.table, requests).await?;
        Ok(count)
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
        for item in &super::query_all(request, &self.table).await? {
            out.extend(self.read_item(item)?);
        }
        Ok(out)
    }

    /// The budgets' figures stored with one version (one item each, `sk = %budget#<name>`).
    pub async fn budget_figures(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<Figures>, StoreError> {
        let items = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :b)")
                .expression_attribute_values(":pk", s(partition(payer, period, version)))
                .expression_attribute_values(":b", s(BUDGET_SK)),
            &self.table,
        )
        .await?;
        items
            .iter()
            .map(|item| {
                let json = item.get("figures").and_then(|v| v.as_s().ok());
                json.and_then(|j| serde_json::from_str(j).ok())
                    .ok_or_else(|| StoreError::Malformed {
                        table: self.table.clone(),
                        message: format!(
                            "the budget item {:?} holds no readable figures",
                            item.get("sk")
                        ),
                    })
            })
            .collect()
    }

    /// The commitments stored with one version (when a commitment budget asked the delivery
    /// for them), or `None`.
    pub async fn commitments(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Option<billwatch_core::commitment::Summary>, StoreError> {
        let items = super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :c)")
                .expression_attribute_values(":pk", s(partition(payer, period, version)))
                .expression_attribute_values(":c", s(COMMITMENTS_SK)),
            &self.table,
        )
        .await?;
        if items.is_empty() {
            return Ok(None);
        }
        let mut out = billwatch_core::commitment::Summary::default();
        for item in &items {
            let chunk: CommitmentChunk = item
                .get("commitments")
                .and_then(|v| v.as_s().ok())
                .and_then(|j| serde_json::from_str(j).ok())
                .ok_or_else(|| StoreError::Malformed {
                    table: self.table.clone(),
                    message: format!("the commitments item {:?} cannot be read", item.get("sk")),
                })?;
            out.commitments.extend(chunk.commitments);
            for (account, family, c) in chunk.coverage {
                out.coverage.insert((account, family), c);
            }
        }
        Ok(Some(out))
    }

    /// Every stored version of one account + service, oldest period first: one Query of the
    /// account's sheets on the index, keeping the service's totals.
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
                .expression_attribute_values(":k", s(part(account))),
            &self.table,
        )
        .await?;
        for item in &items {
            out.extend(
                self.read_item(item)?
                    .into_iter()
                    .filter(|t| t.service == service),
            );
        }
        Ok(out)
    }

    /// The totals one stored item holds (a test may read scanned items with it).
    /// A budget's item holds none.
    pub fn read_item(&self, item: &Item) -> Result<Vec<StoredTotal>, StoreError> {
        if is_budget_item(item) {
            return Ok(Vec::new());
        }
        sheet::read(item).map_err(|message| StoreError::Malformed {
            table: self.table.clone(),
            message,
        })
    }
}
