//! A budget's period (`period = "daily" | "monthly" | "quarterly" | "annual"`): the span of
//! time its amount covers, and which billing months and days a span holds. Reports come per
//! billing month; a quarterly or annual budget sums its months' live totals, and its forecast
//! runs to the span's last day.
//!
//! This is a step of budgets over periods (issue 20): the engine does not call it yet.

use crate::period::Period;
use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// How long a budget's amount lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Cadence {
    Daily,
    #[default]
    Monthly,
    Quarterly,
    Annual,
}

impl Cadence {
    pub const ALL: [Cadence; 4] = [
        Cadence::Daily,
        Cadence::Monthly,
        Cadence::Quarterly,
        Cadence::Annual,
    ];

    /// The name in the budgets file.
    pub fn name(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
            Cadence::Annual => "annual",
        }
    }

    /// The span of this cadence that holds `day`.
    pub fn span_of(self, day: NaiveDate) -> Span {
        let month = Period::of_date(day);
        match self {
            Cadence::Daily => Span::Day(day),
            Cadence::Monthly => Span::Month(month),
            Cadence::Quarterly => Span::Quarter {
                year: day.year(),
                quarter: (day.month() - 1) / 3 + 1,
            },
            Cadence::Annual => Span::Year(day.year()),
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cadence {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        super::by_name("period", s, &Cadence::ALL.map(|c| (c.name(), c)))
    }
}

/// One span of a budget: a day, a billing month, a quarter or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Span {
    Day(NaiveDate),
    Month(Period),
    /// `quarter` is 1 to 4.
    Quarter {
        year: i32,
        quarter: u32,
    },
    Year(i32),
}

impl Span {
    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        match self {
            Span::Day(d) => d,
            Span::Month(p) => p.first_day(),
            Span::Quarter { year, quarter } => {
                NaiveDate::from_ymd_opt(year, (quarter - 1) * 3 + 1, 1)
                    .expect("a quarter's first day")
            }
            Span::Year(year) => NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January"),
        }
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        match self {
            Span::Day(d) => d,
            Span::Month(p) => p.last_day(),
            Span::Quarter { year, quarter } => month(year, quarter * 3).last_day(),
            Span::Year(year) => month(year, 12).last_day(),
        }
    }

    /// How many days it holds.
    pub fn days(self) -> u32 {
        (self.last_day() - self.first_day()).num_days() as u32 + 1
    }

    /// The billing months it overlaps, in order (a day: its month).
    pub fn months(self) -> Vec<Period> {
        let (first, last) = (
            Period::of_date(self.first_day()),
            Period::of_date(self.last_day()),
        );
        let mut out = vec![first];
        while *out.last().expect("not empty") < last {
            out.push(out.last().expect("not empty").next());
        }
        out
    }

    /// The days of it up to and including `day` (0 before it starts, all after it ends).
    pub fn days_to(self, day: NaiveDate) -> u32 {
        if day < self.first_day() {
            0
        } else if day >= self.last_day() {
            self.days()
        } else {
            (day - self.first_day()).num_days() as u32 + 1
        }
    }
}

fn month(year: i32, month: u32) -> Period {
    Period::new(year, month).expect("a month of 1 to 12")
}

/// `2026-11-07`, `2026-11`, `2026-Q4`, `2026`.
impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Span::Month(p) => write!(f, "{p}"),
            Span::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Span::Year(year) => write!(f, "{year}"),
        }
    }
}

impl FromStr for Span {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a day, month, quarter or year (2026-11-07, 2026-11, 2026-Q4, 2026)"
            )
        };
        if let Some((year, q)) = s.split_once("-Q") {
            let year: i32 = year.parse().map_err(|_| bad())?;
            let quarter: u32 = q.parse().map_err(|_| bad())?;
            if !(1..=4).contains(&quarter) || year.to_string().len() != 4 {
                return Err(bad());
            }
            return Ok(Span::Quarter { year, quarter });
        }
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Span::Year(s.parse().map_err(|_| bad())?));
        }
        if s.len() == 10 {
            return NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Span::Day)
                .map_err(|_| bad());
        }
        s.parse::<Period>().map(Span::Month).map_err(|_| bad())
    }
}

#[cfg(test)]
#[path = "span_tests.rs"]
mod tests;
