//! Every port in memory, behaving as the DynamoDB and SNS adapters do (the conditional flip,
//! the conditional sequencer note, claims with a lease, update-as-upsert, puts that overwrite),
//! with one fault hook: every port call is counted, and a test makes call #k fail.
//!
//! # The fault hook
//!
//! Each port call (the clock and the watcher excepted) takes the next index of one counter,
//! from 0, and is logged by name ([`Memory::call_log`]). [`Memory::fail_at`]`(k, fault)` makes
//! call #k fail: [`Fault::Throttle`], [`Fault::Status500`], [`Fault::Status503`] and
//! [`Fault::Reset`] fail before the call takes effect, [`Fault::Timeout`] after it took effect
//! (the reply was lost); all are transient errors. [`Fault::KillBefore`] and
//! [`Fault::KillAfter`] stop the attempt (before or after the call took effect): that call
//! and every later one fail with [`MemoryError::Killed`], without effect or count, until
//! [`Memory::revive`] (the next attempt, a fresh process). [`Fault::Conflict`] at a flip makes
//! it find its condition false (another delivery won the race); elsewhere it is a 500. The
//! stores' state is [`Memory::tables`], the clock [`Memory::set_now`] and
//! [`Memory::advance`].

use super::decide::CLAIM_LEASE_SECONDS;
use super::ports::{
    AlertsStore, BudgetsStore, Class, Clock, Failure, Port, Publisher, ReportReader, ReportsStore,
    TotalsStore, Watcher,
};
use super::types::{
    stamp, Claim, Flip, IngestRecord, Object, OutboxItem, Owed, Pointer, Sent, VersionMark,
};
use crate::alert::plan::{Alert, Line};
use crate::budget::Budget;
use crate::period::Period;
use crate::report::{ErrorKind, ReportError, ReportSummary};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// What call #k does instead of succeeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Throttled (after the SDK's retries): no effect.
    Throttle,
    /// HTTP 500: no effect.
    Status500,
    /// HTTP 503: no effect.
    Status503,
    /// The connection was reset before the request arrived: no effect.
    Reset,
    /// The request took effect; its reply never came.
    Timeout,
    /// The process dies before the call takes effect.
    KillBefore,
    /// The process dies after the call took effect.
    KillAfter,
    /// A conditional flip finds the pointer changed (a 500 at any other call).
    Conflict,
}

impl Fault {
    /// Every fault kind, for tests that draw one.
    pub const ALL: [Fault; 8] = [
        Fault::Throttle,
        Fault::Status500,
        Fault::Status503,
        Fault::Reset,
        Fault::Timeout,
        Fault::KillBefore,
        Fault::KillAfter,
        Fault::Conflict,
    ];

    fn takes_effect(self) -> bool {
        matches!(self, Fault::Timeout | Fault::KillAfter)
    }

    fn kills(self) -> bool {
        matches!(self, Fault::KillBefore | Fault::KillAfter)
    }
}

/// What a port call of [`Memory`] fails with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    #[error("call #{call} ({name}) failed: {fault:?}")]
    Fault {
        call: u64,
        name: &'static str,
        fault: Fault,
    },
    #[error("the attempt was killed (at or before call {name})")]
    Killed { name: &'static str },
    #[error("no object s3://{bucket}/{key}")]
    NoSuchKey { bucket: String, key: String },
    #[error("{0}")]
    Report(ReportError),
    #[error("alert {0} is held by another attempt; it is sent on retry")]
    AlertPending(String),
    #[error("the live pointer of {period} kept changing ({attempts} attempts)")]
    FlipContended { period: Period, attempts: usize },
    /// A request the store refuses as a whole (a transaction over its limits).
    #[error("refused: {0}")]
    Refused(String),
}

impl Failure for MemoryError {
    fn class(&self) -> Class {
        match self {
            MemoryError::NoSuchKey { .. } | MemoryError::Report(_) | MemoryError::Refused(_) => {
                Class::Permanent
            }
            _ => Class::Transient,
        }
    }

