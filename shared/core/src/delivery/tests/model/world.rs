//! The model test's world: the in-memory stores (`delivery::memory::Memory`, with its fault
//! hook) behind one "process" per attempt, a tiny executor that can interleave two deliveries
//! call by call, and the replay of a sequence's actions (everything is deterministic, so a
//! world is rebuilt to count a delivery's calls before it is faulted).

use super::oracle::{Ev, KEYS};
use super::Rng;
use billwatch_core::alert::plan::{Alert, Line};
use billwatch_core::budget::Budget;
use billwatch_core::delivery::memory::{Fault, Memory, MemoryError};
use billwatch_core::delivery::{
    deliver, AlertsStore, BudgetsStore, Claim, Class, Clock, Failure, Flip, IngestRecord, Object,
    OutboxItem, Owed, Pointer, Port, Publisher, RecordOutcome, ReportReader, ReportsStore, Sent,
    TotalsStore, VersionMark, Watcher,
};
use billwatch_core::period::Period;
use billwatch_core::report::{ReportError, ReportSummary};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

pub const BUCKET: &str = "billing";

/// What each variant of the oracle's table reads as (the engine's summaries, or its error).
pub type Reads = Arc<Vec<Result<Vec<ReportSummary>, ReportError>>>;

/// One attempt's process over the shared stores: its clock (the stores' plus an offset, so two
/// concurrent attempts keep records of their own), and a turn given up before every port call
/// when it runs beside another.
#[derive(Clone)]
pub struct Proc {
    pub mem: Memory,
    reads: Reads,
    offset_ms: i64,
    yields: bool,
}

/// A future that is pending once: the other delivery gets a turn.
struct Turn(bool);

impl Future for Turn {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Proc {
    async fn turn(&self) {
        if self.yields {
            Turn(false).await
        }
    }
}

impl Port for Proc {
    type Error = MemoryError;
}

impl Clock for Proc {
    fn now(&self) -> DateTime<Utc> {
        self.mem.now() + Duration::milliseconds(self.offset_ms)
    }
}

impl Watcher for Proc {}

/// The variant an object version holds: `v<order>-<variant>`.
fn variant_of(object: &Object) -> Option<usize> {
    object
        .version_id
        .as_deref()?
        .rsplit('-')
        .next()?
        .parse()
        .ok()
}

impl ReportReader for Proc {
    // The in-memory object store keeps one content per key; an event names an S3 version, so
    // the read is counted (and faulted) there and answered with the version the event names.
    async fn summarize(
        &self,
        object: &Object,
        specs: &crate::budget::spec::Specs,
        commitments: bool,
    ) -> Result<Vec<ReportSummary>, MemoryError> {
        self.turn().await;
        self.mem.summarize(object, specs, commitments).await?;
        match variant_of(object).and_then(|v| self.reads.get(v)) {
            Some(Ok(s)) => Ok(s.clone()),
            Some(Err(e)) => Err(MemoryError::Report(e.clone())),
            None => Err(MemoryError::NoSuchKey {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
            }),
        }
    }

    async fn anomalies(
        &self,
        object: &Object,
        summary: &ReportSummary,
        period: Period,
        payer: &str,
    ) -> Result<Vec<Alert>, MemoryError> {
        self.turn().await;
        self.mem.anomalies(object, summary, period, payer).await
    }
}

impl TotalsStore for Proc {
    async fn write_version(&self, s: &ReportSummary, v: &Pointer) -> Result<u64, MemoryError> {
        self.turn().await;
        self.mem.write_version(s, v).await
    }
    async fn lines(&self, payer: &str, p: Period, v: &str) -> Result<Vec<Line>, MemoryError> {
        self.turn().await;
        self.mem.lines(payer, p, v).await
    }
    async fn delete_version(&self, payer: &str, p: Period, v: &str) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.delete_version(payer, p, v).await
    }
    async fn budget_figures(
        &self,
        payer: &str,
        p: Period,
        v: &str,
    ) -> Result<Vec<crate::budget::spec::Figures>, MemoryError> {
        self.turn().await;
        self.mem.budget_figures(payer, p, v).await
    }
}

