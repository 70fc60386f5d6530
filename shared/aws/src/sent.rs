//! What sending an alert's copy (to SNS or a channel) shares: its error, its outcome, the mark
//! that makes it sent, and the copy as sent (with the link to its month page).

use crate::error::{CallError, ErrorClass};
use crate::page::links::{wants_page, with_link, PageLinks};
use crate::retry::{retry, Policy};
use crate::store::{AlertsStore, Owed, StoreError};
use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// What became of one owed alert: the core's (the delivery's publisher port returns it).
pub use billwatch_core::delivery::Sent;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SNS Publish to {topic}: {error}")]
    Publish { topic: String, error: CallError },
    #[error("channel {channel}: {error}")]
    Channel {
        channel: String,
        error: String,
        class: ErrorClass,
    },
}

impl NotifyError {
    pub fn class(&self) -> ErrorClass {
        match self {
            NotifyError::Store(e) => e.class(),
            NotifyError::Publish { error, .. } => error.class,
            NotifyError::Channel { class, .. } => *class,
        }
    }
}

/// Marks a published alert, trying harder than the SDK does ([`Policy::MARK_PUBLISHED`]): SNS
/// has accepted the message, and an unmarked claim would be published again once its lease runs
/// out. Only a process that dies between the publish and this write (or DynamoDB failing for
/// seconds) leaves that window open.
pub async fn mark_published(
    alerts: &AlertsStore,
    alert: &Owed,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let what = format!("marking alert {} published", alert.alert_id);
    retry(Policy::MARK_PUBLISHED, &what, || {
        alerts.mark_published(alert.period, &alert.key, message_id, now)
    })
    .await
}

/// `alert` as sent: with the link to its month's page when it is about the month's spend and
/// the page could be written (see [`crate::page::links`]), else as it is.
pub async fn as_sent<'a>(
    pages: Option<&PageLinks>,
    alert: &'a Owed,
    now: DateTime<Utc>,
) -> (Cow<'a, Owed>, Option<String>) {
    if let Some(pages) = pages.filter(|_| wants_page(&alert.kind)) {
        if let Some(link) = pages.link(alert.period, now).await {
            return (Cow::Owned(with_link(alert, &link)), Some(link.url));
        }
    }
    (Cow::Borrowed(alert), None)
}
