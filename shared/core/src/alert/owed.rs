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

/// A digest (daily or weekly) of `budget`, claimed under `key` in `period`: its alert id (from
/// both) is added to the text and the payload, with the fields every digest's payload has.
pub fn digest_alert(
    budget: &crate::budget::Budget,
    period: Period,
    key: String,
    reason: String,
    subject: &str,
    mut text: String,
    mut payload: serde_json::Value,
) -> Alert {
    use super::sanitize::{id_text, sanitize_subject, sanitize_text};
    let alert_id = id_text(&format!("{period}:{key}"), 512);
    text.push_str(&format!("\nAlert id: {alert_id}\n"));
    let severity = Severity::Info;
    if let Some(o) = payload.as_object_mut() {
        o.insert("type".into(), "digest".into());
        o.insert("alert_id".into(), alert_id.clone().into());
        o.insert("severity".into(), severity.name().into());
        o.insert("period".into(), period.to_string().into());
        o.insert("budget".into(), budget.name.clone().into());
    }
    Alert {
        period,
        key,
        alert_id: alert_id.clone(),
        kind: AlertKind::Digest,
        budget: Some(budget.name.clone()),
        basis: None,
        severity,
        reason,
        report_key: None,
        topic: budget.topic_arn.clone(),
        message: Message {
            subject: sanitize_subject(subject),
            text: sanitize_text(&text),
            payload,
            attributes: vec![
                ("kind", "digest".into()),
                ("period", period.to_string()),
                ("severity", severity.name().into()),
                ("alert_id", alert_id),
                ("budget", budget.name.clone()),
            ],
        },
    }
}
