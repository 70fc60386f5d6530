//! What a delivery reads and writes: the object an event names, the period's live pointer and
//! the versions being written, the alerts owed (the outbox), the ingest record, the outcome.

use crate::alert::{Alert, AlertKind};
use crate::budget::Basis;
use crate::period::Period;
use crate::report::{Format, Status};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The one timestamp format the stores keep: RFC 3339 in UTC with milliseconds and `Z`.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Sequencers of one key compare as strings once right-padded with zeros to one length.
pub fn padded_sequencer(sequencer: &str) -> String {
    format!("{:0<32}", sequencer.to_ascii_uppercase())
}

/// The object's version for once-per-version alerts: its sequencer, else its ETag.
pub fn version_tag(sequencer: Option<&str>, etag: Option<&str>) -> String {
    sequencer.or(etag).unwrap_or_default().to_string()
}

/// `<eventTime with millis>#<sequencer right-padded to 32>`: orders deliveries of one key by
/// S3's sequencer and deliveries of different keys by time.
pub fn order_key(event_time: DateTime<Utc>, sequencer: Option<&str>) -> String {
    format!(
        "{}#{}",
        stamp(event_time),
        padded_sequencer(sequencer.unwrap_or(""))
    )
}

/// The S3 object one event names, as the delivery needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    /// S3's sequencer as the event gave it (not padded).
    pub sequencer: Option<String>,
    pub event_time: DateTime<Utc>,
}

impl Object {
    pub fn padded_sequencer(&self) -> Option<String> {
        self.sequencer.as_deref().map(padded_sequencer)
    }

    pub fn version_tag(&self) -> String {
        version_tag(self.sequencer.as_deref(), self.etag.as_deref())
    }

    pub fn order_key(&self) -> String {
        order_key(self.event_time, self.sequencer.as_deref())
    }
}

/// What became of one S3 record, in the ingest record, the function's response and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Its totals are the period's live ones now.
    Stored,
    /// A newer or better delivery of the period (or of the key) is live.
    Stale,
    /// This very delivery was ingested before.
    Duplicate,
    /// Not a report to ingest (test event, other bucket, a CUR data part, …).
    Skipped,
    /// It could not be ingested; the error says why and whether a retry can help.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Stale => "stale",
            Outcome::Duplicate => "duplicate",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Outcome::Stored,
            Outcome::Stale,
            Outcome::Duplicate,
            Outcome::Skipped,
            Outcome::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which totals version is live for a (payer, period), and which delivery it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pointer {
    pub payer: String,
    pub period: Period,
    pub version: String,
    pub report_key: String,
    pub order_key: String,
    pub rank: u8,
    pub format: Format,
    pub status: Status,
    pub as_of: Option<String>,
    pub delivery_id: Option<String>,
    pub stored_at: String,
    pub rows_summed: u64,
    /// The S3 sequencer of the object read (right-padded), which alone orders writes of one key.
    pub sequencer: Option<String>,
}

/// Where a delivery stands among the deliveries of its period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub rank: u8,
    pub report_key: String,
    pub order_key: String,
    pub sequencer: Option<String>,
}

impl Order {
    /// Whether this delivery should replace `other` as the period's live one: a better
    /// format, or the same rank and newer. Two writes of one key are ordered by their S3
    /// sequencer only; different keys by event time (then sequencer).
    pub fn outranks(&self, other: &Order) -> bool {
        if self.rank != other.rank {
            return self.rank > other.rank;
        }
        if self.report_key == other.report_key {
            if let (Some(a), Some(b)) = (&self.sequencer, &other.sequencer) {
                return a > b;
            }
        }
        self.order_key > other.order_key
    }
}

impl Pointer {
    pub fn order(&self) -> Order {
        Order {
            rank: self.rank,
            report_key: self.report_key.clone(),
            order_key: self.order_key.clone(),
            sequencer: self.sequencer.clone(),
        }
    }

    pub fn outranks(&self, current: &Pointer) -> bool {
        self.order().outranks(&current.order())
    }
}