    fn is_empty_report(&self) -> bool {
        matches!(self, MemoryError::Report(r) if matches!(r.kind, ErrorKind::Empty(_)))
    }

    fn report(error: ReportError) -> Self {
        MemoryError::Report(error)
    }

    fn alert_pending(alert_id: &str) -> Self {
        MemoryError::AlertPending(alert_id.to_string())
    }

    fn flip_contended(period: Period, attempts: usize) -> Self {
        MemoryError::FlipContended { period, attempts }
    }
}

/// A version mark as the reports table holds it: a put writes all of it (and clears
/// `complete`); the update that sets `complete` applies only to an item that is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkItem {
    pub mark: VersionMark,
    pub complete: bool,
}

/// A claim as the alerts table holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimItem {
    /// None: the item was created by a mark (an update) without a claim.
    pub alert_id: Option<String>,
    pub claimed_epoch: Option<i64>,
    pub published_at: Option<String>,
    pub message_id: Option<String>,
    pub failed_at: Option<String>,
    pub error: Option<String>,
}

impl ClaimItem {
    fn done(&self) -> bool {
        self.published_at.is_some() || self.failed_at.is_some()
    }
}

/// One message the publisher sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub topic: String,
    pub period: Period,
    /// The claim key.
    pub key: String,
    pub alert_id: String,
    pub subject: String,
    pub message_id: String,
}

/// Everything the stores hold, keyed as the tables are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    /// (payer, period, version) → its totals.
    pub totals: BTreeMap<(String, Period, String), Vec<Line>>,
    /// (payer, period, version) → the budgets' figures stored with it.
    pub budget_figures: BTreeMap<(String, Period, String), Vec<crate::budget::spec::Figures>>,
    /// (period, payer) → the live pointer.
    pub pointers: BTreeMap<(Period, String), Pointer>,
    /// (period, payer, version) → its mark.
    pub marks: BTreeMap<(Period, String, String), MarkItem>,
    /// (bucket, key) → (newest padded sequencer, its ETag).
    pub sequencers: BTreeMap<(String, String), (String, Option<String>)>,
    /// (period, `R#<received_at>#<bucket>/<key>`) → the record.
    pub records: BTreeMap<(Period, String), IngestRecord>,
    /// (period, `O#<version>#<n>`) → the alerts owed.
    pub outbox: BTreeMap<(Period, String), Vec<Owed>>,
    /// (period, claim key) → the claim.
    pub claims: BTreeMap<(Period, String), ClaimItem>,
    /// Every message published, in order.
    pub published: Vec<Published>,
    pub budgets: Vec<Budget>,
}

struct Inner {
    tables: Tables,
    now: DateTime<Utc>,
    calls: u64,
    log: Vec<&'static str>,
    faults: HashMap<u64, Fault>,
    dead: bool,
    reports: HashMap<(String, String), Result<Vec<ReportSummary>, ReportError>>,
    anomalies: HashMap<String, Vec<Alert>>,
    topic: Option<String>,
    refused_topics: Vec<String>,
}

/// The in-memory stores, object store and publisher; clones share them.
#[derive(Clone)]
pub struct Memory(Arc<Mutex<Inner>>);

