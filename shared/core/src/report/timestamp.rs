//! The date styles billing reports use, read without a date library:
//! `2014/05/01 00:00:00`, `2014-09-01 00:00:00`, `2023-11-01T00:00:00.000Z`, `20170801T000000.000Z`.

use std::fmt;

/// A UTC timestamp to the second. Field order makes the derived ordering chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

impl Timestamp {
    /// Parses any of the styles above; `None` for anything else.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let raw = raw.trim_ascii();
        let (year, month, day, rest) = if raw.len() >= 10 && matches!(raw[4], b'-' | b'/') {
            if raw[7] != raw[4] {
                return None;
            }
            (&raw[0..4], &raw[5..7], &raw[8..10], &raw[10..])
        } else if raw.len() >= 8 && raw[..8].iter().all(u8::is_ascii_digit) {
            (&raw[0..4], &raw[4..6], &raw[6..8], &raw[8..])
        } else {
            return None;
        };
        let (hour, minute, second) = match rest.first() {
            None => (0, 0, 0),
            Some(b' ' | b'T') => {
                let t = &rest[1..];
                if t.len() >= 8 && t[2] == b':' && t[5] == b':' {
                    (digits(&t[0..2])?, digits(&t[3..5])?, digits(&t[6..8])?)
                } else if t.len() >= 6 && t[..6].iter().all(u8::is_ascii_digit) {
                    (digits(&t[0..2])?, digits(&t[2..4])?, digits(&t[4..6])?)
                } else {
                    return None;
                }
            }
            Some(_) => return None,
        };
        let ts = Timestamp {
            year: digits(year)? as u16,
            month: digits(month)? as u8,
            day: digits(day)? as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
        };
        let valid = (1..=12).contains(&ts.month)
            && (1..=31).contains(&ts.day)
            && ts.hour <= 24
            && ts.minute < 60
            && ts.second <= 60;
        valid.then_some(ts)
    }

    /// `YYYY-MM`.
    pub fn period(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// The first instant of the month after `period` (`YYYY-MM`).
    pub fn end_of_period(period: &str) -> Option<Self> {
        let (y, m) = period.split_once('-')?;
        let (mut year, mut month): (u16, u8) = (y.parse().ok()?, m.parse().ok()?);
        if month == 12 {
            year += 1;
            month = 1;
        } else {
            month += 1;
        }
        Some(Timestamp {
            year,
            month,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        })
    }

    /// Whether `text` is a `YYYY-MM` billing period.
    pub fn is_period(text: &str) -> bool {
        let b = text.as_bytes();
        b.len() == 7
            && b[4] == b'-'
            && digits(&b[..4]).is_some()
            && digits(&b[5..]).is_some_and(|m| (1..=12).contains(&m))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, without fractions: `2026-11-20T08:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Timestamp::parse(s.as_bytes()).unwrap().to_string()
    }

    #[test]
    fn every_report_style_parses() {
        assert_eq!(p("2014/05/01 00:00:00"), "2014-05-01T00:00:00Z");
        assert_eq!(p("2014-09-01 01:00:00"), "2014-09-01T01:00:00Z");
        assert_eq!(p("2023-11-01T00:00:00.000Z"), "2023-11-01T00:00:00Z");
        assert_eq!(p("2020-04-11T16:00:00Z"), "2020-04-11T16:00:00Z");
        assert_eq!(p("20170801T000000.000Z"), "2017-08-01T00:00:00Z");
        assert_eq!(p("2024-09-18"), "2024-09-18T00:00:00Z");
        assert_eq!(p("20261101"), "2026-11-01T00:00:00Z");
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
        ] {
            assert!(Timestamp::parse(junk.as_bytes()).is_none(), "{junk}");
        }
    }

    #[test]
    fn periods_and_their_ends() {
        assert_eq!(
            Timestamp::parse(b"2014/05/31 23:59:59").unwrap().period(),
            "2014-05"
        );
        assert_eq!(
            Timestamp::end_of_period("2026-12").unwrap().to_string(),
            "2027-01-01T00:00:00Z"
        );
        assert!(Timestamp::is_period("2026-11"));
        assert!(!Timestamp::is_period("2026-13"));
        assert!(
            Timestamp::parse(b"2026-11-30 00:00:00") < Timestamp::parse(b"2026-12-01 00:00:00")
        );
    }
}
