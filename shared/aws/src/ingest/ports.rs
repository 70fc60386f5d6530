//! The core's delivery ports, implemented over this function's S3 reader, DynamoDB stores and
//! SNS publisher, for one object of one invocation; and what the delivery tells, logged and
//! measured.

use super::{Ingest, IngestError};
use crate::event::ReportObject;
use crate::notify::{send_once, Topics};
use crate::store::Owed;
use billwatch_core::alert::plan::{Alert, Line};
use billwatch_core::budget::spec::{Figures, Specs};
use billwatch_core::budget::Budget;
use billwatch_core::delivery::{
    self as core, Claim, Class, Failure, Flip, IngestRecord, Object, OutboxItem, Pointer,
    RecordOutcome, Sent, VersionMark,
};
use billwatch_core::period::Period;
use billwatch_core::report::{ErrorKind, ReportError, ReportSummary};
use chrono::{DateTime, Utc};
use std::time::SystemTime;

/// The ports of one object's delivery (see [`Ingest::ports`]).
pub struct AwsPorts<'a> {
    ingest: &'a Ingest,
    /// The event's object, as the S3 reader needs it.
    object: &'a ReportObject,
    deadline: Option<SystemTime>,
}

impl Ingest {
    /// The core's delivery ports over this function's clients, for `object` in an invocation
    /// that ends at `deadline`: what [`Ingest::ingest_object_until`] runs the delivery over,
    /// and what a contract test holds against the in-memory ports.
    pub fn ports<'a>(
        &'a self,
        object: &'a ReportObject,
        deadline: Option<SystemTime>,
    ) -> AwsPorts<'a> {
        AwsPorts {
            ingest: self,
            object,
            deadline,
        }
    }
}

impl Failure for IngestError {
    fn class(&self) -> Class {
        match IngestError::class(self) {
            crate::error::ErrorClass::Transient => Class::Transient,
            crate::error::ErrorClass::Permanent => Class::Permanent,
        }
    }

    fn is_empty_report(&self) -> bool {
        matches!(self, IngestError::Report(r) if matches!(r.kind, ErrorKind::Empty(_)))
    }

    fn report(error: ReportError) -> Self {
        IngestError::Report(error)
    }

    fn alert_pending(alert_id: &str) -> Self {
        IngestError::AlertPending {
            alert_id: alert_id.to_string(),
        }
    }

    fn flip_contended(period: Period, attempts: usize) -> Self {
        IngestError::FlipContended { period, attempts }
    }
}

impl core::Port for AwsPorts<'_> {
    type Error = IngestError;
}

impl core::Clock for AwsPorts<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.ingest.clock.now()
    }
}

impl core::ReportReader for AwsPorts<'_> {
    async fn summarize(
        &self,
        _object: &Object,
        specs: &Specs,
        commitments: bool,
    ) -> Result<Vec<ReportSummary>, IngestError> {
        let summaries = self
            .ingest
            .summarize(self.object, self.deadline, specs.clone(), commitments)
            .await?;
        // A record or line item type never seen: the rows were not summed (legacy, DBR) or
        // summed under a guessed part (CUR, FOCUS). Named in the log, never dropped without a
        // word.
        for summary in &summaries {
            for warning in &summary.warnings {
                tracing::warn!(payer = ?summary.payer_account_id, period = ?summary.billing_period,
                    warning = %warning, "report warning");
            }
        }
        Ok(summaries)
    }

    async fn anomalies(
        &self,
        _object: &Object,
        summary: &ReportSummary,
        period: Period,
        payer: &str,
    ) -> Result<Vec<Alert>, IngestError> {
        self.ingest
            .anomalies(self.object, summary, period, payer, self.deadline)
            .await
    }
}

