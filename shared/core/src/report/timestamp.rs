//! The date styles billing reports use, read without a date library:
//! `2014/05/01 00:00:00`, `2014-09-01 00:00:00`, `2023-11-01T00:00:00.000Z`, `20170801T000000.000Z`.

use crate::period::Period;
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

    /// The billing period (month) of this instant.
    pub fn period(&self) -> Period {
        Period::new(i32::from(self.year), u32::from(self.month))
            .expect("a parsed timestamp has a valid year and month")
    }

    /// The first instant of a period.
    pub fn start_of(period: Period) -> Self {
        Timestamp {
            year: period.year() as u16,
            month: period.month() as u8,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, the one timestamp format billwatch writes:
    /// `2026-11-20T08:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
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
        assert_eq!(p("2014/05/01 00:00:00"), "2014-05-01T00:00:00.000Z");
        assert_eq!(p("2014-09-01 01:00:00"), "2014-09-01T01:00:00.000Z");
        assert_eq!(p("2023-11-01T00:00:00.000Z"), "2023-11-01T00:00:00.000Z");
        assert_eq!(p("2020-04-11T16:00:00.000Z"), "2020-04-11T16:00:00.000Z");
        assert_eq!(p("20170801T000000.000Z"), "2017-08-01T00:00:00.000Z");
        assert_eq!(p("2024-09-18"), "2024-09-18T00:00:00.000Z");
        assert_eq!(p("20261101"), "2026-11-01T00:00:00.000Z");
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
            Timestamp::parse(b"2014/05/31 23:59:59")
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
            Timestamp::parse(b"2026-11-30 00:00:00") < Timestamp::parse(b"2026-12-01 00:00:00")
        );
    }
}
