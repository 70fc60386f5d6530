//! One alert owed by a decision: what it is, who may claim it, what to record and publish.

use super::message::{Message, Severity};
use crate::budget::Basis;
use crate::period::Period;

/// What kind of alert, for the record and the `kind` message attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    Budget,
    Escalation,
    MonthClose,
    Health,
    Anomaly,
    Digest,
    /// A commitment budget: a gauge under its line, or a commitment near its end.
    Commitment,
}

impl AlertKind {
    /// The kind whose [`AlertKind::as_str`] is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            AlertKind::Budget,
            AlertKind::Escalation,
            AlertKind::MonthClose,
            AlertKind::Health,
            AlertKind::Anomaly,
            AlertKind::Digest,
            AlertKind::Commitment,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Budget => "budget",
            AlertKind::Escalation => "escalation",
            AlertKind::MonthClose => "month-close",
            AlertKind::Health => "health",
            AlertKind::Anomaly => "anomaly",
            AlertKind::Digest => "digest",
            AlertKind::Commitment => "commitment",
        }
    }
}

/// One alert owed: who may claim it (`period` + `key`), what to record and what to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub period: Period,
    /// Unique within the period: `<budget>#<basis>#<percent>`, `<budget>#close#final`,
    /// `health#…`.
    pub key: String,
    /// Stable across deliveries and retries, for downstream de-duplication.
    pub alert_id: String,
    pub kind: AlertKind,
    pub budget: Option<String>,
    /// The threshold's basis (budget and escalation alerts).
    pub basis: Option<Basis>,
    pub severity: Severity,
    /// Why it was sent, in one line.
    pub reason: String,
    pub report_key: Option<String>,
    /// The budget's own topic, when it has one (else the stack's topic).
    pub topic: Option<String>,
    pub message: Message,
}

impl Alert {
    /// The severity as subscribers see it (the `severity` message attribute).
    pub fn message_severity(&self) -> String {
        self.severity.name().to_string()
    }
}
