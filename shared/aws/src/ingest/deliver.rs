//! Storing one period of a delivery: its totals as a version of their own, the conditional flip
//! that makes it live together with the alerts it owes (the outbox), sending the outbox, and
//! sweeping versions that can never be live again.

use super::pipeline::Done;
use super::{Ingest, IngestError};
use crate::event::{padded_sequencer, ReportObject};
use crate::notify::{send_once, Sent};
use crate::outcome::Outcome;
use crate::store::{Flip, Pointer, StoreError};
use crate::timestamp;
use billwatch_core::alert::notices;
use billwatch_core::alert::plan::{plan_delivery, Alert, Delivery, Line, Previous};
use billwatch_core::budget::Budget;
use billwatch_core::period::Period;
use billwatch_core::report::ReportSummary;
use chrono::{DateTime, Utc};
use std::time::SystemTime;

/// What making a version live did.
enum Live {
    /// It is the period's live delivery now (with the budgets its alerts were planned for).
    Now(Vec<Budget>),
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
    /// Stores one period's totals as this object's version, makes it live (with the alerts it
    /// owes, in one transaction) if it is the period's newest delivery, sends what the period's
    /// outbox holds, and removes versions that are no longer live. `deadline`: the invocation's,
    /// which the anomaly pass's second read must fit in.
    pub(super) async fn deliver(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        period: Period,
        now: DateTime<Utc>,
        deadline: Option<SystemTime>,
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
        let started = std::time::Instant::now();
        let stored = self
            .totals
            .write_version(
                summary,
                &payer,
                period,
                &version,
                &object.key,
                &next.stored_at,
            )
            .await?;
        tracing::info!(key = %object.key, %period, totals = stored.totals, items = stored.items,
            write_units = stored.write_units, calls = stored.calls,
            ms = started.elapsed().as_millis() as u64, "version written");
        let written = stored.totals as u64;
        self.reports
            .version_complete(period, &payer, &version)
            .await?;
        let anomalies = self
            .anomalies(object, summary, period, &payer, deadline)
            .await?;
        let live = self
            .make_live(object, summary, &next, &anomalies, now)
            .await?;
        if let Live::Now(budgets) = &live {
            self.measure_spend(summary, period, budgets);
        }
        // Swept before the outbox is drained: a pending alert (an error here) must not keep
        // versions that can never be live.
        self.sweep(period, &payer, &version, now).await?;
        let alerts_sent = self.drain(period, now).await?;
        Ok(match live {
            Live::Now(_) => Done {
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

    /// The spend metric lines of a delivery that just became live (when metrics are on).
    fn measure_spend(&self, summary: &ReportSummary, period: Period, budgets: &[Budget]) {
        let Some(namespace) = self.metrics.namespace() else {
            return;
        };
        let accounts = self
            .metrics
            .take_account_lines(crate::metrics::ingest::MAX_ACCOUNTS_PER_DELIVERY);
        self.metrics.emit(crate::metrics::ingest::spend(
            namespace,
            self.clock.now(),
            period,
            summary,
            budgets,
            accounts,
        ));
    }

    /// Reads the live pointer, decides whether `next` replaces it, plans the alerts against the
    /// delivery it replaces, and flips the pointer and writes the owed alerts in one
    /// transaction, conditional on the pointer being unchanged; re-reads on a conflict.
    async fn make_live(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        next: &Pointer,
        anomalies: &[Alert],
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
                object_version: &object.version_tag(),
                summary,
                period: next.period,
                previous: previous.as_ref(),
                budgets: &budgets,
                anomalies,
            });
            let object_version = object.version_tag();
            let (items, _summarised) = self.alerts.outbox_for_flip(
                &next.version,
                &plan,
                |rest| notices::overflow(next.period, &object.key, &object_version, rest),
                now,
            );
            let beside = items
                .into_iter()
                .map(|item| (self.alerts.table().to_string(), item))
                .collect();
            if self.reports.flip(next, current.as_ref(), beside).await? == Flip::Flipped {
                return Ok(Live::Now(budgets));
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
                let topics = self.config.topics();
                match send_once(&self.alerts, &self.sns, topics, alert, now).await {
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
    /// delivery outranks, at once when they are complete or this delivery's own (another
    /// delivery's may still be writing), any other after [`ABANDONED_SECONDS`] (its attempt
    /// died). Each version's items go before its note, so a crash here is finished by the next
    /// sweep.
    async fn sweep(
        &self,
        period: Period,
        payer: &str,
        own: &str,
        now: DateTime<Utc>,
    ) -> Result<(), IngestError> {
        let Some(live) = self.reports.pointer(period, payer).await? else {
            return Ok(());
        };
        for mark in self.reports.versions(period, payer).await? {
            if mark.version == live.version {
                continue;
            }
            let settled = mark.complete || mark.version == own;
            let outranked = live.order().outranks(&mark.order);
            let abandoned = now.timestamp() - mark.written_epoch > ABANDONED_SECONDS;
            if (outranked && settled) || abandoned {
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
