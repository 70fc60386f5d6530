//! The steps of one report object: seen before? → read → store a version → make it live →
//! send what the plan owes → record the ingest, once, whatever the outcome.

use super::{Ingest, IngestError, RecordOutcome};
use crate::error::ErrorClass;
use crate::event::{padded_sequencer, ReportObject};
use crate::notify::{send_once, Sent};
use crate::outcome::Outcome;
use crate::store::{Flip, IngestRecord, Owed, Pointer, StoreError};
use crate::timestamp;
use billwatch_core::alert::plan::{plan_delivery, report_failed, Delivery, Line, Previous};
use billwatch_core::alert::report_text;
use billwatch_core::period::Period;
use billwatch_core::report::{key_info, Check, ErrorKind, ReportError, ReportSummary};
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
enum Live {
    /// It is the period's live delivery now.
    Now,
    /// It already was (an earlier attempt got this far).
    Already,
    /// A delivery that outranks it is live.
    Outranked(String),
}

/// Attempts at the conditional flip when other deliveries of the period keep flipping first.
const MAX_FLIP_ATTEMPTS: usize = 5;
/// A version not live after this long was left by an attempt that died (Lambda's timeout is at
/// most 15 minutes).
const ABANDONED_SECONDS: i64 = 20 * 60;

impl Ingest {
    /// Reads, stores and alerts for one report object, and records what happened in one place.
    pub async fn ingest_object(&self, object: &ReportObject) -> Result<RecordOutcome, IngestError> {
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
        let result = self.run(object, now, &record).await;
        self.finish(object, record, started, now, result).await
    }

    /// Everything for one object, one period after the other (a FOCUS dataset may span several;
    /// each replaces only its own period). Returns each period's ingest record and outcome.
    async fn run(
        &self,
        object: &ReportObject,
        now: DateTime<Utc>,
        received: &IngestRecord,
    ) -> Result<Vec<(IngestRecord, Done)>, IngestError> {
        if let Some(done) = self.seen_before(object).await? {
            return Ok(vec![(received.clone(), done)]);
        }
        let mut out = Vec::new();
        for summary in self.summarize(object).await? {
            let period = summary.billing_period.ok_or_else(|| {
                ReportError::new(
                    &object.key,
                    ErrorKind::Invalid("the report names no billing period".into()),
                )
            })?;
            let mut record = received.clone();
            describe(&mut record, &summary, period);
            let done = self.deliver(object, &summary, period, now).await?;
            out.push((record, done));
        }
        self.note_sequencer(object).await?;
        Ok(out)
    }

