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

    /// The written rule for budget alerts (docs/alerts.md "Severity", docs/budgets.md), decided by the
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

/// SNS Publish's limits: the whole message (the `Message` text plus every attribute's name,
/// type and value) at most 256 KiB.
pub const SNS_MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// SNS subjects are shorter than 100 characters.
pub const SNS_MAX_SUBJECT_CHARS: usize = 99;
/// Message attributes per message.
pub const SNS_MAX_ATTRIBUTES: usize = 10;

impl Message {
    /// What SNS Publish would refuse in this message (empty when it takes it), by the limits of
    /// the Publish API reference: a subject of 1-99 printable ASCII characters (no line break
    /// or control character) starting with a letter, digit or punctuation; at most 10 message
    /// attributes, each name 1-256 characters of letters, digits, `_`, `-`, `.`, not starting
    /// with `AWS.` or `Amazon.`, not starting or ending with `.`, without `..`, each String
    /// value non-empty; the `MessageStructure=json` message, attributes included, at most
    /// 256 KiB. The local emulator checks none of these.
    pub fn sns_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.subject;
        if s.is_empty() || s.chars().count() > SNS_MAX_SUBJECT_CHARS {
            out.push(format!(
                "subject is {} characters (1-99)",
                s.chars().count()
            ));
        }
        if !s.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
            out.push(format!(
                "subject has a non-ASCII or control character: {s:?}"
            ));
        }
        if s.chars().next().is_some_and(|c| !c.is_ascii_graphic()) {
            out.push(format!("subject starts with {:?}", s.chars().next()));
        }
        if self.attributes.len() > SNS_MAX_ATTRIBUTES {
            out.push(format!(
                "{} message attributes (at most 10)",
                self.attributes.len()
            ));
        }
        let mut bytes = self.sns_json().len();
        for (name, value) in &self.attributes {
            let lower = name.to_ascii_lowercase();
            let name_ok = !name.is_empty()
                && name.len() <= 256
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                && !lower.starts_with("aws.")
                && !lower.starts_with("amazon.")
                && !name.starts_with('.')
                && !name.ends_with('.')
                && !name.contains("..");
            if !name_ok {
                out.push(format!("message attribute name {name:?} is not allowed"));
            }
            if value.is_empty() {
                out.push(format!("message attribute {name} has an empty value"));
            }
            bytes += name.len() + "String".len() + value.len();
        }
        if bytes > SNS_MAX_MESSAGE_BYTES {
            out.push(format!(
                "message is {bytes} bytes with its attributes (at most 262,144)"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(subject: &str, text: &str, attributes: Vec<(&'static str, String)>) -> Message {
        Message {
            subject: subject.into(),
            text: text.into(),
            payload: json!({"type": "test"}),
            attributes,
        }
    }

    #[test]
    fn sns_limits_are_checked_at_their_edges() {
        let ok = message(&"s".repeat(99), "t", vec![("kind", "budget".into())]);
        assert!(ok.sns_problems().is_empty(), "{:?}", ok.sns_problems());
        assert_eq!(
            message(&"s".repeat(100), "t", vec![]).sns_problems().len(),
            1
        );
        assert_eq!(message("", "t", vec![]).sns_problems().len(), 1);
        assert!(!message("a\nb", "t", vec![]).sns_problems().is_empty());
        assert!(!message(" a", "t", vec![]).sns_problems().is_empty());
        assert!(!message("caf\u{e9}", "t", vec![]).sns_problems().is_empty());
        let names = ["AWS.x", "amazon.y", ".a", "a.", "a..b", "a b", ""];
        for name in names {
            let name: &'static str = Box::leak(name.to_string().into_boxed_str());
            let m = message("s", "t", vec![(name, "v".into())]);
            assert_eq!(m.sns_problems().len(), 1, "{name:?}");
        }
        assert_eq!(
            message("s", "t", vec![("kind", String::new())])
                .sns_problems()
                .len(),
            1
        );
        let eleven = (0..11).map(|_| ("kind", "v".to_string())).collect();
        assert_eq!(message("s", "t", eleven).sns_problems().len(), 1);
        // The size counts the JSON structure (the text twice, the payload six times) and the
        // attributes: a text that fits alone can be too big in the structure.
        let fits = message("s", &"x".repeat(100_000), vec![]);
        assert!(fits.sns_problems().is_empty());
        let over = message("s", &"x".repeat(140_000), vec![]);
        assert_eq!(over.sns_problems().len(), 1, "{:?}", over.sns_problems());
    }
}
