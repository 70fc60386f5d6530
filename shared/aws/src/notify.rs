//! Sending an owed alert once: claim it in the alerts table, publish it to SNS, mark it
//! published; then each channel's copy (`crate::channels::send`). Shared by the ingest function
//! and the scheduled health check.

use crate::channels::Channels;
use crate::error::{CallError, ErrorClass};
use crate::page::links::PageLinks;
use crate::store::{AlertsStore, Claim, Owed};
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, Utc};

use crate::sent::mark_published;
pub use crate::sent::{as_sent, NotifyError, Sent};

/// Where alerts go: the stack's alert topic (budgets may name their own), optionally the chat
/// topic that gets each alert of the stack's topic again in AWS Chatbot's format, and the
/// channels budgets name (Slack, Teams, Discord, Google Chat, webhooks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Topics<'a> {
    pub alerts: Option<&'a str>,
    pub chat: Option<&'a str>,
    pub channels: Option<&'a Channels>,
    /// Where the month page is written and linked from (None: no page, no link).
    pub pages: Option<&'a PageLinks>,
}

/// What alerts are sent with: SNS, and the channels budgets name (None: SNS only).
#[derive(Debug, Clone, Copy)]
pub struct Senders<'a> {
    pub sns: &'a aws_sdk_sns::Client,
    pub channels: Option<&'a Channels>,
    pub pages: Option<&'a PageLinks>,
}

impl<'a> Senders<'a> {
    /// SNS only.
    pub fn sns(sns: &'a aws_sdk_sns::Client) -> Self {
        Self {
            sns,
            channels: None,
            pages: None,
        }
    }
}

/// Sends `alert` once to its topic (see [`send_sns_once`]) and once to each channel its budget
/// names (see [`crate::channels::send`]), each copy claimed on its own: one failing never stops
/// another. What it returns sums them up: a failure (after every copy was tried) if any copy
/// failed and is owed still, else [`Sent::Pending`] if another attempt holds one, else
/// [`Sent::Now`] if any went now.
pub async fn send_once(
    alerts: &AlertsStore,
    sns: &aws_sdk_sns::Client,
    topics: Topics<'_>,
    alert: &Owed,
    now: DateTime<Utc>,
) -> Result<Sent, NotifyError> {
    let first = send_sns_once(alerts, sns, topics, alert, now).await;
    let Some(channels) = topics.channels else {
        return first;
    };
    let book = match channels.book().await {
        Ok(b) => b,
        Err(e) => {
            // The SNS copy went (or its fault is returned); the channels' copies are owed still.
            return first.and(Err(NotifyError::Store(e)));
        }
    };
    let (targets, missing) = book.targets(alert.budget.as_deref());
    for name in missing {
        tracing::warn!(alert = %alert.alert_id, channel = %name, "the budget names a channel no longer declared; not sent there");
    }
    let mut results = vec![first];
    for channel in targets {
        results.push(
            crate::channels::send::post_once(alerts, channels, topics.pages, alert, channel, now)
                .await,
        );
    }
    sum_up(results)
}