impl core::TotalsStore for AwsPorts<'_> {
    async fn write_version(
        &self,
        summary: &ReportSummary,
        version: &Pointer,
    ) -> Result<u64, IngestError> {
        let started = std::time::Instant::now();
        let stored = self
            .ingest
            .totals
            .write_version(
                summary,
                &version.payer,
                version.period,
                &version.version,
                &version.report_key,
                &version.stored_at,
            )
            .await?;
        tracing::info!(key = %version.report_key, period = %version.period, totals = stored.totals,
            items = stored.items, write_units = stored.write_units, calls = stored.calls,
            ms = started.elapsed().as_millis() as u64, "version written");
        Ok(stored.totals as u64)
    }

    async fn lines(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<Line>, IngestError> {
        Ok(self
            .ingest
            .totals
            .query(payer, period, version, None)
            .await?
            .into_iter()
            .map(|t| Line {
                account: t.account,
                service: t.service,
                currency: t.currency,
                cost: t.cost,
            })
            .collect())
    }

    async fn delete_version(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<(), IngestError> {
        self.ingest
            .totals
            .delete_version(payer, period, version)
            .await?;
        Ok(())
    }

    async fn budget_figures(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<Figures>, IngestError> {
        Ok(self
            .ingest
            .totals
            .budget_figures(payer, period, version)
            .await?)
    }
}

impl core::ReportsStore for AwsPorts<'_> {
    async fn latest_sequencer(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, IngestError> {
        Ok(self.ingest.reports.latest_sequencer(bucket, key).await?)
    }

    async fn note_sequencer(
        &self,
        bucket: &str,
        key: &str,
        padded_sequencer: &str,
        etag: Option<&str>,
    ) -> Result<(), IngestError> {
        Ok(self
            .ingest
            .reports
            .note_sequencer(bucket, key, padded_sequencer, etag)
            .await?)
    }

    async fn pointer(&self, period: Period, payer: &str) -> Result<Option<Pointer>, IngestError> {
        Ok(self.ingest.reports.pointer(period, payer).await?)
    }

    async fn flip(
        &self,
        next: &Pointer,
        current: Option<&Pointer>,
        outbox: &[OutboxItem],
        now: DateTime<Utc>,
    ) -> Result<Flip, IngestError> {
        let alerts = &self.ingest.alerts;
        let beside = outbox
            .iter()
            .map(|o| {
                let item = alerts.outbox_item_of(next.period, o, now);
                (alerts.table().to_string(), item)
            })
            .collect();
        Ok(self.ingest.reports.flip(next, current, beside).await?)
    }

    async fn mark_version(&self, version: &Pointer, now: DateTime<Utc>) -> Result<(), IngestError> {
        Ok(self.ingest.reports.mark_version(version, now).await?)
    }

    async fn version_complete(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), IngestError> {
        Ok(self
            .ingest
            .reports
            .version_complete(period, payer, version)
            .await?)
    }

    async fn versions(&self, period: Period, payer: &str) -> Result<Vec<VersionMark>, IngestError> {
        Ok(self.ingest.reports.versions(period, payer).await?)
    }

    async fn forget_version(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), IngestError> {
        Ok(self
            .ingest
            .reports
            .forget_version(period, payer, version)
            .await?)
    }

    async fn record(&self, record: &IngestRecord) -> Result<(), IngestError> {
        Ok(self.ingest.reports.record(record).await?)
    }
}

impl core::AlertsStore for AwsPorts<'_> {
    async fn outbox(&self, period: Period) -> Result<Vec<OutboxItem>, IngestError> {
        Ok(self
            .ingest
            .alerts
            .outbox(period)
            .await?
            .into_iter()
            .map(|(sk, alerts)| OutboxItem { sk, alerts })
            .collect())
    }

    async fn delete_outbox(&self, period: Period, sk: &str) -> Result<(), IngestError> {
        Ok(self.ingest.alerts.delete_item(period, sk).await?)
    }

    fn outbox_fits(&self, items: &[OutboxItem]) -> bool {
        self.ingest
            .alerts
            .outbox_fits(items, self.ingest.clock.now())
    }

    async fn claim(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Claim, IngestError> {
        Ok(self.ingest.alerts.claim(alert, now).await?)
    }

    async fn is_done(&self, period: Period, key: &str) -> Result<bool, IngestError> {
        Ok(self.ingest.alerts.is_done(period, key).await?)
    }

    async fn mark_published(
        &self,
        period: Period,
        key: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), IngestError> {
        Ok(self
            .ingest
            .alerts
            .mark_published(period, key, message_id, now)
            .await?)
    }

    async fn mark_failed(
        &self,
        period: Period,
        key: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), IngestError> {
        Ok(self
            .ingest
            .alerts
            .mark_failed(period, key, error, now)
            .await?)
    }

    async fn release(&self, period: Period, key: &str) -> Result<(), IngestError> {
        Ok(self.ingest.alerts.release(period, key).await?)
    }
}

impl core::BudgetsStore for AwsPorts<'_> {
    async fn budgets(&self) -> Result<Vec<Budget>, IngestError> {
        Ok(self.ingest.budgets.list().await?)
    }
}

impl core::Publisher for AwsPorts<'_> {
    async fn send(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Sent, IngestError> {
        let topics = Topics {
            channels: Some(&self.ingest.channels),
            pages: Some(&self.ingest.pages),
            ..self.ingest.config.topics()
        };
        Ok(send_once(&self.ingest.alerts, &self.ingest.sns, topics, alert, now).await?)
    }
}

impl core::Watcher for AwsPorts<'_> {
    fn went_live(&self, summary: &ReportSummary, period: Period, budgets: &[Budget]) {
        let ingest = self.ingest;
        let Some(namespace) = ingest.metrics.namespace() else {
            return;
        };
        let accounts = ingest
            .metrics
            .take_account_lines(crate::metrics::ingest::MAX_ACCOUNTS_PER_DELIVERY);
        ingest.metrics.emit(crate::metrics::ingest::spend(
            namespace,
            ingest.clock.now(),
            period,
            summary,
            budgets,
            accounts,
        ));
    }

    fn alert_not_sent(&self, alert_id: &str, error: &dyn std::fmt::Display) {
        tracing::error!(key = %self.object.key, alert = %alert_id, error = %error, "alert not sent");
    }

    fn outbox_overflow(&self, alerts: usize, left_out: usize) {
        tracing::error!(
            alerts,
            kept = alerts - left_out,
            "a delivery owes more alerts than one transaction carries; the rest go in one message"
        );
    }

    fn recorded(&self, record: &IngestRecord) {
        tracing::info!(key = %record.key, via = self.object.via.as_str(), period = %record.period,
            payer = ?record.payer, format = ?record.format.map(|f| f.name()), rows = record.rows_read,
            outcome = %record.outcome, duration_ms = record.duration_ms, "report ingested");
    }

    fn done(&self, _object: &Object, outcome: &RecordOutcome, rows_read: u64, ms: u64) {
        self.ingest
            .measure_handled(self.object, outcome.outcome, outcome.format, rows_read, ms);
    }
}
