//! The scheduled health check's edge: read the newest delivery time, let the core decide
//! (`billwatch_core::health::silence`), send what it owes once.

use crate::error::ErrorClass;
use crate::notify::{send_once, NotifyError, Sent};
use crate::store::{AlertsStore, Owed, ReportsStore, StoreError, TableNames};
use crate::timestamp;
use billwatch_core::health::{silence, State};
use billwatch_core::period::Period;
use billwatch_core::timestamp::Timestamp;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    pub tables: TableNames,
    pub topic_arn: Option<String>,
    /// Where alerts also go in AWS Chatbot's custom-notification format (optional).
    pub chat_topic_arn: Option<String>,
    pub silence_hours: i64,
    /// Where the month pages digests link to are written (`BILLWATCH_PAGES_BUCKET`).
    pub pages_bucket: Option<String>,
}

impl HealthConfig {
    pub const DEFAULT_SILENCE_HOURS: i64 = 36;

    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        let silence_hours = match std::env::var("BILLWATCH_SILENCE_HOURS") {
            Ok(v) if !v.trim().is_empty() => {
                v.trim().parse().ok().filter(|h| *h > 0).ok_or_else(|| {
                    crate::config::ConfigError {
                        name: "BILLWATCH_SILENCE_HOURS".into(),
                        reason: format!("'{v}' is not a positive whole number of hours"),
                    }
                })?
            }
            _ => Self::DEFAULT_SILENCE_HOURS,
        };
        Ok(Self {
            tables: TableNames::from_env(),
            topic_arn: std::env::var("BILLWATCH_ALERT_TOPIC_ARN")
                .ok()
                .filter(|v| !v.is_empty()),
            chat_topic_arn: std::env::var("BILLWATCH_CHAT_TOPIC_ARN")
                .ok()
                .filter(|v| !v.is_empty()),
            silence_hours,
            pages_bucket: std::env::var("BILLWATCH_PAGES_BUCKET")
                .ok()
                .filter(|v| !v.is_empty()),
        })
    }
}

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthOutcome {
    pub last_delivery: Option<String>,
    pub silent_for_hours: Option<i64>,
    pub state: State,
    pub alerts_sent: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

impl HealthError {
    pub fn class(&self) -> ErrorClass {
        match self {
            HealthError::Store(e) => e.class(),
            HealthError::Notify(e) => e.class(),
        }
    }
}

/// Reads when the last report arrived (this month's and last month's ingest records: two
/// Queries), asks the core whether that silence is alert-worthy, and sends what it owes once.
pub async fn check(
    config: &HealthConfig,
    reports: &ReportsStore,
    alerts: &AlertsStore,
    senders: crate::notify::Senders<'_>,
    now: DateTime<Utc>,
) -> Result<HealthOutcome, HealthError> {
    let this = Period::of(now);
    let mut last: Option<DateTime<Utc>> = None;
    for period in [this, this.prev()] {
        for r in reports.list(period).await? {
            let received = Timestamp::parse(&r.received_at).ok().map(Timestamp::utc);
            last = last.max(received);
        }
    }
    let decision = silence(now, last, config.silence_hours);
    let mut sent = 0;
    if let Some(alert) = &decision.alert {
        let owed = Owed::from(alert);
        let topics = crate::notify::Topics {
            alerts: config.topic_arn.as_deref(),
            chat: config.chat_topic_arn.as_deref(),
            channels: senders.channels,
            pages: senders.pages,
        };
        if send_once(alerts, senders.sns, topics, &owed, now).await? == Sent::Now {
            sent = 1;
        }
    }
    Ok(HealthOutcome {
        last_delivery: last.map(timestamp),
        silent_for_hours: decision.silent_for_hours,
        state: decision.state,
        alerts_sent: sent,
    })
}

impl crate::error::Classified for HealthError {
    fn class(&self) -> ErrorClass {
        HealthError::class(self)
    }
}