/// One outcome for an alert's copies (see [`send_once`]).
fn sum_up(results: Vec<Result<Sent, NotifyError>>) -> Result<Sent, NotifyError> {
    let mut sent = Vec::new();
    let mut failure = None;
    for r in results {
        match r {
            Ok(s) => sent.push(s),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    for wanted in [Sent::Pending, Sent::Now, Sent::Before, Sent::Refused] {
        if sent.contains(&wanted) {
            return Ok(wanted);
        }
    }
    Ok(Sent::NoTopic)
}

/// Claims `alert`, publishes it to its own topic or the stack's, marks it published. A
/// transient publish failure gives the claim back and is returned (a retry sends it); a
/// permanent one is kept on the claim and reported as [`Sent::Refused`]. An alert published to
/// the stack's topic then goes to the chat topic too, once the claim is marked: at most once
/// there (a chat failure is logged, never retried, so it can never repeat the alert itself).
async fn send_sns_once(
    alerts: &AlertsStore,
    sns: &aws_sdk_sns::Client,
    topics: Topics<'_>,
    alert: &Owed,
    now: DateTime<Utc>,
) -> Result<Sent, NotifyError> {
    let default_topic = topics.alerts;
    let Some(topic) = alert.topic.as_deref().or(default_topic) else {
        return Ok(Sent::NoTopic);
    };
    match alerts.claim(alert, now).await? {
        Claim::Claimed => {}
        Claim::Done => return Ok(Sent::Before),
        Claim::Leased => return Ok(Sent::Pending),
    }
    // The page only once the alert is this attempt's to send.
    let (alert, _) = &as_sent(topics.pages, alert, now).await;
    match publish(
        sns,
        topic,
        &alert.subject,
        Body::PerProtocol(&alert.sns_message()),
        &alert.attributes,
    )
    .await
    {
        Ok(message_id) => {
            mark_published(alerts, alert, &message_id, now).await?;
            if let (None, Some(chat)) = (&alert.topic, topics.chat) {
                if let Err(e) = publish_chat(sns, chat, alert).await {
                    tracing::warn!(alert = %alert.alert_id, error = %e, "chat copy of the alert not sent");
                }
            }
            Ok(Sent::Now)
        }
        Err(e) if e.class() == ErrorClass::Permanent => {
            tracing::error!(alert = %alert.alert_id, error = %e, "SNS refuses the alert; not retried");
            alerts
                .mark_failed(alert.period, &alert.key, &e.to_string(), now)
                .await?;
            Ok(Sent::Refused)
        }
        Err(e) => {
            alerts.release(alert.period, &alert.key).await?;
            Err(e)
        }
    }
}

/// Publishes the alert in AWS Chatbot's custom-notification format (a plain JSON message:
/// Chatbot reads the message body), with the same attributes for filter policies.
pub async fn publish_chat(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    alert: &Owed,
) -> Result<String, NotifyError> {
    let body =
        billwatch_core::alert::chat::notification(&alert.subject, &alert.text, &alert.attributes);
    publish(
        sns,
        topic,
        &alert.subject,
        Body::Plain(&body.to_string()),
        &alert.attributes,
    )
    .await
}

/// A message body as SNS takes it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// One body for every protocol alike (no `MessageStructure`).
    Plain(&'a str),
    /// `MessageStructure=json`: a JSON object of one body per protocol (text for e-mail, JSON
    /// for machines).
    PerProtocol(&'a str),
}

/// Publishes `body` with `attributes` as message attributes (for filter policies). Returns the
/// message id.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    subject: &str,
    body: Body<'_>,
    attributes: &[(String, String)],
) -> Result<String, NotifyError> {
    let failed = |error: CallError| NotifyError::Publish {
        topic: topic.to_string(),
        error,
    };
    let mut request = sns
        .publish()
        .topic_arn(topic)
        .subject(subject)
        .set_message_structure(matches!(body, Body::PerProtocol(_)).then(|| "json".to_string()))
        .message(match body {
            Body::Plain(text) | Body::PerProtocol(text) => text,
        });
    for (name, value) in attributes {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| {
                failed(CallError {
                    code: None,
                    status: None,
                    message: e.to_string(),
                    class: ErrorClass::Permanent,
                })
            })?;
        request = request.message_attributes(name, attribute);
    }
    let out = request
        .send()
        .await
        .map_err(|e| failed(CallError::of(&e)))?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(channel: &str) -> Result<Sent, NotifyError> {
        Err(NotifyError::Channel {
            channel: channel.into(),
            error: "HTTP 503".into(),
            class: ErrorClass::Transient,
        })
    }

    #[test]
    fn an_alerts_copies_sum_up_to_one_outcome() {
        // A copy still owed fails the whole (after every copy was tried), the first failure named.
        let e = sum_up(vec![Ok(Sent::Now), failed("a"), failed("b")]).unwrap_err();
        assert!(e.to_string().starts_with("channel a:"), "{e}");
        assert_eq!(e.class(), ErrorClass::Transient);
        // Another attempt holding a copy: pending, whatever went now.
        assert_eq!(
            sum_up(vec![Ok(Sent::Now), Ok(Sent::Pending)]).unwrap(),
            Sent::Pending
        );
        assert_eq!(
            sum_up(vec![Ok(Sent::Before), Ok(Sent::Now)]).unwrap(),
            Sent::Now
        );
        assert_eq!(
            sum_up(vec![Ok(Sent::NoTopic), Ok(Sent::Now)]).unwrap(),
            Sent::Now
        );
        assert_eq!(
            sum_up(vec![Ok(Sent::Refused), Ok(Sent::Before)]).unwrap(),
            Sent::Before
        );
        assert_eq!(sum_up(vec![Ok(Sent::Refused)]).unwrap(), Sent::Refused);
        assert_eq!(sum_up(vec![Ok(Sent::NoTopic)]).unwrap(), Sent::NoTopic);
    }
}
