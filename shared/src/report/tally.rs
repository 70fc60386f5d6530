//! State every format keeps while rows stream by: the ledger, the billing period, the payer,
//! the status and the latest usage time. Everything here is allocation-free per row.

use super::error::{ErrorKind, RowError};
use super::header::{present, Col};
use super::summary::{Check, Status};
use super::timestamp::Timestamp;
use crate::ledger::{Ledger, Part};
use csv::ByteRecord;

/// The one billing period a report may cover. Rows compare raw bytes; a date is parsed only
/// when its text changes.
#[derive(Debug, Default)]
pub struct PeriodTracker {
    raw: Vec<u8>,
    period: Option<String>,
}

impl PeriodTracker {
    pub fn see(&mut self, col: Col, record: &ByteRecord) -> Result<(), RowError> {
        let raw = col.get(record);
        if !present(raw) || raw == self.raw.as_slice() {
            return Ok(());
        }
        let found = Timestamp::parse(raw).map(|t| t.period()).ok_or_else(|| {
            RowError::in_column(
                col.name,
                ErrorKind::Invalid(format!(
                    "invalid date '{}'",
                    String::from_utf8_lossy(raw)
                        .chars()
                        .take(40)
                        .collect::<String>()
                )),
            )
        })?;
        match &self.period {
            Some(expected) if *expected != found => Err(RowError::in_column(
                col.name,
                ErrorKind::MixedPeriods {
                    expected: expected.clone(),
                    found,
                },
            )),
            _ => {
                self.period = Some(found);
                self.raw.clear();
                self.raw.extend_from_slice(raw);
                Ok(())
            }
        }
    }

    pub fn period(&self) -> Option<&str> {
        self.period.as_deref()
    }
}

/// The latest timestamp seen in a column (compared as text: one report writes one style).
#[derive(Debug, Default)]
pub struct Latest {
    raw: Vec<u8>,
}

impl Latest {
    #[inline]
    pub fn see(&mut self, raw: &[u8]) {
        if present(raw) && raw > self.raw.as_slice() {
            self.raw.clear();
            self.raw.extend_from_slice(raw);
        }
    }

    pub fn get(&self) -> Option<Timestamp> {
        Timestamp::parse(&self.raw)
    }
}

/// Running state shared by the formats.
#[derive(Debug, Default)]
pub struct Tally {
    pub ledger: Ledger,
    pub rows_summed: u64,
    pub period: PeriodTracker,
    pub payer: Option<String>,
    pub estimated: bool,
    pub latest: Latest,
}

impl Tally {
    #[inline]
    pub fn see_payer(&mut self, raw: &[u8]) {
        if self.payer.is_none() && present(raw) {
            self.payer = Some(String::from_utf8_lossy(raw).into_owned());
        }
    }
}

/// What a format hands back once every row is read.
pub struct Finished {
    pub ledger: Ledger,
    pub parts: &'static [Part],
    pub service_code: fn(&str) -> String,
    pub payer: Option<String>,
    pub period: Option<String>,
    pub status: Status,
    pub as_of: Option<Timestamp>,
    pub rows_summed: u64,
    pub checks: Vec<Check>,
}

/// The service field as it is.
pub fn same_code(service: &str) -> String {
    service.to_string()
}

/// One format's row logic. `bind` runs for each header (each part of a manifest may order its
/// columns differently); `row` for each data record.
pub trait Rows {
    fn bind(&mut self, header: &super::header::Header) -> Result<(), RowError>;
    fn row(&mut self, record: &ByteRecord) -> Result<(), RowError>;
    fn finish(self: Box<Self>) -> Finished;
}

/// The status from the estimated flag.
pub fn status_of(estimated: bool) -> Status {
    if estimated {
        Status::Estimated
    } else {
        Status::Final
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_report_one_period() {
        let col = Col {
            idx: 0,
            name: "bill/BillingPeriodStartDate",
        };
        let mut p = PeriodTracker::default();
        p.see(col, &ByteRecord::from(vec!["2026-11-01T00:00:00.000Z"]))
            .unwrap();
        p.see(col, &ByteRecord::from(vec!["2026-11-01T00:00:00Z"]))
            .unwrap();
        p.see(col, &ByteRecord::from(vec![""])).unwrap();
        assert_eq!(p.period(), Some("2026-11"));
        let err = p
            .see(col, &ByteRecord::from(vec!["2026-10-01T00:00:00Z"]))
            .unwrap_err();
        assert_eq!(err.column.as_deref(), Some("bill/BillingPeriodStartDate"));
        assert!(err
            .kind
            .to_string()
            .contains("billing period 2026-10 differs"));
        assert!(p.see(col, &ByteRecord::from(vec!["soon"])).is_err());
    }

    #[test]
    fn latest_keeps_the_maximum() {
        let mut l = Latest::default();
        for t in [
            "2026-11-02 01:00:00",
            "2026-11-03 00:00:00",
            "",
            "NULL",
            "2026-11-01 00:00:00",
        ] {
            l.see(t.as_bytes());
        }
        assert_eq!(l.get().unwrap().to_string(), "2026-11-03T00:00:00Z");
    }
}
