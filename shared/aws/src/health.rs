//! The scheduled health check: silence is the worst failure. When no billing report has
//! arrived for `silence_hours`, alert once per silence (keyed by the last delivery seen), and
//! once per month while no report has ever arrived.

use crate::notify::{self, NotifyError};
use crate::store::alerts::AlertRecord;
use crate::store::{AlertsStore, ReportsStore, StoreError, TableNames};
use billwatch_core::alert;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    pub tables: TableNames,
    pub topic_arn: Option<String>,
    pub silence_hours: i64,
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
            silence_hours,
        })
    }
}

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthOutcome {
    pub last_delivery: Option<String>,
    pub silent_for_hours: Option<i64>,
    /// `ok`, `silent` or `never`.
    pub state: String,
    pub alerts_sent: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

fn month(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

fn previous_month(t: DateTime<Utc>) -> String {
    let (y, m) = if t.month() == 1 {
        (t.year() - 1, 12)
    } else {
        (t.year(), t.month() - 1)
    };
    format!("{y:04}-{m:02}")
}

/// Checks when the last report arrived (this month's and last month's ingest records: two
/// Queries) and alerts once if it is too long ago.
pub async fn check(
    config: &HealthConfig,
    reports: &ReportsStore,
    alerts: &AlertsStore,
    sns: &aws_sdk_sns::Client,
    now: DateTime<Utc>,
) -> Result<HealthOutcome, HealthError> {
    let mut last: Option<String> = None;
    for period in [month(now), previous_month(now)] {
        for r in reports.list(&period).await? {
            if last.as_ref().is_none_or(|l| r.received_at > *l) {
                last = Some(r.received_at);
            }
        }
    }
    let period = month(now);
    let last_time = last
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let silent_for = last_time.map(|t| (now - t).num_hours());
    let (state, key, subject, text) = match (&last, silent_for) {
        (None, _) => (
            "never",
            format!("health#silence#never#{period}"),
            "no billing report has arrived yet".to_string(),
                            "billwatch has not received any billing report this month or last month.\n\n\
                 Check that AWS delivers reports to the billing bucket (Billing preferences for the\n\
                 monthly reports, Cost and Usage Reports or Data Exports for CUR and FOCUS), and that\n\
                 the bucket notifies the ingest function. AWS can take up to 24 hours to deliver the\n\
                 first report after an export is set up.\n"
                .to_string(),
        ),
        (Some(l), Some(h)) if h >= config.silence_hours => (
            "silent",
            format!("health#silence#{l}"),
            format!("no billing report for {h} hours"),
            format!(
                "No billing report has arrived for {h} hours (the limit is {} hours).\n\n\
                 Last delivery ingested: {l}\n\n\
                 AWS refreshes billing reports several times a day. Check the report or export in\n\
                 the Billing console, the bucket's event notifications, and the ingest function's\n\
                 failure queue.\n",
                config.silence_hours
            ),
        ),
        _ => {
            return Ok(HealthOutcome {
                last_delivery: last,
                silent_for_hours: silent_for,
                state: "ok".into(),
                alerts_sent: 0,
            })
        }
    };
    let alert_id = format!("{period}:{key}");
    let message = alert::health(
        &alert_id,
        "silence",
        &subject,
        &text,
        period,
        serde_json::json!({"last_delivery": last, "silent_for_hours": silent_for,
                           "limit_hours": config.silence_hours}),
    );
    let record = AlertRecord {
        period,
        key,
        alert_id,
        kind: "health".into(),
        severity: "critical".into(),
        subject: message.subject.clone(),
        reason: subject,
        ..AlertRecord::default()
    };
    let sent =
        notify::send_once(alerts, sns, config.topic_arn.as_deref(), &record, &message).await?;
    Ok(HealthOutcome {
        last_delivery: last,
        silent_for_hours: silent_for,
        state: state.into(),
        alerts_sent: sent,
    })
}

/// `now` shifted by whole hours (for tests and `--at`).
pub fn hours_later(now: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    now + Duration::hours(hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn months_roll_over_the_year() {
        let jan = Utc.with_ymd_and_hms(2027, 1, 5, 0, 0, 0).unwrap();
        assert_eq!(month(jan), "2027-01");
        assert_eq!(previous_month(jan), "2026-12");
        let nov = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        assert_eq!(previous_month(nov), "2026-10");
    }
}