/// The outcome of trying to make a delivery the live one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flip {
    /// Now live, with the outbox written beside it.
    Flipped,
    /// The pointer changed since it was read: read it again and decide again.
    Conflict,
}

/// A version noted before its totals were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMark {
    pub version: String,
    pub written_epoch: i64,
    pub order: Order,
    /// All its items are written (a version still being written is never swept by another
    /// delivery: its writer sweeps it itself once it knows it is not live).
    pub complete: bool,
}

/// An alert the plan owes, in the shape it is kept until it is sent: everything a later
/// invocation needs to claim and publish it without re-planning (the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    pub period: Period,
    /// The claim key, unique in the period.
    pub key: String,
    pub alert_id: String,
    pub kind: String,
    pub budget: Option<String>,
    /// `actual`, `forecast`, or `final` for a month-close summary.
    pub basis: Option<String>,
    pub severity: String,
    pub reason: String,
    pub report_key: Option<String>,
    /// The budget's own topic; None: the stack's.
    pub topic: Option<String>,
    pub subject: String,
    /// The e-mail text.
    pub text: String,
    /// The JSON payload for machine subscribers, serialised.
    pub payload: String,
    pub attributes: Vec<(String, String)>,
}

impl Owed {
    /// The SNS `Message` for `MessageStructure=json`.
    pub fn sns_message(&self) -> String {
        crate::alert::message::sns_json(&self.text, &self.payload)
    }

    /// Roughly how many bytes it takes in the outbox.
    pub fn size(&self) -> usize {
        self.text.len() + self.payload.len() + self.subject.len() + self.reason.len() + 512
    }
}

impl From<&Alert> for Owed {
    fn from(a: &Alert) -> Self {
        let basis = match (a.kind, a.basis) {
            (AlertKind::MonthClose, _) => Some("final".to_string()),
            (_, b) => b.map(|b| Basis::as_str(b).to_string()),
        };
        Owed {
            period: a.period,
            key: a.key.clone(),
            alert_id: a.alert_id.clone(),
            kind: a.kind.as_str().into(),
            budget: a.budget.clone(),
            basis,
            severity: a.message_severity(),
            reason: a.reason.clone(),
            report_key: a.report_key.clone(),
            topic: a.topic.clone(),
            subject: a.message.subject.clone(),
            text: a.message.text.clone(),
            payload: a.message.payload.to_string(),
            attributes: a
                .message
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

/// One item of a period's outbox: the alerts one delivery owes (or a part of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// `O#<version>#<n>`: oldest delivery first, in the order the plan gave them.
    pub sk: String,
    pub alerts: Vec<Owed>,
}

/// What a claim attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This call owns the alert now: publish it.
    Claimed,
    /// It was published (or given up as unpublishable) before.
    Done,
    /// Someone claimed it recently and has not published it yet.
    Leased,
}

/// What became of one owed alert handed to the publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Published now.
    Now,
    /// Published (or given up) before, by this delivery or another: nothing to do.
    Before,
    /// Claimed by another attempt that has not finished: try again after the lease.
    Pending,
    /// The channel refuses it for good (its error is kept on the claim): it will not be retried.
    Refused,
    /// No topic is configured: evaluated, not sent.
    NoTopic,
}

/// One ingest of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestRecord {
    pub period: Period,
    pub received_at: String,
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub version_id: Option<String>,
    pub delivery_id: Option<String>,
    pub format: Option<Format>,
    pub payer: Option<String>,
    pub status: Option<Status>,
    pub as_of: Option<String>,
    pub rows_read: u64,
    pub rows_summed: u64,
    /// `name: expected vs actual ok|FAILED`, one per check.
    pub checks: Vec<String>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub totals_written: u64,
    pub alerts_sent: u64,
}

/// What happened to one record, returned to the caller (and so to `cargo lambda invoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub key: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    pub totals_written: u64,
    pub alerts_sent: u64,
}

impl RecordOutcome {
    pub fn new(key: &str, outcome: Outcome, reason: Option<String>) -> Self {
        Self {
            key: key.to_string(),
            outcome,
            reason,
            format: None,
            period: None,
            status: None,
            totals_written: 0,
            alerts_sent: 0,
        }
    }
}
