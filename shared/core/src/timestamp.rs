//! The one timestamp type: an instant in UTC (chrono's), written in the one format billwatch
//! writes everywhere (records, claims, logs, JSON, a report's "as of"): RFC 3339 in UTC with
//! milliseconds and `Z`, e.g. `2026-11-20T08:00:00.000Z`. It sorts as text.
//!
//! It reads back any RFC 3339 text (any offset or precision: what is already stored stays
//! readable) with [`Timestamp::parse`], and the date styles billing reports use with
//! [`Timestamp::parse_report`]. A date or time that does not exist (`2026-02-31`, `24:00:00`)
//! is refused with a reason, never carried on to fail later.

use crate::period::Period;
use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use std::fmt;
use std::str::FromStr;

/// An instant in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

/// Text that is not a timestamp, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a timestamp: {reason}")]
pub struct TimestampError {
    /// The text (at most 40 characters of it).
    pub text: String,
    pub reason: &'static str,
}

impl TimestampError {
    fn new(raw: &[u8], reason: &'static str) -> Self {
        TimestampError {
            text: String::from_utf8_lossy(raw).chars().take(40).collect(),
            reason,
        }
    }
}

/// `at` in the one format: `2026-11-20T08:00:00.000Z`.
pub fn format(at: DateTime<Utc>) -> String {
    Timestamp(at).to_string()
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

impl Timestamp {
    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }

    /// RFC 3339 text with any offset and precision (`2026-11-20T08:00:00.000Z`,
    /// `2026-11-20T09:00:00+01:00`, `2026-11-20T08:00:00.123456789Z`).
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Timestamp(t.to_utc()))
            .map_err(|_| {
                let reason = match Self::parse_report(text.as_bytes()) {
                    Err(e) => e.reason,
                    Ok(_) => "not RFC 3339 (2026-11-20T08:00:00.000Z)",
                };
                TimestampError::new(text.as_bytes(), reason)
            })
    }

    /// A date as billing reports write it: `2014/05/01 00:00:00`, `2014-09-01 00:00:00`,
    /// `2023-11-01T00:00:00.000Z`, `20170801T000000.000Z`, `2024-09-18` or `20261101`, read to the
    /// second in UTC (what follows the seconds is not read).
    pub fn parse_report(raw: &[u8]) -> Result<Self, TimestampError> {
        let refused = |reason| TimestampError::new(raw, reason);
        let text = raw.trim_ascii();
        let (year, month, day, rest) = if text.len() >= 10 && matches!(text[4], b'-' | b'/') {
            if text[7] != text[4] {
                return Err(refused("its date separators differ"));
            }
            (&text[0..4], &text[5..7], &text[8..10], &text[10..])
        } else if text.len() >= 8 && text[..8].iter().all(u8::is_ascii_digit) {
            (&text[0..4], &text[4..6], &text[6..8], &text[8..])
        } else {
            return Err(refused("not a date (2026-11-20 08:00:00)"));
        };
        let (hour, minute, second) = match rest.first() {
            None => (Some(0), Some(0), Some(0)),
            Some(b' ' | b'T') => {
                let t = &rest[1..];
                if t.len() >= 8 && t[2] == b':' && t[5] == b':' {
                    (digits(&t[0..2]), digits(&t[3..5]), digits(&t[6..8]))
                } else if t.len() >= 6 && t[..6].iter().all(u8::is_ascii_digit) {
                    (digits(&t[0..2]), digits(&t[2..4]), digits(&t[4..6]))
                } else {
                    return Err(refused("not a time of day (08:00:00)"));
                }
            }
            Some(_) => return Err(refused("what follows the date is not a time")),
        };
        let (Some(year), Some(month), Some(day)) = (digits(year), digits(month), digits(day))
        else {
            return Err(refused("not a date (2026-11-20 08:00:00)"));
        };
        let (Some(hour), Some(minute), Some(second)) = (hour, minute, second) else {
            return Err(refused("not a time of day (08:00:00)"));
        };
        let date = NaiveDate::from_ymd_opt(year as i32, month, day)
            .ok_or_else(|| refused("no such day"))?;
        let time =
            NaiveTime::from_hms_opt(hour, minute, second).ok_or_else(|| refused("no such time"))?;
        Ok(Timestamp(date.and_time(time).and_utc()))
    }

    /// The billing period (month) of this instant.
    pub fn period(self) -> Period {
        Period::of(self.0)
    }

    /// The first instant of a period.
    pub fn start_of(period: Period) -> Self {
        Timestamp(period.start())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Timestamp(at)
    }
}

