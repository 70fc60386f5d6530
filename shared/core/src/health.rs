//! Silence is the worst failure: the pure decision of whether the time since the last delivery
//! is worth an alert. One alert per silence (keyed by the last delivery seen), and one per month
//! while no report has ever arrived.

use crate::alert::notices::health_notice;
use crate::alert::plan::Alert;
use crate::alert::render::HealthCheck;
use crate::period::Period;
use crate::timestamp;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What the deliveries look like right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A report arrived within the limit.
    Ok,
    /// The last report is older than the limit.
    Silent,
    /// No report this month or last.
    Never,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Silent => "silent",
            State::Never => "never",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The decision: the state, how long it has been, and the alert owed (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceDecision {
    pub state: State,
    pub silent_for_hours: Option<i64>,
    pub alert: Option<Alert>,
}

/// Decides from the newest delivery time seen (this month's and last month's records) whether
/// the silence is alert-worthy at `now`.
pub fn silence(
    now: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    limit_hours: i64,
) -> SilenceDecision {
    let period = Period::of(now);
    let silent_for = last.map(|t| (now - t).num_hours());
    let last_text = last.map(timestamp::format);
    let (state, key, subject, text) = match (&last_text, silent_for) {
        (None, _) => (
            State::Never,
            format!("health#silence#never#{period}"),
            "no billing report has arrived yet".to_string(),
            "billwatch has not received any billing report this month or last month.\n\n\
             Check that AWS delivers reports to the billing bucket (Billing preferences for the\n\
             monthly reports, Cost and Usage Reports or Data Exports for CUR and FOCUS), and that\n\
             the bucket notifies the ingest function. AWS can take up to 24 hours to deliver the\n\
             first report after an export is set up.\n"
                .to_string(),
        ),
        (Some(l), Some(h)) if h >= limit_hours => (
            State::Silent,
            format!("health#silence#{l}"),
            format!("no billing report for {h} hours"),
            format!(
                "No billing report has arrived for {h} hours (the limit is {limit_hours} hours).\n\n\
                 Last delivery ingested: {l}\n\n\
                 AWS refreshes billing reports several times a day. Check the report or export in\n\
                 the Billing console, the bucket's event notifications, and the ingest function's\n\
                 failure queue.\n"
            ),
        ),
        _ => {
            return SilenceDecision {
                state: State::Ok,
                silent_for_hours: silent_for,
                alert: None,
            }
        }
    };
    let alert_id = format!("{period}:{key}");
    let details = serde_json::json!({"last_delivery": last_text, "silent_for_hours": silent_for,
                                     "limit_hours": limit_hours});
    let alert = health_notice(
        period,
        key,
        alert_id,
        HealthCheck::Silence,
        &subject,
        &text,
        details,
    );
    SilenceDecision {
        state,
        silent_for_hours: silent_for,
        alert: Some(Alert {
            reason: subject,
            ..alert
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_recent_delivery_is_ok_and_owes_nothing() {
        let d = silence(now(), Some(now() - Duration::hours(35)), 36);
        assert_eq!(d.state, State::Ok);
        assert_eq!(d.silent_for_hours, Some(35));
        assert!(d.alert.is_none());
    }

    #[test]
    fn a_silence_at_the_limit_alerts_keyed_by_the_last_delivery() {
        let last = now() - Duration::hours(36);
        let d = silence(now(), Some(last), 36);
        assert_eq!(d.state, State::Silent);
        let a = d.alert.unwrap();
        assert_eq!(a.key, "health#silence#2026-11-19T00:00:00.000Z");
        assert_eq!(a.period.to_string(), "2026-11");
        assert_eq!(a.severity, Severity::Critical);
        assert!(a.message.subject.contains("no billing report for 36 hours"));
        // Later runs of the same silence plan the same claim key: one alert per silence.
        let later = silence(now() + Duration::hours(5), Some(last), 36);
        assert_eq!(later.alert.unwrap().key, a.key);
    }

    #[test]
    fn never_alerts_once_per_month() {
        let d = silence(now(), None, 36);
        assert_eq!(d.state, State::Never);
        assert_eq!(d.alert.unwrap().key, "health#silence#never#2026-11");
        let dec = silence(
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            None,
            36,
        );
        assert_eq!(dec.alert.unwrap().key, "health#silence#never#2026-12");
    }

    #[test]
    fn payload_and_attribute_agree_on_severity() {
        let a = silence(now(), None, 36).alert.unwrap();
        let attr = a
            .message
            .attributes
            .iter()
            .find(|(k, _)| *k == "severity")
            .unwrap();
        assert_eq!(a.message.payload["severity"], attr.1.as_str());
    }

    use crate::alert::Severity;
}
