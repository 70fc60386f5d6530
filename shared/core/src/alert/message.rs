//! A rendered alert as SNS takes it: subject, e-mail text, JSON payload, message attributes.

use serde_json::{json, Value};

/// How urgent an alert is (a message attribute subscribers can filter on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// The severity whose [`Severity::name`] is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Severity::Info, Severity::Warning, Severity::Critical]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// The written rule for budget alerts (README "Severity", docs/budgets.md), decided by the
    /// threshold crossed, not by how far spend has run past it, so that the alerts of one
    /// delivery differ where their thresholds differ:
    ///
    /// * a forecast threshold is a `warning`: a forecast may not happen;
    /// * an actual-spend threshold below 100 % of the amount is a `warning`;
    /// * an actual-spend threshold at or over 100 % (escalation steps included) is `critical`.
    pub fn of_budget(basis: crate::budget::Basis, level_percent: rust_decimal::Decimal) -> Self {
        match basis {
            crate::budget::Basis::Actual if level_percent >= rust_decimal::Decimal::ONE_HUNDRED => {
                Severity::Critical
            }
            _ => Severity::Warning,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A rendered alert, ready for SNS.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub payload: Value,
    pub attributes: Vec<(&'static str, String)>,
}

impl Message {
    /// The `Message` for `MessageStructure=json`: text for e-mail and the default, the JSON
    /// payload for machine subscribers.
    pub fn sns_json(&self) -> String {
        sns_json(&self.text, &self.payload.to_string())
    }
}

/// The SNS `Message` for `MessageStructure=json` from an e-mail text and a JSON payload.
pub fn sns_json(text: &str, payload: &str) -> String {
    {
        json!({
            "default": text,
            "email": text,
            "email-json": payload,
            "sqs": payload,
            "lambda": payload,
            "http": payload,
            "https": payload,
            "firehose": payload,
        })
        .to_string()
    }
}
