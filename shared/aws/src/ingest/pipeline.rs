//! The steps of one report object: seen before? → read → store a version → make it live →
//! send what the plan owes → record the ingest, once, whatever the outcome.

use super::{Ingest, IngestError, RecordOutcome};
use crate::error::ErrorClass;
use crate::event::{padded_sequencer, ReportObject};
use crate::notify::send_once;
use crate::outcome::Outcome;
use crate::store::{Flip, IngestRecord, Pointer};
use crate::timestamp;
use billwatch_core::alert::plan::{plan_delivery, report_failed, Delivery, Line, Previous};
use billwatch_core::alert::Alert;
use billwatch_core::period::Period;
use billwatch_core::report::{key_info, ErrorKind, ReportError, ReportSummary};
use chrono::{DateTime, Utc};
use std::time::Instant;

/// How one object ended, before it is recorded.
struct Done {
    outcome: Outcome,
    reason: Option<String>,
    totals_written: u64,
    alerts_sent: u64,
}

impl Done {
    fn without_work(outcome: Outcome, reason: String) -> Self {
        Done {
            outcome,
            reason: Some(reason),
            totals_written: 0,
            alerts_sent: 0,
        }
    }
}

/// What making a version live did.
enum Stored {
    Live {
        previous: Option<Previous>,
        written: u64,
    },
    NotLive(Outcome, String),
}

impl Ingest {
    /// Reads, stores and alerts for one report object, and records what happened in one place.
    pub async fn ingest_object(&self, object: &ReportObject) -> Result<RecordOutcome, IngestError> {
        let started = Instant::now();
        let now = self.clock.now();
        let mut record = IngestRecord {
            period: key_info(&object.key)
                .period
                .unwrap_or_else(|| Period::of(object.event_time)),
            received_at: timestamp(now),
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            etag: object.etag.clone(),
            sequencer: object.sequencer.clone(),
            version_id: object.version_id.clone(),
            delivery_id: None,
            format: None,
            payer: None,
            status: None,
            as_of: None,
            rows_read: 0,
            rows_summed: 0,
            checks: Vec::new(),
            outcome: Outcome::Failed,
            error: None,
            duration_ms: 0,
            totals_written: 0,
            alerts_sent: 0,
        };
        let result = self.run(object, now, &mut record).await;
        self.finish(object, record, started, now, result).await
    }

    async fn run(
        &self,
        object: &ReportObject,
        now: DateTime<Utc>,
        record: &mut IngestRecord,
    ) -> Result<Done, IngestError> {
        if let Some(done) = self.seen_before(object).await? {
            return Ok(done);
        }
        let summary = self.summarize(object).await?;
        let period = summary.billing_period.ok_or_else(|| {
            ReportError::new(
                &object.key,
                ErrorKind::Invalid("the report names no billing period".into()),
            )
        })?;
        describe(record, &summary, period);
        let stored = self.store(object, &summary, period, now).await?;
        if let Some(seq) = &object.sequencer {
            self.reports
                .note_sequencer(
                    &object.bucket,
                    &object.key,
                    &padded_sequencer(seq),
                    object.etag.as_deref(),
                )
                .await?;
        }
        match stored {
            Stored::NotLive(outcome, reason) => Ok(Done::without_work(outcome, reason)),
            Stored::Live { previous, written } => {
                let budgets = self.budgets.list().await?;
                let plan = plan_delivery(&Delivery {
                    report_key: &object.key,
                    object_version: &object_version(object),
                    summary: &summary,
                    period,
                    previous: previous.as_ref(),
                    budgets: &budgets,
                });
                Ok(Done {
                    outcome: Outcome::Stored,
                    reason: None,
                    totals_written: written,
                    alerts_sent: self.send_all(&plan, now).await?,
                })
            }
        }
    }

    /// Duplicate and out-of-order events of one key stop here, before any work.
    async fn seen_before(&self, object: &ReportObject) -> Result<Option<Done>, IngestError> {
        let Some(seq) = object.sequencer.as_deref().map(padded_sequencer) else {
            return Ok(None);
        };
        let Some(latest) = self
            .reports
            .latest_sequencer(&object.bucket, &object.key)
            .await?
        else {
            return Ok(None);
        };
        if latest < seq {
            return Ok(None);
        }
        let outcome = if latest == seq {
            Outcome::Duplicate
        } else {
            Outcome::Stale
        };
        Ok(Some(Done::without_work(
            outcome,
            format!("a delivery of this key with sequencer {latest} was already ingested"),
        )))
    }