impl fmt::Display for Timestamp {
    /// `2026-11-20T08:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(text: &str) -> Result<Self, TimestampError> {
        Timestamp::parse(text)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Timestamp::parse_report(s.as_bytes()).unwrap().to_string()
    }

    #[test]
    fn every_report_style_parses() {
        assert_eq!(p("2014/05/01 00:00:00"), "2014-05-01T00:00:00.000Z");
        assert_eq!(p("2014-09-01 01:00:00"), "2014-09-01T01:00:00.000Z");
        assert_eq!(p("2023-11-01T00:00:00.000Z"), "2023-11-01T00:00:00.000Z");
        assert_eq!(p("2020-04-11T16:00:00.000Z"), "2020-04-11T16:00:00.000Z");
        assert_eq!(p("20170801T000000.000Z"), "2017-08-01T00:00:00.000Z");
        assert_eq!(p("2024-09-18"), "2024-09-18T00:00:00.000Z");
        assert_eq!(p("20261101"), "2026-11-01T00:00:00.000Z");
        assert_eq!(p("2024-02-29 23:59:59"), "2024-02-29T23:59:59.000Z");
    }

    #[test]
    fn junk_does_not_parse() {
        for junk in [
            "",
            "NULL",
            "2014/13/01 00:00:00",
            "2014-05/01",
            "yesterday",
            "2014-05-01X",
            "2014-05-01 8:00",
            "2014-0a-01",
        ] {
            assert!(Timestamp::parse_report(junk.as_bytes()).is_err(), "{junk}");
            assert!(Timestamp::parse(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn impossible_dates_and_times_are_refused_with_a_reason() {
        for (text, reason) in [
            ("2026-02-31 24:00:00", "no such day"),
            ("2026-02-31 00:00:00", "no such day"),
            ("2026-02-29", "no such day"),
            ("2026-04-31T00:00:00.000Z", "no such day"),
            ("2026-00-10", "no such day"),
            ("2026-11-20 24:00:00", "no such time"),
            ("2026-11-20 23:60:00", "no such time"),
            ("2026-11-20T23:59:61Z", "no such time"),
        ] {
            let e = Timestamp::parse_report(text.as_bytes()).unwrap_err();
            assert_eq!(e.reason, reason, "{text}");
            assert_eq!(
                e.to_string(),
                format!("'{text}' is not a timestamp: {reason}")
            );
        }
        // Stored text is read by chrono's RFC 3339 parser; the reason is the same.
        let e = Timestamp::parse("2026-02-31T24:00:00.000Z").unwrap_err();
        assert_eq!(e.reason, "no such day");
        let e = Timestamp::parse("2026-11-20T24:00:00Z").unwrap_err();
        assert_eq!(e.reason, "no such time");
    }

    #[test]
    fn stored_timestamps_read_back_in_the_one_format() {
        // What the stores hold today (`format`), and what chrono's other RFC 3339 writers give.
        for (stored, shown) in [
            ("2026-11-20T08:00:00.000Z", "2026-11-20T08:00:00.000Z"),
            ("2026-11-20T08:00:00Z", "2026-11-20T08:00:00.000Z"),
            (
                "2026-11-20T08:00:00.123456789+00:00",
                "2026-11-20T08:00:00.123Z",
            ),
            ("2026-11-20T09:30:00.5+01:30", "2026-11-20T08:00:00.500Z"),
        ] {
            let t: Timestamp = stored.parse().unwrap();
            assert_eq!(t.to_string(), shown, "{stored}");
            assert_eq!(shown.parse::<Timestamp>().unwrap().to_string(), shown);
        }
        let now = Utc::now();
        let written = format(now);
        assert_eq!(written.len(), 24, "{written}");
        assert_eq!(
            Timestamp::parse(&written).unwrap().utc().timestamp_millis(),
            now.timestamp_millis()
        );
        // A report's "as of" is written the same way and reads back as stored text.
        let as_of = Timestamp::parse_report(b"2026-11-20 08:00:00").unwrap();
        assert_eq!(Timestamp::parse(&as_of.to_string()).unwrap(), as_of);
    }

    #[test]
    fn json_is_the_one_format() {
        let t = Timestamp::parse("2026-11-20T08:00:00Z").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-20T08:00:00.000Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        let e = serde_json::from_str::<Timestamp>("\"2026-02-31T00:00:00Z\"").unwrap_err();
        assert!(e.to_string().contains("no such day"), "{e}");
    }

    #[test]
    fn periods_and_their_ends() {
        assert_eq!(
            Timestamp::parse_report(b"2014/05/31 23:59:59")
                .unwrap()
                .period()
                .to_string(),
            "2014-05"
        );
        assert_eq!(
            Timestamp::start_of("2026-12".parse::<Period>().unwrap().next()).to_string(),
            "2027-01-01T00:00:00.000Z"
        );
        assert!(
            Timestamp::parse_report(b"2026-11-30 00:00:00").unwrap()
                < Timestamp::parse_report(b"2026-12-01 00:00:00").unwrap()
        );
    }
}
