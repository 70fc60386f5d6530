//! An alert the plan owes, in the shape it is kept in DynamoDB until it is sent: everything a
//! later invocation needs to claim and publish it without re-planning (the outbox).

use billwatch_core::alert::{Alert, AlertKind};
use billwatch_core::budget::Basis;
use billwatch_core::period::Period;
use serde::{Deserialize, Serialize};

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
        billwatch_core::alert::message::sns_json(&self.text, &self.payload)
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
