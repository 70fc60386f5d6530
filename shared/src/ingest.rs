//! One S3 event, start to finish: for each created object, read the report through S3, store
//! its totals as a new version, make that version live if it is the newest delivery of its
//! period, and alert once per budget threshold crossed.

use crate::alert;
use crate::budget::{crossings, Crossing};
use crate::clients;
use crate::config::Config;
use crate::event::{
    padded_sequencer, parse_payload, report_key, EventError, Incoming, ReportObject,
};
use crate::report::{key_info, summarize, ErrorKind, Format, ReportError, ReportSummary};
use crate::s3_source::S3Source;
use crate::store::{
    AlertsStore, BudgetsStore, Flip, IngestRecord, Pointer, ReportsStore, StoreError, TotalsStore,
};
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{0}")]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SNS publish to {topic}: {message}")]
    Publish { topic: String, message: String },
    #[error("{failed} of {total} records failed; first: {first}")]
    Records {
        failed: usize,
        total: usize,
        first: String,
    },
}

/// What happened to one record, returned to the caller (and so to `cargo lambda invoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct RecordOutcome {
    pub key: String,
    /// `stored`, `stale`, `duplicate`, `skipped` or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub totals_written: u64,
    pub alerts_sent: u64,
}

impl RecordOutcome {
    fn skipped(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            outcome: "skipped".into(),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// How much a format is trusted as the period's source when several reach the bucket.
pub fn rank(format: Format) -> u8 {
    match format {
        Format::Cur1 | Format::Cur2 | Format::Focus => 3,
        Format::Dbr | Format::DbrResourcesTags => 2,
        Format::LegacyMonthly => 1,
        Format::LegacyCostAllocation => 0,
    }
}

fn new_version() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = Utc::now();
    format!(
        "v{}{:06x}{:04x}",
        now.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

/// The adapters the pipeline runs over, built once per process.
#[derive(Clone)]
pub struct Ingest {
    pub config: Config,
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    pub totals: TotalsStore,
    pub reports: ReportsStore,
    pub budgets: BudgetsStore,
    pub alerts: AlertsStore,
}

impl Ingest {
    pub async fn new(config: Config) -> Self {
        let sdk = clients::sdk_config().await;
        let dynamo = clients::dynamodb(&sdk);
        Self {
            s3: clients::s3(&sdk),
            sns: clients::sns(&sdk),
            totals: TotalsStore::new(dynamo.clone(), &config.tables.totals),
            reports: ReportsStore::new(dynamo.clone(), &config.tables.reports),
            budgets: BudgetsStore::new(dynamo.clone(), &config.tables.budgets),
            alerts: AlertsStore::new(dynamo, &config.tables.alerts),
            config,
        }
    }

    /// Handles a whole Lambda payload. Every record is attempted; if any fails, the error names
    /// them (so Lambda retries, and the failure destination catches it) while the work done for
    /// the others stays (their retries are duplicates, hence no-ops).
    pub async fn handle(&self, payload: &Value) -> Result<Vec<RecordOutcome>, IngestError> {
        let incoming = parse_payload(payload)?;
        let total = incoming.len();
        let mut outcomes = Vec::new();
        let mut failures = Vec::new();
        for item in incoming {
            let outcome = match item {
                Incoming::TestEvent => RecordOutcome::skipped("", "s3:TestEvent"),
                Incoming::Ignored(reason) => RecordOutcome::skipped("", reason),
                Incoming::Object(object) => match self.admit(&object) {
                    Err(reason) => RecordOutcome::skipped(&object.key, reason),
                    Ok(()) => match self.ingest_object(&object).await {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            tracing::error!(key = %object.key, error = %e, "report failed");
                            failures.push(format!("{}: {e}", object.key));
                            RecordOutcome {
                                key: object.key.clone(),
                                outcome: "failed".into(),
                                reason: Some(e.to_string()),
                                ..RecordOutcome::default()
                            }
                        }
                    },
                },
            };
            tracing::info!(key = %outcome.key, outcome = %outcome.outcome, reason = ?outcome.reason,
                totals = outcome.totals_written, alerts = outcome.alerts_sent, "record done");
            outcomes.push(outcome);
        }
        if let Some(first) = failures.first() {
            return Err(IngestError::Records {
                failed: failures.len(),
                total,
                first: first.clone(),
            });
        }
        Ok(outcomes)
    }

    fn admit(&self, object: &ReportObject) -> Result<(), String> {
        if let Some(bucket) = &self.config.bucket {
            if *bucket != object.bucket {
                return Err(format!(
                    "bucket '{}' is not the billing bucket '{bucket}'",
                    object.bucket
                ));
            }
        }
        report_key(&object.key)
    }

    /// Reads, stores and alerts for one report object.
    pub async fn ingest_object(&self, object: &ReportObject) -> Result<RecordOutcome, IngestError> {
        let started = Instant::now();
        let received_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let sequencer = object.sequencer.as_deref().map(padded_sequencer);
        let mut record = IngestRecord {
            period: key_info(&object.key)
                .period
                .unwrap_or_else(|| object.event_time.format("%Y-%m").to_string()),
            received_at: received_at.clone(),
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            etag: object.etag.clone(),
            sequencer: object.sequencer.clone(),
            version_id: object.version_id.clone(),
            ..IngestRecord::default()
        };

        // Duplicate and out-of-order events of one key stop here, before any work.
        if let Some(seq) = &sequencer {
            if let Some(latest) = self
                .reports
                .latest_sequencer(&object.bucket, &object.key)
                .await?
            {
                if latest >= *seq {
                    let outcome = if latest == *seq { "duplicate" } else { "stale" };
                    record.outcome = outcome.into();
                    record.duration_ms = started.elapsed().as_millis() as u64;
                    self.reports.record(&record).await?;
                    return Ok(RecordOutcome {
                        key: object.key.clone(),
                        outcome: outcome.into(),
                        reason: Some(format!(
                            "a delivery of this key with sequencer {latest} was already ingested"
                        )),
                        ..RecordOutcome::default()
                    });
                }
            }
        }

        let summary = match self.summarize(object).await {
            Ok(s) => s,
            Err(e) => {
                record.outcome = "failed".into();
                record.error = Some(e.to_string());
                record.duration_ms = started.elapsed().as_millis() as u64;
                self.reports.record(&record).await?;
                return Err(e.into());
            }
        };
        let Some(period) = summary.billing_period.clone() else {
            let e = ReportError::new(
                &object.key,
                ErrorKind::Invalid("the report names no billing period".into()),
            );
            record.outcome = "failed".into();
            record.error = Some(e.to_string());
            self.reports.record(&record).await?;
            return Err(e.into());
        };
        let payer = summary
            .payer_account_id
            .clone()
            .unwrap_or_else(|| "unknown".into());
        record.period = period.clone();
        record.format = Some(summary.format.name().into());
        record.payer = Some(payer.clone());
        record.status = Some(summary.status.name().into());
        record.as_of = summary.as_of.clone();
        record.delivery_id = summary.delivery_id.clone();
        record.rows_read = summary.rows_read;
        record.rows_summed = summary.rows_summed;
        record.checks = summary
            .checks
            .iter()
            .map(|c| {
                format!(
                    "{}: expected {} actual {} {}",
                    c.name,
                    c.expected,
                    c.actual,
                    if c.ok { "ok" } else { "FAILED" }
                )
            })
            .collect();

        let version = new_version();
        let written = self
            .totals
            .write_version(
                &summary,
                &payer,
                &period,
                &version,
                &object.key,
                &received_at,
            )
            .await?;
        let pointer = Pointer {
            payer: payer.clone(),
            period: period.clone(),
            version: version.clone(),
            report_key: object.key.clone(),
            order_key: object.order_key(),
            rank: rank(summary.format),
            format: summary.format.name().into(),
            status: summary.status.name().into(),
            as_of: summary.as_of.clone(),
            delivery_id: summary.delivery_id.clone(),
            stored_at: received_at.clone(),
            rows_summed: summary.rows_summed,
        };
        let (outcome, reason) = match self.reports.flip(&pointer).await? {
            Flip::Flipped { previous } => {
                if let Some(prev) = previous.filter(|p| p.version != version) {
                    self.totals
                        .delete_version(&prev.payer, &prev.period, &prev.version)
                        .await?;
                }
                ("stored", None)
            }
            Flip::Stale { current } => {
                self.totals
                    .delete_version(&payer, &period, &version)
                    .await?;
                (
                    "stale",
                    Some(format!(
                        "a newer or better delivery is live: {} ({})",
                        current.report_key, current.format
                    )),
                )
            }
            Flip::Duplicate => {
                self.totals
                    .delete_version(&payer, &period, &version)
                    .await?;
                (
                    "duplicate",
                    Some("this delivery is already live".to_string()),
                )
            }
        };
        if let Some(seq) = &sequencer {
            self.reports
                .note_sequencer(&object.bucket, &object.key, seq, object.etag.as_deref())
                .await?;
        }
        let stored = outcome == "stored";
        let alerts_sent = if stored {
            self.alert(&summary).await?
        } else {
            0
        };

        record.outcome = outcome.into();
        record.totals_written = if stored { written as u64 } else { 0 };
        record.alerts_sent = alerts_sent;
        record.duration_ms = started.elapsed().as_millis() as u64;
        self.reports.record(&record).await?;
        tracing::info!(key = %object.key, %period, %payer, format = summary.format.name(),
            rows = summary.rows_read, outcome, duration_ms = record.duration_ms, "report ingested");
        Ok(RecordOutcome {
            key: object.key.clone(),
            outcome: outcome.into(),
            reason,
            format: record.format.clone(),
            period: Some(period),
            status: record.status.clone(),
            totals_written: record.totals_written,
            alerts_sent,
        })
    }

    async fn summarize(&self, object: &ReportObject) -> Result<ReportSummary, ReportError> {
        let source = S3Source::new(
            self.s3.clone(),
            &object.bucket,
            tokio::runtime::Handle::current(),
        );
        let (bucket, key, limits) = (
            object.bucket.clone(),
            object.key.clone(),
            self.config.limits,
        );
        let task = tokio::task::spawn_blocking(move || {
            let opened = source
                .open(&bucket, &key)
                .map_err(|e| ReportError::new(&key, ErrorKind::Open(e.to_string())))?;
            summarize(opened, &key, &key, &source, &limits)
        });
        task.await.unwrap_or_else(|e| {
            Err(ReportError::new(
                &object.key,
                ErrorKind::Invalid(format!("summarize task failed: {e}")),
            ))
        })
    }

    /// Claims and publishes every new threshold crossing; returns how many were sent.
    async fn alert(&self, summary: &ReportSummary) -> Result<u64, IngestError> {
        let Some(topic) = &self.config.topic_arn else {
            return Ok(0);
        };
        let budgets = self.budgets.list().await?;
        let mut sent = 0;
        for crossing in crossings(&budgets, summary) {
            let basis = "actual";
            let id = alert::alert_id(&crossing, basis);
            let now = Utc::now();
            let claimed = self
                .alerts
                .claim(
                    &crossing.period,
                    &crossing.budget.name,
                    basis,
                    crossing.threshold,
                    &id,
                    crossing.spent,
                    crossing.budget.amount,
                    now,
                )
                .await?;
            if !claimed {
                continue;
            }
            match self.publish(topic, &crossing, summary, &id).await {
                Ok(message_id) => {
                    self.alerts
                        .mark_published(
                            &crossing.period,
                            &crossing.budget.name,
                            basis,
                            crossing.threshold,
                            &message_id,
                            Utc::now(),
                        )
                        .await?;
                    sent += 1;
                }
                Err(e) => {
                    self.alerts
                        .release(
                            &crossing.period,
                            &crossing.budget.name,
                            basis,
                            crossing.threshold,
                        )
                        .await?;
                    return Err(e);
                }
            }
        }
        Ok(sent)
    }

    async fn publish(
        &self,
        topic: &str,
        c: &Crossing,
        summary: &ReportSummary,
        id: &str,
    ) -> Result<String, IngestError> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .expect("data type is set")
        };
        let out = self
            .sns
            .publish()
            .topic_arn(topic)
            .subject(alert::subject(c, summary))
            .message(alert::body(c, summary))
            .message_attributes("budget", attr(&c.budget.name))
            .message_attributes("period", attr(&c.period))
            .message_attributes("threshold", attr(&c.threshold.normalize().to_string()))
            .message_attributes("basis", attr("actual"))
            .message_attributes("alert_id", attr(id))
            .send()
            .await
            .map_err(|e| IngestError::Publish {
                topic: topic.to_string(),
                message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}
