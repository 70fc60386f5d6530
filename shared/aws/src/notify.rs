//! Sending an alert once: claim it in the alerts table, publish it to SNS, mark it published.
//! Shared by the ingest function and the scheduled health check.

use crate::store::alerts::AlertRecord;
use crate::store::{AlertsStore, StoreError};
use aws_sdk_sns::types::MessageAttributeValue;
use billwatch_core::alert::Message;
use chrono::Utc;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SNS publish to {topic}: {message}")]
    Publish { topic: String, message: String },
}

/// Claims `record`, publishes `message` to `topic`, marks it published. Returns 1 when sent,
/// 0 when it was claimed before (or no topic is configured). A failed publish gives the claim
/// back, so the next attempt can send it.
pub async fn send_once(
    alerts: &AlertsStore,
    sns: &aws_sdk_sns::Client,
    topic: Option<&str>,
    record: &AlertRecord,
    message: &Message,
) -> Result<u64, NotifyError> {
    let Some(topic) = topic else {
        return Ok(0);
    };
    if !alerts.claim(record, Utc::now()).await? {
        return Ok(0);
    }
    match publish(sns, topic, message).await {
        Ok(message_id) => {
            alerts
                .mark_published(&record.period, &record.key, &message_id, Utc::now())
                .await?;
            Ok(1)
        }
        Err(e) => {
            alerts.release(&record.period, &record.key).await?;
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
        request = request.message_attributes(
            *name,
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .expect("data type is set"),
        );
    }
    let out = request.send().await.map_err(|e| NotifyError::Publish {
        topic: topic.to_string(),
        message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
    })?;
    Ok(out.message_id().unwrap_or_default().to_string())
}
