//! The ports a delivery runs over, owned by the core: the AWS crate implements them over S3,
//! DynamoDB and SNS, and `memory` (the `memory` feature) over maps in memory. One value
//! implements them all (a delivery's stores share transactions: the flip writes the pointer
//! and the outbox together), each trait small and named for what it holds.
//!
//! Every port call may fail with the implementation's [`Failure`]; the delivery only asks it
//! whether a retry can help.

// The core has no runtime and its callers pick theirs: the futures' `Send`-ness is left to each
// implementation (the Lambda's is known where it is used).
#![allow(async_fn_in_trait)]

use super::types::{
    Claim, Flip, IngestRecord, Object, OutboxItem, Owed, Pointer, RecordOutcome, Sent, VersionMark,
};
use crate::alert::plan::{Alert, Line};
use crate::budget::Budget;
use crate::period::Period;
use crate::report::{ReportError, ReportSummary};
use chrono::{DateTime, Utc};

/// Whether a failure is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Throttling, timeouts, dropped connections, 5xx, a process that died: a retry can help.
    Transient,
    /// Bad input or configuration: the same call fails again.
    Permanent,
}

/// The error of every port call of one implementation, and the few the delivery makes itself.
pub trait Failure: std::fmt::Display + Sized {
    /// Whether a retry of the same event can help.
    fn class(&self) -> Class;
    /// The report holds nothing to store (an empty month): skipped, not failed.
    fn is_empty_report(&self) -> bool;
    /// The report cannot be read as it is.
    fn report(error: ReportError) -> Self;
    /// Another attempt holds the claim of an owed alert and has not published it yet.
    fn alert_pending(alert_id: &str) -> Self;
    /// The live pointer of `period` changed under every one of `attempts` flips.
    fn flip_contended(period: Period, attempts: usize) -> Self;
}

/// What every port shares: its error.
pub trait Port {
    type Error: Failure;
}

/// The report's bytes, read: the object store and the report engine behind it.
pub trait ReportReader: Port {
    /// One summary per billing period the object holds, each answering `specs` (the budgets
    /// summed in the same pass) and, with `commitments`, holding a CUR's commitments (read in
    /// the same pass).
    async fn summarize(
        &self,
        object: &Object,
        specs: &crate::budget::spec::Specs,
        commitments: bool,
    ) -> Result<Vec<ReportSummary>, Self::Error>;
    /// The anomaly alerts one period of the object calls for, each explained (the explanation
    /// reads the object again).
    async fn anomalies(
        &self,
        object: &Object,
        summary: &ReportSummary,
        period: Period,
        payer: &str,
    ) -> Result<Vec<Alert>, Self::Error>;
}