    /// Writes the totals as a new version and makes it live if it is the period's newest
    /// delivery; the version it replaces (or its own, when it is not live) is deleted.
    async fn store(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Stored, IngestError> {
        let payer = summary
            .payer_account_id
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let version = new_version(now);
        let stored_at = timestamp(now);
        let written = self
            .totals
            .write_version(summary, &payer, period, &version, &object.key, &stored_at)
            .await? as u64;
        let pointer = Pointer {
            payer: payer.clone(),
            period,
            version: version.clone(),
            report_key: object.key.clone(),
            order_key: object.order_key(),
            rank: summary.format.rank(),
            format: summary.format,
            status: summary.status,
            as_of: summary.as_of.clone(),
            delivery_id: summary.delivery_id.clone(),
            stored_at,
            rows_summed: summary.rows_summed,
        };
        let (outcome, reason) = match self.reports.flip(&pointer).await? {
            Flip::Flipped { previous } => {
                let mut replaced = None;
                if let Some(prev) = previous.filter(|p| p.version != version) {
                    let lines = self
                        .totals
                        .query(&prev.payer, prev.period, &prev.version, None)
                        .await?
                        .into_iter()
                        .map(|t| Line {
                            account: t.account,
                            service: t.service,
                            currency: t.currency,
                            cost: t.cost,
                        })
                        .collect();
                    replaced = Some(Previous {
                        status: prev.status,
                        lines,
                    });
                    self.totals
                        .delete_version(&prev.payer, prev.period, &prev.version)
                        .await?;
                }
                return Ok(Stored::Live {
                    previous: replaced,
                    written,
                });
            }
            Flip::Stale { current } => (
                Outcome::Stale,
                format!(
                    "a newer or better delivery is live: {} ({})",
                    current.report_key,
                    current.format.name()
                ),
            ),
            Flip::Duplicate => (Outcome::Duplicate, "this delivery is already live".into()),
        };
        self.totals.delete_version(&payer, period, &version).await?;
        Ok(Stored::NotLive(outcome, reason))
    }

    /// Sends every planned alert once. One that fails does not stop the others; the first
    /// failure is returned after all were tried.
    async fn send_all(&self, plan: &[Alert], now: DateTime<Utc>) -> Result<u64, IngestError> {
        let mut sent = 0;
        let mut first_error = None;
        for alert in plan {
            match send_once(
                &self.alerts,
                &self.sns,
                self.config.topic_arn.as_deref(),
                alert,
                now,
            )
            .await
            {
                Ok(n) => sent += n,
                Err(e) => {
                    tracing::error!(alert = %alert.alert_id, error = %e, "alert not sent");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(sent),
        }
    }

    /// Records the ingest once, whatever the outcome; a report that cannot be read alerts once
    /// per object version.
    async fn finish(
        &self,
        object: &ReportObject,
        mut record: IngestRecord,
        started: Instant,
        now: DateTime<Utc>,
        result: Result<Done, IngestError>,
    ) -> Result<RecordOutcome, IngestError> {
        record.duration_ms = started.elapsed().as_millis() as u64;
        let done = match result {
            Ok(done) => done,
            Err(e) => {
                record.outcome = Outcome::Failed;
                record.error = Some(e.to_string());
                if e.class() == ErrorClass::Permanent {
                    let alert = report_failed(
                        record.period,
                        &object.bucket,
                        &object.key,
                        &object_version(object),
                        &e.to_string(),
                    );
                    record.alerts_sent = self.send_all(&[alert], now).await.unwrap_or(0);
                }
                self.reports.record(&record).await?;
                return Err(e);
            }
        };
        record.outcome = done.outcome;
        record.totals_written = done.totals_written;
        record.alerts_sent = done.alerts_sent;
        self.reports.record(&record).await?;
        tracing::info!(key = %object.key, period = %record.period, payer = ?record.payer,
            format = ?record.format.map(|f| f.name()), rows = record.rows_read,
            outcome = %done.outcome, duration_ms = record.duration_ms, "report ingested");
        Ok(RecordOutcome {
            key: object.key.clone(),
            outcome: done.outcome,
            reason: done.reason,
            format: record.format,
            period: record.format.map(|_| record.period),
            status: record.status,
            totals_written: done.totals_written,
            alerts_sent: done.alerts_sent,
        })
    }
}

/// What the report said, for the ingest record.
fn describe(record: &mut IngestRecord, summary: &ReportSummary, period: Period) {
    record.period = period;
    record.format = Some(summary.format);
    record.payer = summary.payer_account_id.clone();
    record.status = Some(summary.status);
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
}

/// A totals version id: a ULID (time-ordered, unique without coordination), prefixed `v`.
fn new_version(now: DateTime<Utc>) -> String {
    format!("v{}", ulid::Ulid::from_datetime(now.into()))
}

/// The object's version for once-per-version alerts: its sequencer, else its ETag.
fn object_version(object: &ReportObject) -> String {
    object
        .sequencer
        .clone()
        .or_else(|| object.etag.clone())
        .unwrap_or_default()
}