impl ReportsStore for Proc {
    async fn latest_sequencer(&self, b: &str, k: &str) -> Result<Option<String>, MemoryError> {
        self.turn().await;
        self.mem.latest_sequencer(b, k).await
    }
    async fn note_sequencer(
        &self,
        b: &str,
        k: &str,
        seq: &str,
        etag: Option<&str>,
    ) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.note_sequencer(b, k, seq, etag).await
    }
    async fn pointer(&self, p: Period, payer: &str) -> Result<Option<Pointer>, MemoryError> {
        self.turn().await;
        self.mem.pointer(p, payer).await
    }
    async fn flip(
        &self,
        next: &Pointer,
        current: Option<&Pointer>,
        outbox: &[OutboxItem],
        now: DateTime<Utc>,
    ) -> Result<Flip, MemoryError> {
        self.turn().await;
        self.mem.flip(next, current, outbox, now).await
    }
    async fn mark_version(&self, v: &Pointer, now: DateTime<Utc>) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.mark_version(v, now).await
    }
    async fn version_complete(&self, p: Period, payer: &str, v: &str) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.version_complete(p, payer, v).await
    }
    async fn versions(&self, p: Period, payer: &str) -> Result<Vec<VersionMark>, MemoryError> {
        self.turn().await;
        self.mem.versions(p, payer).await
    }
    async fn forget_version(&self, p: Period, payer: &str, v: &str) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.forget_version(p, payer, v).await
    }
    async fn record(&self, r: &IngestRecord) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.record(r).await
    }
}

impl AlertsStore for Proc {
    async fn outbox(&self, p: Period) -> Result<Vec<OutboxItem>, MemoryError> {
        self.turn().await;
        self.mem.outbox(p).await
    }
    async fn delete_outbox(&self, p: Period, sk: &str) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.delete_outbox(p, sk).await
    }
    fn outbox_fits(&self, items: &[OutboxItem]) -> bool {
        self.mem.outbox_fits(items)
    }
    async fn claim(&self, a: &Owed, now: DateTime<Utc>) -> Result<Claim, MemoryError> {
        self.turn().await;
        self.mem.claim(a, now).await
    }
    async fn is_done(&self, p: Period, key: &str) -> Result<bool, MemoryError> {
        self.turn().await;
        self.mem.is_done(p, key).await
    }
    async fn mark_published(
        &self,
        p: Period,
        key: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.mark_published(p, key, id, now).await
    }
    async fn mark_failed(
        &self,
        p: Period,
        key: &str,
        e: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.mark_failed(p, key, e, now).await
    }
    async fn release(&self, p: Period, key: &str) -> Result<(), MemoryError> {
        self.turn().await;
        self.mem.release(p, key).await
    }
}

impl BudgetsStore for Proc {
    async fn budgets(&self) -> Result<Vec<Budget>, MemoryError> {
        self.turn().await;
        self.mem.budgets().await
    }
}

impl Publisher for Proc {
    // Claim, publish and mark are calls of their own inside the memory publisher (each counted
    // and faulted); beside another delivery they take one turn together.
    async fn send(&self, a: &Owed, now: DateTime<Utc>) -> Result<Sent, MemoryError> {
        self.turn().await;
        self.mem.send(a, now).await
    }
}

/// Runs a future that never waits on anything outside it (the in-memory ports) to its end.
pub fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Runs two futures at once, the next turn drawn from `rng` each time both still run.
pub fn both<A: Future, B: Future>(a: A, b: B, rng: &mut Rng) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let mut cx = Context::from_waker(Waker::noop());
    let (mut ra, mut rb) = (None, None);
    while ra.is_none() || rb.is_none() {
        let a_turn = rb.is_some() || (ra.is_none() && rng.below(2) == 0);
        if a_turn {
            if let Poll::Ready(v) = a.as_mut().poll(&mut cx) {
                ra = Some(v);
            }
        } else if let Poll::Ready(v) = b.as_mut().poll(&mut cx) {
            rb = Some(v);
        }
    }
    (ra.unwrap(), rb.unwrap())
}

/// The S3 object an event names: sequencer and event time follow creation order.
pub fn object(ev: &Ev, t0: DateTime<Utc>) -> Object {
    Object {
        bucket: BUCKET.into(),
        key: KEYS[ev.key].key.into(),
        etag: Some(format!("etag{}", ev.order)),
        version_id: Some(format!("v{}-{}", ev.order, ev.variant)),
        sequencer: Some(ev.sequencer.clone()),
        event_time: t0 + Duration::seconds(ev.order as i64),
    }
}