impl Memory {
    /// Empty stores, the clock at `now`, alerts going to the topic `alerts`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Memory(Arc::new(Mutex::new(Inner {
            tables: Tables::default(),
            now,
            calls: 0,
            log: Vec::new(),
            faults: HashMap::new(),
            dead: false,
            reports: HashMap::new(),
            anomalies: HashMap::new(),
            topic: Some("alerts".into()),
            refused_topics: Vec::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding it has failed already; its state is still readable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts an object whose report reads as `summaries` (or fails to read).
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        summaries: Result<Vec<ReportSummary>, ReportError>,
    ) {
        self.lock()
            .reports
            .insert((bucket.to_string(), key.to_string()), summaries);
    }

    /// The anomaly alerts every delivery of `key` calls for.
    pub fn set_anomalies(&self, key: &str, alerts: Vec<Alert>) {
        self.lock().anomalies.insert(key.to_string(), alerts);
    }

    pub fn set_budgets(&self, budgets: Vec<Budget>) {
        self.lock().tables.budgets = budgets;
    }

    /// The stack's alert topic (None: alerts are evaluated, not sent).
    pub fn set_topic(&self, topic: Option<&str>) {
        self.lock().topic = topic.map(str::to_string);
    }

    /// Publishing to `topic` is refused for good from now on.
    pub fn refuse_topic(&self, topic: &str) {
        self.lock().refused_topics.push(topic.to_string());
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        self.lock().now = now;
    }

    pub fn advance(&self, by: Duration) {
        self.lock().now += by;
    }

    /// Makes call #`call` (counted from 0 since the stores were made) fail with `fault`.
    pub fn fail_at(&self, call: u64, fault: Fault) {
        self.lock().faults.insert(call, fault);
    }

    /// How many port calls were made so far (the index the next one takes).
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// The name of every port call made, in order (index = call number).
    pub fn call_log(&self) -> Vec<&'static str> {
        self.lock().log.clone()
    }

    /// Whether a kill stopped the attempt.
    pub fn is_dead(&self) -> bool {
        self.lock().dead
    }

    /// A new attempt after a kill: calls go through again (faults still scheduled stay).
    pub fn revive(&self) {
        self.lock().dead = false;
    }

    /// A copy of everything the stores hold.
    pub fn tables(&self) -> Tables {
        self.lock().tables.clone()
    }

    /// One port call: counted, logged, faulted as scheduled; `effect` is what it does.
    fn call<T>(
        &self,
        name: &'static str,
        effect: impl FnOnce(&mut Inner) -> Result<T, MemoryError>,
    ) -> Result<T, MemoryError> {
        let mut inner = self.lock();
        if inner.dead {
            return Err(MemoryError::Killed { name });
        }
        let call = inner.calls;
        inner.calls += 1;
        inner.log.push(name);
        let Some(fault) = inner.faults.remove(&call) else {
            return effect(&mut inner);
        };
        if fault.takes_effect() {
            // Its own error is lost with the reply, as the effect's would be.
            let _ = effect(&mut inner);
        }
        if fault.kills() {
            inner.dead = true;
            return Err(MemoryError::Killed { name });
        }
        Err(MemoryError::Fault { call, name, fault })
    }

    /// The fault scheduled for the next call, if any (a flip answers a conflict itself).
    fn next_fault(&self) -> Option<Fault> {
        let inner = self.lock();
        if inner.dead {
            return None;
        }
        inner.faults.get(&inner.calls).copied()
    }
}

/// `R#<received_at>#<bucket>/<key>`: the sort key of an ingest record.
fn record_sk(r: &IngestRecord) -> String {
    format!("R#{}#{}/{}", r.received_at, r.bucket, r.key)
}

impl Port for Memory {
    type Error = MemoryError;
}

impl Clock for Memory {
    fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }
}

impl Watcher for Memory {}

impl ReportReader for Memory {
    /// The summaries put in for the object, as they are: a test that needs budgets' figures
    /// puts them in its summaries (`specs` is not evaluated here).
    async fn summarize(
        &self,
        object: &Object,
        _specs: &crate::budget::spec::Specs,
        _commitments: bool,
    ) -> Result<Vec<ReportSummary>, MemoryError> {
        self.call("summarize", |inner| {
            match inner
                .reports
                .get(&(object.bucket.clone(), object.key.clone()))
            {
                Some(Ok(summaries)) => Ok(summaries.clone()),
                Some(Err(e)) => Err(MemoryError::Report(e.clone())),
                None => Err(MemoryError::NoSuchKey {
                    bucket: object.bucket.clone(),
                    key: object.key.clone(),
                }),
            }
        })
    }

    async fn anomalies(
        &self,
        object: &Object,
        _summary: &ReportSummary,
        period: Period,
        _payer: &str,
    ) -> Result<Vec<Alert>, MemoryError> {
        self.call("anomalies", |inner| {
            let all = inner
                .anomalies
                .get(&object.key)
                .cloned()
                .unwrap_or_default();
            // As the adapter does: only the anomalies not alerted yet.
            Ok(all
                .into_iter()
                .filter(|a| {
                    a.period == period
                        && !inner
                            .tables
                            .claims
                            .get(&(period, a.key.clone()))
                            .is_some_and(ClaimItem::done)
                })
                .collect())
        })
    }
}

