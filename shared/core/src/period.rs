//! One billing period: a calendar month (UTC), the unit AWS bills in. Every place that means
//! "a month" uses this type; it is text (`YYYY-MM`) only at the edges: DynamoDB keys, JSON,
//! message attributes, command-line arguments.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use std::fmt;
use std::str::FromStr;

/// A year and month. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    /// Always the first day of the month.
    first: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a billing period: expected YYYY-MM (a month such as 2026-11){reason}")]
pub struct PeriodError {
    text: String,
    reason: &'static str,
}

impl Period {
    /// The period of a year and month; `None` when the month is not 1–12 or the year is out of
    /// chrono's range.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|first| Period { first })
    }

    /// The period a day falls in.
    pub fn of_date(date: NaiveDate) -> Self {
        Period {
            first: date.with_day(1).expect("day 1 exists in every month"),
        }
    }

    /// The period an instant falls in (UTC).
    pub fn of(instant: DateTime<Utc>) -> Self {
        Self::of_date(instant.date_naive())
    }

    pub fn year(self) -> i32 {
        self.first.year()
    }

    pub fn month(self) -> u32 {
        self.first.month()
    }

    /// For people: `Nov 2026` (message subjects and headlines; keys and JSON keep `2026-11`).
    pub fn label(self) -> String {
        self.first.format("%b %Y").to_string()
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first - chrono::Days::new(1)
    }

    /// How many days the month has (28–31).
    pub fn days(self) -> u32 {
        (self.next().first - self.first).num_days() as u32
    }

    /// The month before.
    pub fn prev(self) -> Self {
        Period {
            first: self.first - Months::new(1),
        }
    }

    /// The month after.
    pub fn next(self) -> Self {
        Period {
            first: self.first + Months::new(1),
        }
    }

    /// The first instant of the month (UTC).
    pub fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.first.and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// The first instant of the next month: the period is `[start, end)`.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        Self::of_date(date) == self
    }
}

impl fmt::Display for Period {
    /// `YYYY-MM`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// `YYYY-MM`, or a whole date `YYYY-MM-DD` that must exist (its month is taken).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| PeriodError {
            text: text.to_string(),
            reason,
        };
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            b.get(r.clone())
                .filter(|d| d.iter().all(u8::is_ascii_digit))
                .map(|_| text[r].parse::<u32>().expect("ASCII digits"))
        };
        if !(b.len() == 7 || b.len() == 10) || b[4] != b'-' || (b.len() == 10 && b[7] != b'-') {
            return Err(err(""));
        }
        let (Some(year), Some(month)) = (digits(0..4), digits(5..7)) else {
            return Err(err(""));
        };
        if !(1..=12).contains(&month) {
            return Err(err(": the month must be 01 to 12"));
        }
        let period = Period::new(year as i32, month).ok_or_else(|| err(""))?;
        if b.len() == 10 {
            let day = digits(8..10).ok_or_else(|| err(""))?;
            if day == 0 || day > period.days() {
                return Err(err(": that day does not exist"));
            }
        }
        Ok(period)
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_label_names_the_month_for_people() {
        assert_eq!(p("2026-11").label(), "Nov 2026");
        assert_eq!(p("2027-01").label(), "Jan 2027");
    }

    #[test]
    fn parses_months_and_real_dates_only() {
        assert_eq!(p("2026-11").to_string(), "2026-11");
        assert_eq!(p("2026-02-28"), p("2026-02"));
        assert_eq!(p("2028-02-29"), p("2028-02"));
        for bad in [
            "2026-13",
            "2026-00",
            "2026-02-31",
            "2026-02-29",
            "2026-04-31",
            "2026-11-00",
            "2026-1",
            "26-11",
            "2026/11",
            "2026-11-",
            " 2026-11",
            "2026-11x",
            "soon",
            "",
            "-",
            "２０２６-11",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad} parsed");
        }
        let e = "2026-13".parse::<Period>().unwrap_err().to_string();
        assert!(e.contains("'2026-13'") && e.contains("01 to 12"), "{e}");
    }

    #[test]
    fn months_have_their_lengths() {
        assert_eq!(p("2026-11").days(), 30);
        assert_eq!(p("2026-12").days(), 31);
        assert_eq!(p("2026-02").days(), 28);
        assert_eq!(p("2028-02").days(), 29);
        assert_eq!(p("2100-02").days(), 28);
        assert_eq!(p("2000-02").days(), 29);
        assert_eq!(p("2026-02").last_day().to_string(), "2026-02-28");
    }

    #[test]
    fn neighbours_roll_over_the_year() {
        assert_eq!(p("2027-01").prev(), p("2026-12"));
        assert_eq!(p("2026-12").next(), p("2027-01"));
        assert_eq!(p("2026-11").prev(), p("2026-10"));
        assert!(p("2026-12") < p("2027-01"));
        assert_eq!(p("2026-12").end().to_rfc3339(), "2027-01-01T00:00:00+00:00");
        assert_eq!(
            p("2026-12").start().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
    }

    #[test]
    fn instants_and_dates_fall_in_their_month() {
        let t = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(Period::of(t), p("2026-12"));
        assert!(p("2026-12").contains(t.date_naive()));
        assert!(!p("2027-01").contains(t.date_naive()));
    }

    #[test]
    fn serialises_as_text() {
        assert_eq!(serde_json::to_string(&p("2026-03")).unwrap(), "\"2026-03\"");
        let back: Period = serde_json::from_str("\"2026-03\"").unwrap();
        assert_eq!(back, p("2026-03"));
        assert!(serde_json::from_str::<Period>("\"2026-3\"").is_err());
    }
}