    /// Remembers this event's sequencer as the key's newest, last of all: a retry of an attempt
    /// that died before this point redoes (idempotently) whatever was left.
    async fn note_sequencer(&self, object: &ReportObject) -> Result<(), IngestError> {
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

    /// Stores one period's totals as this object's version, makes it live (with the alerts it
    /// owes, in one transaction) if it is the period's newest delivery, sends what the period's
    /// outbox holds, and removes versions that are no longer live.
    async fn deliver(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Done, IngestError> {
        let payer = summary
            .payer_account_id
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let version = version_of(object);
        let next = Pointer {
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
            stored_at: timestamp(now),
            rows_summed: summary.rows_summed,
            sequencer: object.sequencer.as_deref().map(padded_sequencer),
        };
        // Noted before the first item, so a version whose attempt dies is found and removed.
        self.reports.mark_version(&next, now).await?;
        let written = self
            .totals
            .write_version(
                summary,
                &payer,
                period,
                &version,
                &object.key,
                &next.stored_at,
            )
            .await? as u64;
        let live = self.make_live(object, summary, &next, now).await?;
        let alerts_sent = self.drain(period, now).await?;
        self.sweep(period, &payer, now).await?;
        Ok(match live {
            Live::Now => Done {
                outcome: Outcome::Stored,
                reason: None,
                totals_written: written,
                alerts_sent,
            },
            Live::Already => Done {
                outcome: Outcome::Duplicate,
                reason: Some("this delivery is already live".into()),
                totals_written: 0,
                alerts_sent,
            },
            Live::Outranked(reason) => Done {
                alerts_sent,
                ..Done::without_work(Outcome::Stale, reason)
            },
        })
    }

    /// Reads the live pointer, decides whether `next` replaces it, plans the alerts against the
    /// delivery it replaces, and flips the pointer and writes the owed alerts in one
    /// transaction, conditional on the pointer being unchanged; re-reads on a conflict.
    async fn make_live(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        next: &Pointer,
        now: DateTime<Utc>,
    ) -> Result<Live, IngestError> {
        for _ in 0..MAX_FLIP_ATTEMPTS {
            let current = self.reports.pointer(next.period, &next.payer).await?;
            if let Some(c) = &current {
                if c.version == next.version {
                    return Ok(Live::Already);
                }
                if !next.outranks(c) {
                    return Ok(Live::Outranked(format!(
                        "a newer or better delivery is live: {} ({})",
                        c.report_key,
                        c.format.name()
                    )));
                }
            }
            let previous = match &current {
                Some(c) => Some(Previous {
                    status: c.status,
                    lines: self
                        .totals
                        .query(&c.payer, c.period, &c.version, None)
                        .await?
                        .into_iter()
                        .map(|t| Line {
                            account: t.account,
                            service: t.service,
                            currency: t.currency,
                            cost: t.cost,
                        })
                        .collect(),
                }),
                None => None,
            };
            let budgets = self.budgets.list().await?;
            let plan = plan_delivery(&Delivery {
                report_key: &object.key,
                object_version: &object_version(object),
                summary,
                period: next.period,
                previous: previous.as_ref(),
                budgets: &budgets,
            });
            let owed: Vec<Owed> = plan.iter().map(Owed::from).collect();
            let beside = self
                .alerts
                .outbox_items(&next.version, &owed, now)
                .into_iter()
                .map(|item| (self.alerts.table().to_string(), item))
                .collect();
            if self.reports.flip(next, current.as_ref(), beside).await? == Flip::Flipped {
                return Ok(Live::Now);
            }
        }
        Err(StoreError::Incomplete {
            operation: "TransactWriteItems",
            table: self.config.tables.reports.clone(),
            message: format!(
                "the live pointer of {} kept changing ({MAX_FLIP_ATTEMPTS} attempts)",
                next.period
            ),
        }
        .into())
    }

    /// Sends every alert in the period's outbox (this delivery's, and any an earlier attempt
    /// left), once each; an outbox item goes when all its alerts are sent. One alert that fails
    /// does not stop the others; a transient failure, or an alert another attempt holds, is
    /// returned as an error after all were tried, so the event is retried.
    async fn drain(&self, period: Period, now: DateTime<Utc>) -> Result<u64, IngestError> {
        let mut sent = 0;
        let mut first_error: Option<IngestError> = None;
        for (sk, owed) in self.alerts.outbox(period).await? {
            let mut pending = false;
            for alert in &owed {
                let topic = self.config.topic_arn.as_deref();
                match send_once(&self.alerts, &self.sns, topic, alert, now).await {
                    Ok(Sent::Now) => sent += 1,
                    Ok(Sent::Before | Sent::NoTopic | Sent::Refused) => {}
                    Ok(Sent::Pending) => {
                        pending = true;
                        first_error.get_or_insert(IngestError::AlertPending {
                            alert_id: alert.alert_id.clone(),
                        });
                    }
                    Err(e) => {
                        tracing::error!(alert = %alert.alert_id, error = %e, "alert not sent");
                        pending = true;
                        first_error.get_or_insert(e.into());
                    }
                }
            }
            if !pending {
                self.alerts.delete_item(period, &sk).await?;
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(sent),
        }
    }

    /// Removes the versions of (payer, period) that can never be live again: those the live
    /// delivery outranks at once, any other after [`ABANDONED_SECONDS`] (its attempt died).
    /// Each version's items go before its note, so a crash here is finished by the next sweep.
    async fn sweep(
        &self,
        period: Period,
        payer: &str,
        now: DateTime<Utc>,
    ) -> Result<(), IngestError> {
        let Some(live) = self.reports.pointer(period, payer).await? else {
            return Ok(());
        };
        for mark in self.reports.versions(period, payer).await? {
            if mark.version == live.version {
                continue;
            }
            let outranked = live.order().outranks(&mark.order);
            let abandoned = now.timestamp() - mark.written_epoch > ABANDONED_SECONDS;
            if outranked || abandoned {
                self.totals
                    .delete_version(payer, period, &mark.version)
                    .await?;
                self.reports
                    .forget_version(period, payer, &mark.version)
                    .await?;
            }
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
                    self.note_sequencer(object).await?;
                    self.reports.record(&record).await?;
                    return Ok(RecordOutcome::new(
                        &object.key,
                        Outcome::Skipped,
                        record.error,
                    ));
                }
                record.outcome = Outcome::Failed;
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
        for (mut record, done) in periods {
            record.outcome = done.outcome;
            record.totals_written = done.totals_written;
            record.alerts_sent = done.alerts_sent;
            record.duration_ms = elapsed();
            self.reports.record(&record).await?;
            tracing::info!(key = %object.key, period = %record.period, payer = ?record.payer,
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
        Ok(outcome)
    }
}

impl Ingest {
    /// A report that cannot be read alerts once per object version. Returns how many were sent;
    /// a failure to alert is logged (the ingest record keeps the report's error).
    async fn report_failed(
        &self,
        object: &ReportObject,
        period: Period,
        error: &IngestError,
        now: DateTime<Utc>,
    ) -> u64 {
        let alert = report_failed(
            period,
            &object.bucket,
            &object.key,
            &object_version(object),
            &error.to_string(),
        );
        let topic = self.config.topic_arn.as_deref();
        match send_once(&self.alerts, &self.sns, topic, &Owed::from(&alert), now).await {
            Ok(Sent::Now) => 1,
            Ok(_) => 0,
            Err(e) => {
                tracing::error!(key = %object.key, error = %e, "report-failed alert not sent");
                0
            }
        }
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
    record.checks = checks_text(&summary.checks);
}

/// At most this many checks are kept in an ingest record (DynamoDB items are at most 400 KB).
const MAX_RECORD_CHECKS: usize = 100;

/// The checks as the ingest record keeps them: failed ones first, at most
/// [`MAX_RECORD_CHECKS`], then one line counting all of them when some were left out.
fn checks_text(checks: &[Check]) -> Vec<String> {
    let failed = checks.iter().filter(|c| !c.ok).count();
    let mut ordered: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    ordered.extend(checks.iter().filter(|c| c.ok));
    let mut out: Vec<String> = ordered
        .iter()
        .take(MAX_RECORD_CHECKS)
        .map(|c| {
            format!(
                "{}: expected {} actual {} {}",
                report_text(&c.name),
                c.expected,
                c.actual,
                if c.ok { "ok" } else { "FAILED" }
            )
        })
        .collect();
    if checks.len() > MAX_RECORD_CHECKS {
        out.push(format!(
            "… {} checks in all, {failed} failed; the first {MAX_RECORD_CHECKS} are listed",
            checks.len()
        ));
    }
    out
}

/// The totals version of one object version: a ULID whose time is the event's and whose other
/// 80 bits come from the object's identity (bucket, key, sequencer, S3 version id, ETag). Every
/// attempt at the same event writes the same version, so a retry overwrites its own items
/// instead of leaving a second copy; versions still sort by time.
fn version_of(object: &ReportObject) -> String {
    let identity = [
        object.bucket.as_str(),
        object.key.as_str(),
        object.sequencer.as_deref().unwrap_or(""),
        object.version_id.as_deref().unwrap_or(""),
        object.etag.as_deref().unwrap_or(""),
    ];
    // FNV-1a, 128-bit: stable across builds and platforms (unlike std's hasher).
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for part in identity {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
    let millis = object.event_time.timestamp_millis().max(0) as u64;
    format!("v{}", ulid::Ulid::from_parts(millis, hash))
}

/// The object's version for once-per-version alerts: its sequencer, else its ETag.
fn object_version(object: &ReportObject) -> String {
    object
        .sequencer
        .clone()
        .or_else(|| object.etag.clone())
        .unwrap_or_default()
}