impl TotalsStore for Memory {
    async fn write_version(
        &self,
        summary: &ReportSummary,
        version: &Pointer,
    ) -> Result<u64, MemoryError> {
        self.call("write_version", |inner| {
            let lines = summary
                .totals
                .iter()
                .map(|t| Line {
                    account: t.account_id.clone(),
                    service: t.service.clone(),
                    currency: t.currency.clone(),
                    cost: t.cost,
                })
                .collect();
            let slot = (
                version.payer.clone(),
                version.period,
                version.version.clone(),
            );
            inner.tables.totals.insert(slot.clone(), lines);
            if !summary.budgets.is_empty() {
                inner
                    .tables
                    .budget_figures
                    .insert(slot, summary.budgets.clone());
            }
            Ok(summary.totals.len() as u64)
        })
    }

    async fn lines(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<Line>, MemoryError> {
        self.call("lines", |inner| {
            Ok(inner
                .tables
                .totals
                .get(&(payer.to_string(), period, version.to_string()))
                .cloned()
                .unwrap_or_default())
        })
    }

    async fn delete_version(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<(), MemoryError> {
        self.call("delete_version", |inner| {
            let slot = (payer.to_string(), period, version.to_string());
            inner.tables.totals.remove(&slot);
            inner.tables.budget_figures.remove(&slot);
            Ok(())
        })
    }

    async fn budget_figures(
        &self,
        payer: &str,
        period: Period,
        version: &str,
    ) -> Result<Vec<crate::budget::spec::Figures>, MemoryError> {
        self.call("budget_figures", |inner| {
            Ok(inner
                .tables
                .budget_figures
                .get(&(payer.to_string(), period, version.to_string()))
                .cloned()
                .unwrap_or_default())
        })
    }
}

impl ReportsStore for Memory {
    async fn latest_sequencer(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, MemoryError> {
        self.call("latest_sequencer", |inner| {
            Ok(inner
                .tables
                .sequencers
                .get(&(bucket.to_string(), key.to_string()))
                .map(|(s, _)| s.clone()))
        })
    }

    async fn note_sequencer(
        &self,
        bucket: &str,
        key: &str,
        padded_sequencer: &str,
        etag: Option<&str>,
    ) -> Result<(), MemoryError> {
        self.call("note_sequencer", |inner| {
            let slot = (bucket.to_string(), key.to_string());
            let newer = inner
                .tables
                .sequencers
                .get(&slot)
                .is_none_or(|(s, _)| s.as_str() < padded_sequencer);
            if newer {
                inner.tables.sequencers.insert(
                    slot,
                    (padded_sequencer.to_string(), etag.map(str::to_string)),
                );
            }
            Ok(())
        })
    }

    async fn pointer(&self, period: Period, payer: &str) -> Result<Option<Pointer>, MemoryError> {
        self.call("pointer", |inner| {
            Ok(inner
                .tables
                .pointers
                .get(&(period, payer.to_string()))
                .cloned())
        })
    }

    async fn flip(
        &self,
        next: &Pointer,
        current: Option<&Pointer>,
        outbox: &[OutboxItem],
        _now: DateTime<Utc>,
    ) -> Result<Flip, MemoryError> {
        let conflict = self.next_fault() == Some(Fault::Conflict);
        if conflict {
            let call = self.calls();
            self.lock().faults.remove(&call);
        }
        self.call("flip", |inner| {
            if conflict {
                return Ok(Flip::Conflict);
            }
            // TransactWriteItems' limits, as the adapter refuses them before sending.
            let bytes: usize = outbox.iter().flat_map(|i| &i.alerts).map(Owed::size).sum();
            if 1 + outbox.len() > TRANSACTION_MAX_ITEMS || bytes > TRANSACTION_MAX_BYTES {
                return Err(MemoryError::Refused(format!(
                    "the flip of {} would be a transaction of {} items, {bytes} bytes",
                    next.version,
                    1 + outbox.len()
                )));
            }
            let slot = (next.period, next.payer.clone());
            let holds = inner.tables.pointers.get(&slot).map(|p| p.version.as_str());
            if holds != current.map(|c| c.version.as_str()) {
                return Ok(Flip::Conflict);
            }
            inner.tables.pointers.insert(slot, next.clone());
            for item in outbox {
                inner
                    .tables
                    .outbox
                    .insert((next.period, item.sk.clone()), item.alerts.clone());
            }
            Ok(Flip::Flipped)
        })
    }

    async fn mark_version(&self, version: &Pointer, now: DateTime<Utc>) -> Result<(), MemoryError> {
        self.call("mark_version", |inner| {
            let mark = VersionMark {
                version: version.version.clone(),
                written_epoch: now.timestamp(),
                order: version.order(),
                complete: false,
            };
            inner.tables.marks.insert(
                (
                    version.period,
                    version.payer.clone(),
                    version.version.clone(),
                ),
                MarkItem {
                    mark,
                    complete: false,
                },
            );
            Ok(())
        })
    }

    async fn version_complete(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), MemoryError> {
        self.call("version_complete", |inner| {
            // Conditional on the mark, as the DynamoDB update is: a version a concurrent sweep
            // removed gets no bare note back.
            if let Some(item) =
                inner
                    .tables
                    .marks
                    .get_mut(&(period, payer.to_string(), version.to_string()))
            {
                item.complete = true;
            }
            Ok(())
        })
    }

    async fn versions(&self, period: Period, payer: &str) -> Result<Vec<VersionMark>, MemoryError> {
        self.call("versions", |inner| {
            Ok(inner
                .tables
                .marks
                .iter()
                .filter(|((p, who, _), _)| *p == period && who == payer)
                .map(|(_, item)| VersionMark {
                    complete: item.complete,
                    ..item.mark.clone()
                })
                .collect())
        })
    }

    async fn forget_version(
        &self,
        period: Period,
        payer: &str,
        version: &str,
    ) -> Result<(), MemoryError> {
        self.call("forget_version", |inner| {
            inner
                .tables
                .marks
                .remove(&(period, payer.to_string(), version.to_string()));
            Ok(())
        })
    }

    async fn record(&self, record: &IngestRecord) -> Result<(), MemoryError> {
        self.call("record", |inner| {
            inner
                .tables
                .records
                .insert((record.period, record_sk(record)), record.clone());
            Ok(())
        })
    }
}

/// TransactWriteItems takes at most this many actions and bytes (counted here as
/// [`Owed::size`] counts them); the room kept for the pointer is as the adapter keeps it.
const TRANSACTION_MAX_ITEMS: usize = 100;
const TRANSACTION_MAX_BYTES: usize = 4_000_000;
const POINTER_RESERVE_BYTES: usize = 16 * 1024;

impl AlertsStore for Memory {
    async fn outbox(&self, period: Period) -> Result<Vec<OutboxItem>, MemoryError> {
        self.call("outbox", |inner| {
            Ok(inner
                .tables
                .outbox
                .iter()
                .filter(|((p, _), _)| *p == period)
                .map(|((_, sk), alerts)| OutboxItem {
                    sk: sk.clone(),
                    alerts: alerts.clone(),
                })
                .collect())
        })
    }

    async fn delete_outbox(&self, period: Period, sk: &str) -> Result<(), MemoryError> {
        self.call("delete_outbox", |inner| {
            inner.tables.outbox.remove(&(period, sk.to_string()));
            Ok(())
        })
    }

    fn outbox_fits(&self, items: &[OutboxItem]) -> bool {
        let bytes: usize = items.iter().flat_map(|i| &i.alerts).map(Owed::size).sum();
        items.len() < TRANSACTION_MAX_ITEMS
            && bytes + POINTER_RESERVE_BYTES <= TRANSACTION_MAX_BYTES
    }

    async fn claim(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Claim, MemoryError> {
        self.call("claim", |inner| {
            let slot = (alert.period, alert.key.clone());
            if let Some(old) = inner.tables.claims.get(&slot) {
                let lapsed = !old.done()
                    && old
                        .claimed_epoch
                        .is_some_and(|e| e < now.timestamp() - CLAIM_LEASE_SECONDS);
                if !lapsed {
                    return Ok(if old.done() {
                        Claim::Done
                    } else {
                        Claim::Leased
                    });
                }
            }
            inner.tables.claims.insert(
                slot,
                ClaimItem {
                    alert_id: Some(alert.alert_id.clone()),
                    claimed_epoch: Some(now.timestamp()),
                    ..ClaimItem::default()
                },
            );
            Ok(Claim::Claimed)
        })
    }

    async fn is_done(&self, period: Period, key: &str) -> Result<bool, MemoryError> {
        self.call("is_done", |inner| {
            Ok(inner
                .tables
                .claims
                .get(&(period, key.to_string()))
                .is_some_and(ClaimItem::done))
        })
    }

    async fn mark_published(
        &self,
        period: Period,
        key: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MemoryError> {
        self.call("mark_published", |inner| {
            let claim = inner
                .tables
                .claims
                .entry((period, key.to_string()))
                .or_default();
            claim.published_at = Some(stamp(now));
            claim.message_id = Some(message_id.to_string());
            Ok(())
        })
    }

    async fn mark_failed(
        &self,
        period: Period,
        key: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MemoryError> {
        self.call("mark_failed", |inner| {
            let claim = inner
                .tables
                .claims
                .entry((period, key.to_string()))
                .or_default();
            claim.failed_at = Some(stamp(now));
            claim.error = Some(error.chars().take(1000).collect());
            Ok(())
        })
    }

    async fn release(&self, period: Period, key: &str) -> Result<(), MemoryError> {
        self.call("release", |inner| {
            let slot = (period, key.to_string());
            if inner
                .tables
                .claims
                .get(&slot)
                .is_some_and(|c| c.published_at.is_none())
            {
                inner.tables.claims.remove(&slot);
            }
            Ok(())
        })
    }
}

impl BudgetsStore for Memory {
    async fn budgets(&self) -> Result<Vec<Budget>, MemoryError> {
        self.call("budgets", |inner| Ok(inner.tables.budgets.clone()))
    }
}

impl Publisher for Memory {
    /// As the SNS adapter does: claim, publish, mark published; a refused message is marked
    /// failed, a transient failure gives the claim back and is returned.
    async fn send(&self, alert: &Owed, now: DateTime<Utc>) -> Result<Sent, MemoryError> {
        let default = self.lock().topic.clone();
        let Some(topic) = alert.topic.clone().or(default) else {
            return Ok(Sent::NoTopic);
        };
        match self.claim(alert, now).await? {
            Claim::Claimed => {}
            Claim::Done => return Ok(Sent::Before),
            Claim::Leased => return Ok(Sent::Pending),
        }
        let published = self.call("publish", |inner| {
            if inner.refused_topics.contains(&topic) {
                return Ok(None);
            }
            let message_id = format!("m{}", inner.tables.published.len());
            inner.tables.published.push(Published {
                topic: topic.clone(),
                period: alert.period,
                key: alert.key.clone(),
                alert_id: alert.alert_id.clone(),
                subject: alert.subject.clone(),
                message_id: message_id.clone(),
            });
            Ok(Some(message_id))
        });
        match published {
            Ok(Some(message_id)) => {
                self.mark_published(alert.period, &alert.key, &message_id, now)
                    .await?;
                Ok(Sent::Now)
            }
            Ok(None) => {
                let error = format!("topic {topic} refuses the message");
                self.mark_failed(alert.period, &alert.key, &error, now)
                    .await?;
                Ok(Sent::Refused)
            }
            Err(e @ MemoryError::Killed { .. }) => Err(e),
            Err(e) => {
                self.release(alert.period, &alert.key).await?;
                Err(e)
            }
        }
    }
}