/// The totals of every version of every (payer, period).
pub trait TotalsStore: Port {
    /// Writes every total of `summary` under `version.version` (idempotent: a retry overwrites
    /// its own items). Returns how many totals were written.
    async fn write_version(
        &self,
        summary: &ReportSummary,
        version: &Pointer,
    ) -> Result<u64, Self::Error>;
    /// The totals of one version, as the alert plan compares them.
    async fn lines(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<Line>, Self::Error>;
    /// The budgets' figures stored with one version (see `write_version`).
    async fn budget_figures(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<crate::budget::spec::Figures>, Self::Error>;
    /// Deletes every item of one version (none left is no error).
    async fn delete_version(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<(), Self::Error>;
}

/// The reports table: the live pointer, the version marks, the sequencer notes, the records.
pub trait ReportsStore: Port {
    /// The newest padded sequencer noted for an object key.
    async fn latest_sequencer(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, Self::Error>;
    /// Notes the newest sequencer of a key; an older one never overwrites a newer one.
    async fn note_sequencer(
        &self,
        bucket: &str,
        key: &str,
        padded_sequencer: &str,
        etag: Option<&str>,
    ) -> Result<(), Self::Error>;
    async fn pointer(&self, period: Period, payer: &str) -> Result<Option<Pointer>, Self::Error>;
    /// Makes `next` live, in one transaction with `outbox` (the alerts it owes), on condition
    /// that the pointer is still `current`. Either all of it is written or none.
    async fn flip(
        &self,
        next: &Pointer,
        current: Option<&Pointer>,
        outbox: &[OutboxItem],
        now: DateTime<Utc>,
    ) -> Result<Flip, Self::Error>;
    /// Notes that `version` is being written, before its first item.
    async fn mark_version(&self, version: &Pointer, now: DateTime<Utc>) -> Result<(), Self::Error>;
    /// Notes that every item of `version` is written; does nothing when its mark is gone (a
    /// concurrent sweep removed it: no bare note is left behind).
    async fn version_complete(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), Self::Error>;
    /// The versions of (payer, period) noted and not forgotten.
    async fn versions(&self, period: Period, payer: &str) -> Result<Vec<VersionMark>, Self::Error>;
    async fn forget_version(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), Self::Error>;
    /// Keeps one ingest record (the same received time and key overwrite it).
    async fn record(&self, record: &IngestRecord) -> Result<(), Self::Error>;
}

/// The alerts table: each period's outbox, and the claims that make each alert go once.
pub trait AlertsStore: Port {
    /// The outbox of a period, oldest delivery first.
    async fn outbox(&self, period: Period) -> Result<Vec<OutboxItem>, Self::Error>;
    async fn delete_outbox(&self, period: Period, sk: &str) -> Result<(), Self::Error>;
    /// Whether these outbox items fit one flip beside the pointer (no call).
    fn outbox_fits(&self, items: &[OutboxItem]) -> bool;
    /// Claims an owed alert: succeeds when no claim exists or an unpublished one has outlived
    /// its lease.
    async fn claim(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Claim, Self::Error>;
    /// Whether the alert `key` of `period` was already sent (or given up on for good).
    async fn is_done(&self, period: Period, key: &str) -> Result<bool, Self::Error>;
    async fn mark_published(
        &self,
        period: Period,
        key: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Self::Error>;
    /// Gives up on a claimed alert the channel refuses for good.
    async fn mark_failed(
        &self,
        period: Period,
        key: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Self::Error>;
    /// Gives an unpublished claim back, so a retry can alert at once.
    async fn release(&self, period: Period, key: &str) -> Result<(), Self::Error>;
}

/// The budgets the alerts are planned for.
pub trait BudgetsStore: Port {
    async fn budgets(&self) -> Result<Vec<Budget>, Self::Error>;
}

/// Where alerts go: claims the alert in the [`AlertsStore`], publishes it, marks it.
pub trait Publisher: Port {
    async fn send(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Sent, Self::Error>;
}

/// The time a delivery stamps and measures with.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// What a delivery tells its host as it goes (logs and metrics); every method may do nothing.
pub trait Watcher {
    /// A version of one period was written.
    fn version_written(&self, _object: &Object, _period: Period, _totals: u64) {}
    /// A delivery became live, with the budgets its alerts were planned for.
    fn went_live(&self, _summary: &ReportSummary, _period: Period, _budgets: &[Budget]) {}
    /// An owed alert could not be sent (it stays in the outbox, or the error is kept).
    fn alert_not_sent(&self, _alert_id: &str, _error: &dyn std::fmt::Display) {}
    /// A delivery owed more alerts than one flip carries: `left_out` went in one message.
    fn outbox_overflow(&self, _alerts: usize, _left_out: usize) {}
    /// One period's ingest was recorded.
    fn recorded(&self, _record: &IngestRecord) {}
    /// One object is done (the record outcome returned to the caller).
    fn done(&self, _object: &Object, _outcome: &RecordOutcome, _rows_read: u64, _ms: u64) {}
}

/// Everything a delivery runs over.
pub trait Ports:
    ReportReader + TotalsStore + ReportsStore + AlertsStore + BudgetsStore + Publisher + Clock + Watcher
{
}

impl<T> Ports for T where
    T: ReportReader
        + TotalsStore
        + ReportsStore
        + AlertsStore
        + BudgetsStore
        + Publisher
        + Clock
        + Watcher
{
}
