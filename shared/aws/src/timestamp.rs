//! The one timestamp format billwatch writes everywhere (records, claims, logs, JSON): RFC 3339
//! in UTC with milliseconds and `Z`, e.g. `2026-11-20T08:00:00.000Z`. It sorts as text.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
