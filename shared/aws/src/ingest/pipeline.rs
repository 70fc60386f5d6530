//! One report object from start to finish: seen before? → read → each period delivered (see
//! `deliver`) → sequencer noted → the ingest recorded, once, whatever the outcome.

use super::record::describe;
use super::{Ingest, IngestError, RecordOutcome};
use crate::error::ErrorClass;
use crate::event::{padded_sequencer, ReportObject};
use crate::outcome::Outcome;
use crate::store::IngestRecord;
use crate::timestamp;
use billwatch_core::period::Period;
use billwatch_core::report::{key_info, ErrorKind, ReportError};
use chrono::{DateTime, Utc};
use std::time::{Instant, SystemTime};

/// How one object ended, before it is recorded.
pub(super) struct Done {
    pub(super) outcome: Outcome,
    pub(super) reason: Option<String>,
    pub(super) totals_written: u64,
    pub(super) alerts_sent: u64,
}

impl Done {
    pub(super) fn without_work(outcome: Outcome, reason: String) -> Self {
        Done {
            outcome,
            reason: Some(reason),
            totals_written: 0,
            alerts_sent: 0,
        }
    }
}

impl Ingest {
    /// Reads, stores and alerts for one report object, and records what happened in one place.
    pub async fn ingest_object(&self, object: &ReportObject) -> Result<RecordOutcome, IngestError> {
        self.ingest_object_until(object, None).await
    }

    /// [`Ingest::ingest_object`] in an invocation that ends at `deadline`.
    pub async fn ingest_object_until(
        &self,
        object: &ReportObject,
        deadline: Option<SystemTime>,
    ) -> Result<RecordOutcome, IngestError> {
        let started = Instant::now();
        let now = self.clock.now();
        let record = IngestRecord {
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
        let result = self.run(object, now, &record, deadline).await;
        self.finish(object, record, started, now, result).await
    }

    /// Everything for one object, one period after the other (a FOCUS dataset may span several;
    /// each replaces only its own period). Returns each period's ingest record and outcome.
    async fn run(
        &self,
        object: &ReportObject,
        now: DateTime<Utc>,
        received: &IngestRecord,
        deadline: Option<SystemTime>,
    ) -> Result<Vec<(IngestRecord, Done)>, IngestError> {
        if let Some(done) = self.seen_before(object).await? {
            return Ok(vec![(received.clone(), done)]);
        }
        let mut out = Vec::new();
        for summary in self.summarize(object, deadline).await? {
            let period = summary.billing_period.ok_or_else(|| {
                ReportError::new(
                    &object.key,
                    ErrorKind::Invalid("the report names no billing period".into()),
                )
            })?;
            let mut record = received.clone();
            describe(&mut record, &summary, period);
            let done = self
                .deliver(object, &summary, period, now, deadline)
                .await?;
            out.push((record, done));
        }
        self.note_sequencer(object).await?;
        Ok(out)
    }

    /// Remembers this event's sequencer as the key's newest, last of all: a retry of an attempt
    /// that died before this point redoes (idempotently) whatever was left.
    pub(super) async fn note_sequencer(&self, object: &ReportObject) -> Result<(), IngestError> {
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
        Ok(())
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

    /// Records the ingest once, whatever the outcome; a report that cannot be read alerts once
    /// per object version.
    async fn finish(
        &self,
        object: &ReportObject,
        mut record: IngestRecord,
        started: Instant,
        now: DateTime<Utc>,
        result: Result<Vec<(IngestRecord, Done)>, IngestError>,
    ) -> Result<RecordOutcome, IngestError> {
        let elapsed = || started.elapsed().as_millis() as u64;
        let periods = match result {
            Ok(periods) => periods,
            Err(e) => {
                record.duration_ms = elapsed();
                record.error = Some(e.to_string());
                let empty =
                    matches!(&e, IngestError::Report(r) if matches!(r.kind, ErrorKind::Empty(_)));
                if empty {
                    // Nothing to store, nothing wrong enough to alert: the month stays as it was.
                    record.outcome = Outcome::Skipped;
                    self.measure_handled(object, Outcome::Skipped, None, 0, record.duration_ms);
                    self.note_sequencer(object).await?;
                    self.reports.record(&record).await?;
                    return Ok(RecordOutcome::new(
                        &object.key,
                        Outcome::Skipped,
                        record.error,
                    ));
                }
                record.outcome = Outcome::Failed;
                self.measure_handled(object, Outcome::Failed, None, 0, record.duration_ms);
                if e.class() == ErrorClass::Permanent {
                    record.alerts_sent = self.report_failed(object, record.period, &e, now).await;
                    // Not worth a retry: a duplicate of this event is a no-op.
                    self.note_sequencer(object).await?;
                }
                self.reports.record(&record).await?;
                return Err(e);
            }
        };
        let mut outcome = RecordOutcome::new(&object.key, Outcome::Stale, None);
        let mut rows_read = 0;
        for (mut record, done) in periods {
            rows_read += record.rows_read;
            record.outcome = done.outcome;
            record.totals_written = done.totals_written;
            record.alerts_sent = done.alerts_sent;
            record.duration_ms = elapsed();
            self.reports.record(&record).await?;
            tracing::info!(key = %object.key, via = object.via.as_str(), period = %record.period, payer = ?record.payer,
                format = ?record.format.map(|f| f.name()), rows = record.rows_read,
                outcome = %done.outcome, duration_ms = record.duration_ms, "report ingested");
            if outcome.period.is_none() || done.outcome == Outcome::Stored {
                outcome.outcome = done.outcome;
                outcome.reason = done.reason;
            }
            outcome.format = record.format;
            outcome.status = record.status;
            outcome.period = outcome.period.or(record.format.map(|_| record.period));
            outcome.totals_written += done.totals_written;
            outcome.alerts_sent += done.alerts_sent;
        }
        self.measure_handled(
            object,
            outcome.outcome,
            outcome.format,
            rows_read,
            elapsed(),
        );
        Ok(outcome)
    }
}