/// The sequencer of the `order`th event of a sequence.
pub fn sequencer(order: usize) -> String {
    format!("{:018X}", 0x0055_AED6_DCD9_0281u64 + 0x100 * order as u64)
}

/// One thing a sequence did, enough to do it again.
#[derive(Debug, Clone)]
pub enum Action {
    /// One delivery (and the retries it needs); its first attempt's call `k` (from its first
    /// call) gets a fault.
    One { ev: Ev, fault: Option<(u64, Fault)> },
    /// Two clean deliveries at once, their turns drawn from `schedule`.
    Two { a: Ev, b: Ev, schedule: u64 },
}

/// What one attempt did.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub key: String,
    pub received_at: String,
    pub result: Result<RecordOutcome, String>,
    pub killed: bool,
    /// Whether this attempt should have left an ingest record.
    pub records: bool,
    /// Whether Lambda would retry it.
    pub retry: bool,
    /// Whether the object cannot be read.
    pub unreadable: bool,
    /// The record was written, and then the attempt failed (its reply lost, or killed): it
    /// says how the attempt had ended.
    pub record_as_done: bool,
}

/// What an action did.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// Attempts per delivery (one list for each of one or two deliveries).
    pub attempts: Vec<Vec<Attempt>>,
    /// The fault that fired: its kind and the port call it hit.
    pub fired: Option<(Fault, &'static str)>,
    /// The alert a death (or a lost reply) in the publish window may have sent twice.
    pub excused: Option<String>,
    /// Calls the first attempt made.
    pub calls: u64,
}

impl Done {
    pub fn converged(&self) -> bool {
        self.attempts
            .iter()
            .all(|a| a.last().is_some_and(|last| !last.retry))
    }

    pub fn trail(&self) -> String {
        let mut out = Vec::new();
        for attempts in &self.attempts {
            out.push(
                attempts
                    .iter()
                    .map(|a| match &a.result {
                        Ok(o) => o.outcome.as_str().to_string(),
                        Err(e) => format!("err {}", e.chars().take(100).collect::<String>()),
                    })
                    .collect::<Vec<_>>()
                    .join(" → "),
            );
        }
        out.join(" | ")
    }
}

/// Lambda retries a failed event this many times here (it gives up after 2 in AWS; the model
/// asks for convergence, and counts a delivery that needs more as diverged).
pub const MAX_ATTEMPTS: usize = 6;

/// The stores of one sequence.
pub struct World {
    pub mem: Memory,
    pub reads: Reads,
    pub t0: DateTime<Utc>,
}

impl World {
    pub fn new(reads: Reads, budget: Budget) -> Self {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let mem = Memory::new(t0);
        mem.set_budgets(vec![budget]);
        // One content per key for the memory's object store (see `Proc::summarize`).
        for k in KEYS {
            mem.put_object(BUCKET, k.key, Ok(Vec::new()));
        }
        World { mem, reads, t0 }
    }

    fn proc(&self, offset_ms: i64, yields: bool) -> Proc {
        Proc {
            mem: self.mem.clone(),
            reads: self.reads.clone(),
            offset_ms,
            yields,
        }
    }

    pub fn act(&self, action: &Action) -> Done {
        match action {
            Action::One { ev, fault } => self.one(ev, *fault),
            Action::Two { a, b, schedule } => self.two(a, b, *schedule),
        }
    }

    /// The retries of a delivery whose attempt failed: a fresh process a minute (then two, …)
    /// later, until one needs no retry.
    fn retries(&self, ev: &Ev, attempts: &mut Vec<Attempt>) {
        let object = object(ev, self.t0);
        for n in 1..MAX_ATTEMPTS {
            if !attempts.last().is_some_and(|a| a.retry) {
                return;
            }
            self.mem.revive();
            self.mem.advance(Duration::minutes(n as i64));
            let proc = self.proc(0, false);
            let received_at = stamp(proc.now());
            let result = run(deliver(&proc, &object));
            attempts.push(self.attempt(ev, received_at, result, None));
        }
    }

