//! The delivery's decisions, each a plain function: which version an object writes, whether an
//! event was seen before, whether a delivery replaces the live one, which versions a sweep
//! removes, how the periods of one object merge into one outcome, what a failure calls for.

use super::ports::Class;
use super::types::{IngestRecord, Object, Outcome, Pointer, RecordOutcome, VersionMark};
use chrono::{DateTime, Utc};

/// Attempts at the conditional flip when other deliveries of the period keep flipping first.
pub const MAX_FLIP_ATTEMPTS: usize = 5;
/// A version not live after this long was left by an attempt that died (Lambda's timeout is at
/// most 15 minutes).
pub const ABANDONED_SECONDS: i64 = 20 * 60;
/// An unpublished claim older than this is considered abandoned: longer than a publish with the
/// SDK's retries takes, shorter than the minute after which Lambda retries a failed event.
pub const CLAIM_LEASE_SECONDS: i64 = 50;

/// How one period (or the whole object) ended, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub totals_written: u64,
    pub alerts_sent: u64,
}

impl Done {
    pub fn without_work(outcome: Outcome, reason: String) -> Self {
        Done {
            outcome,
            reason: Some(reason),
            totals_written: 0,
            alerts_sent: 0,
        }
    }
}

/// The totals version of one object version: a ULID whose time is the event's and whose other
/// 80 bits come from the object's identity (bucket, key, sequencer, S3 version id, ETag). Every
/// attempt at the same event writes the same version, so a retry overwrites its own items
/// instead of leaving a second copy; versions still sort by time.
pub fn version_of(object: &Object) -> String {
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

/// Whether an event of a key was seen before, from its padded sequencer and the newest noted
/// for the key: the same one is a duplicate, an older one stale (out of order); None: new (or
/// without a sequencer, which cannot be judged).
pub fn seen_before(sequencer: Option<&str>, latest: Option<&str>) -> Option<Done> {
    let (seq, latest) = (sequencer?, latest?);
    if latest < seq {
        return None;
    }
    let outcome = if latest == seq {
        Outcome::Duplicate
    } else {
        Outcome::Stale
    };
    Some(Done::without_work(
        outcome,
        format!("a delivery of this key with sequencer {latest} was already ingested"),
    ))
}

/// What to do with a delivery given the period's live pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replace {
    /// Make it live (plan its alerts against `current`, flip on condition).
    Flip,
    /// It already is live (an earlier attempt got this far).
    Already,
    /// A delivery that outranks it is live; the reason says which.
    Outranked(String),
}

/// Whether `next` replaces the live `current`.
pub fn replace(next: &Pointer, current: Option<&Pointer>) -> Replace {
    let Some(c) = current else {
        return Replace::Flip;
    };
    if c.version == next.version {
        return Replace::Already;
    }
    if !next.outranks(c) {
        return Replace::Outranked(format!(
            "a newer or better delivery is live: {} ({})",
            c.report_key,
            c.format.name()
        ));
    }
    Replace::Flip
}

/// Whether the sweep removes `mark`, another delivery's version of the period the `live`
/// delivery holds: one the live delivery outranks, at once when it is complete (an incomplete
/// one may still be being written); any other after [`ABANDONED_SECONDS`] (its attempt died).
/// The live version is never removed. A delivery's own version is [`sweeps_own`]'s.
pub fn sweeps(live: &Pointer, mark: &VersionMark, now: DateTime<Utc>) -> bool {
    if mark.version == live.version {
        return false;
    }
    let outranked = live.order().outranks(&mark.order);
    let abandoned = now.timestamp() - mark.written_epoch > ABANDONED_SECONDS;
    (outranked && mark.complete) || abandoned
}

/// Whether a delivery removes its own version, `own`, whatever its mark says (or if it has
/// none): when the `live` delivery is another that outranks it. Two deliveries of one event
/// share a version; the first to finish may sweep it while the second still writes items, and
/// only the second knows what it wrote after that sweep.
pub fn sweeps_own(live: &Pointer, own: &Pointer) -> bool {
    live.version != own.version && live.outranks(own)
}

/// One object's outcome from its periods' (in order): a stored period wins, else the first;
/// the counts add up, the format and status are the last period's, the period the first read.
/// Returns it with the rows read in all. No period at all reads as stale.
pub fn merge(key: &str, periods: &[(IngestRecord, Done)]) -> (RecordOutcome, u64) {
    let mut outcome = RecordOutcome::new(key, Outcome::Stale, None);
    let mut rows_read = 0;
    for (record, done) in periods {
        rows_read += record.rows_read;
        if outcome.period.is_none() || done.outcome == Outcome::Stored {
            outcome.outcome = done.outcome;
            outcome.reason = done.reason.clone();
        }
        outcome.format = record.format;
        outcome.status = record.status;
        outcome.period = outcome.period.or(record.format.map(|_| record.period));
        outcome.totals_written += done.totals_written;
        outcome.alerts_sent += done.alerts_sent;
    }
    (outcome, rows_read)
}

/// What a failed object calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// An empty report: nothing to store and nothing wrong enough to alert. Recorded as
    /// skipped, its sequencer noted (a duplicate is a no-op), and no error.
    Skip,
    /// A failure for good: alerted once per object version, its sequencer noted (not worth a
    /// retry: a duplicate is a no-op), recorded as failed, returned.
    AlertAndNote,
    /// A retry can help: recorded as failed and returned (so the event is retried).
    Retry,
}

/// What a failure of `class` calls for (`empty`: the report holds nothing to store).
pub fn on_failure(class: Class, empty: bool) -> OnFailure {
    match (empty, class) {
        (true, _) => OnFailure::Skip,
        (false, Class::Permanent) => OnFailure::AlertAndNote,
        (false, Class::Transient) => OnFailure::Retry,
    }
}
