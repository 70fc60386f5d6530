//! Sending an alert once: claim it in the alerts table, publish it to SNS, mark it published.
//! Shared by the ingest function and the scheduled health check.

use crate::error::{CallError, ErrorClass};
use crate::store::{AlertsStore, StoreError};
use aws_sdk_sns::types::MessageAttributeValue;
use billwatch_core::alert::{Alert, Message};
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SNS Publish to {topic}: {error}")]
    Publish { topic: String, error: CallError },
}

impl NotifyError {
    pub fn class(&self) -> ErrorClass {
        match self {
            NotifyError::Store(e) => e.class(),
            NotifyError::Publish { error, .. } => error.class,
        }
    }
}

/// Claims `alert`, publishes its message to its own topic or `default_topic`, marks it
/// published. Returns 1 when sent, 0 when it was claimed before (or no topic is configured).
/// A failed publish gives the claim back, so the next attempt can send it.
pub async fn send_once(
    alerts: &AlertsStore,
    sns: &aws_sdk_sns::Client,
    default_topic: Option<&str>,
    alert: &Alert,
    now: DateTime<Utc>,
) -> Result<u64, NotifyError> {
    let Some(topic) = alert.topic.as_deref().or(default_topic) else {
        return Ok(0);
    };
    if !alerts.claim(alert, now).await? {
        return Ok(0);
    }
    match publish(sns, topic, &alert.message).await {
        Ok(message_id) => {
            alerts
                .mark_published(alert.period, &alert.key, &message_id, now)
                .await?;
            Ok(1)
        }
        Err(e) => {
            alerts.release(alert.period, &alert.key).await?;
            Err(e)
        }
    }
}

/// Publishes with `MessageStructure=json` (text for e-mail, JSON for machines) and message
/// attributes for filter policies. Returns the message id.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    m: &Message,
) -> Result<String, NotifyError> {
    let mut request = sns
        .publish()
        .topic_arn(topic)
        .subject(&m.subject)
        .message_structure("json")
        .message(m.sns_json());
    for (name, value) in &m.attributes {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| NotifyError::Publish {
                topic: topic.to_string(),
                error: CallError {
                    code: None,
                    status: None,
                    message: e.to_string(),
                    class: ErrorClass::Permanent,
                },
            })?;
        request = request.message_attributes(*name, attribute);
    }
    let out = request.send().await.map_err(|e| NotifyError::Publish {
        topic: topic.to_string(),
        error: CallError::of(&e),
    })?;
    Ok(out.message_id().unwrap_or_default().to_string())
}