    /// One attempt's account; `fired`: the fault that hit it and the call's name.
    fn attempt(
        &self,
        ev: &Ev,
        received_at: String,
        result: Result<RecordOutcome, MemoryError>,
        fired: Option<(Fault, &'static str)>,
    ) -> Attempt {
        let killed = self.mem.is_dead();
        // The record is the last call of an attempt: a kill before it, or a fault without
        // effect at it, leaves none.
        let unreadable = self.reads[ev.variant].is_err();
        let records = match fired {
            _ if killed => fired == Some((Fault::KillAfter, "record")),
            Some((f, "record")) => f == Fault::Timeout,
            // A report that cannot be read notes its sequencer before it is recorded.
            Some((_, "note_sequencer")) if unreadable => false,
            _ => true,
        };
        let retry = match &result {
            Ok(_) => false,
            Err(e) => killed || e.class() == Class::Transient,
        };
        Attempt {
            key: KEYS[ev.key].key.into(),
            received_at,
            result: result.map_err(|e| e.to_string()),
            killed,
            records,
            retry,
            unreadable,
            record_as_done: matches!(fired, Some((_, "record"))),
        }
    }

    fn one(&self, ev: &Ev, fault: Option<(u64, Fault)>) -> Done {
        self.mem.advance(Duration::seconds(1));
        let object = object(ev, self.t0);
        let c0 = self.mem.calls();
        if let Some((k, f)) = fault {
            self.mem.fail_at(c0 + k, f);
        }
        let proc = self.proc(0, false);
        let received_at = stamp(proc.now());
        let published_before = self.mem.tables().published.len();
        let result = run(deliver(&proc, &object));
        let c1 = self.mem.calls();
        let log = self.mem.call_log();
        let fired = fault
            .filter(|(k, _)| c0 + k < c1)
            .map(|(k, f)| (f, log[(c0 + k) as usize]));
        if let Some((k, _)) = fault.filter(|(k, _)| c0 + k >= c1) {
            panic!(
                "a fault at call {k} of a delivery that made {} calls",
                c1 - c0
            );
        }
        let excused = fired.and_then(|(f, name)| {
            let at = fault.unwrap().0 + c0;
            // Published, and its mark never written: the publish took effect and its reply
            // was lost, or the mark right after it did not take effect.
            let window = match (f, name) {
                (Fault::KillAfter | Fault::Timeout, "publish") => true,
                (Fault::Timeout | Fault::KillAfter, "mark_published") => false,
                (_, "mark_published") => log[(at - 1) as usize] == "publish",
                _ => false,
            };
            // The alert of the last publish up to the fault (the others of the attempt go on).
            let nth = log[c0 as usize..=at as usize]
                .iter()
                .filter(|n| **n == "publish")
                .count();
            let published = self.mem.tables().published;
            (window && nth > 0).then(|| published[published_before + nth - 1].alert_id.clone())
        });
        let mut attempts = vec![self.attempt(ev, received_at, result, fired)];
        self.retries(ev, &mut attempts);
        Done {
            attempts: vec![attempts],
            fired,
            excused,
            calls: c1 - c0,
        }
    }

    fn two(&self, a: &Ev, b: &Ev, schedule: u64) -> Done {
        self.mem.advance(Duration::seconds(1));
        let (oa, ob) = (object(a, self.t0), object(b, self.t0));
        let (pa, pb) = (self.proc(0, true), self.proc(1, true));
        let (at_a, at_b) = (stamp(pa.now()), stamp(pb.now()));
        let c0 = self.mem.calls();
        let mut rng = Rng::new(schedule);
        let (ra, rb) = both(deliver(&pa, &oa), deliver(&pb, &ob), &mut rng);
        let calls = self.mem.calls() - c0;
        let mut first_a = vec![self.attempt(a, at_a, ra, None)];
        let mut first_b = vec![self.attempt(b, at_b, rb, None)];
        // Retries only once both are done.
        self.retries(a, &mut first_a);
        self.retries(b, &mut first_b);
        Done {
            attempts: vec![first_a, first_b],
            fired: None,
            excused: None,
            calls,
        }
    }
}

/// The stores' timestamp format (RFC 3339, UTC, milliseconds).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
