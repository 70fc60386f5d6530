//! State every format keeps while rows stream by: the ledger, the billing period, the payer,
//! the status and the latest usage time. Everything here is allocation-free per row.

use super::error::{ErrorKind, RowError};
use super::header::{present, Col};
#[cfg(test)]
use super::record::OwnedRecord;
use super::record::{Pos, Record};
use super::summary::{Check, Status};
use crate::ledger::{Day, Ledger, Part};
use crate::period::Period;
use crate::timestamp::Timestamp;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Rows of a record or line item type billwatch does not sum, counted per type, and the types it
/// has never seen (unknown, or a known name in another case), counted too, to be named in a
/// warning. A type is looked up by its bytes: no allocation for a type already counted.
#[derive(Debug, Default, Clone)]
pub struct Skipped {
    pub counts: BTreeMap<Vec<u8>, u64>,
    pub unknown: BTreeMap<Vec<u8>, u64>,
}

fn bump(map: &mut BTreeMap<Vec<u8>, u64>, key: &[u8], n: u64) {
    match map.get_mut(key) {
        Some(count) => *count += n,
        None => {
            map.insert(key.to_vec(), n);
        }
    }
}

impl Skipped {
    /// A row of type `kind` that is not summed.
    #[inline]
    pub fn skip(&mut self, kind: &[u8]) {
        bump(&mut self.counts, kind, 1);
    }

    /// `n` rows not summed, of a type known by name.
    pub fn skip_many(&mut self, kind: &[u8], n: u64) {
        if n > 0 {
            bump(&mut self.counts, kind, n);
        }
    }

    /// A row of a type never seen (summed or not: the caller says which in the warning).
    #[cold]
    pub fn unknown(&mut self, kind: &[u8]) {
        bump(&mut self.unknown, kind, 1);
    }

    pub fn absorb(&mut self, other: Skipped) {
        for (k, n) in other.counts {
            bump(&mut self.counts, &k, n);
        }
        for (k, n) in other.unknown {
            bump(&mut self.unknown, &k, n);
        }
    }

    /// The counts as shown: type (escaped like every key) → rows.
    pub fn shown(&self) -> BTreeMap<String, u64> {
        self.counts
            .iter()
            .map(|(k, n)| (crate::ledger::key_text(k), *n))
            .collect()
    }

    /// One warning per type never seen: `column 'C': type 'T' is not one billwatch knows
    /// (N rows): <what was done with them>`. The type is escaped: no control character or
    /// bidirectional override reaches a terminal raw.
    pub fn warnings(&self, column: &str, done: &dyn Fn(&[u8]) -> String) -> Vec<String> {
        self.unknown
            .iter()
            .map(|(k, n)| {
                let done = done(k);
                let kind = super::error::escape_text(&crate::ledger::key_text(k));
                let rows = if *n == 1 { "row" } else { "rows" };
                format!("column '{column}': type '{kind}' is not one billwatch knows ({n} {rows}): {done}")
            })
            .collect()
    }
}

/// The one billing period a report may cover. Rows compare raw bytes; a date is parsed only
/// when its text changes. The first period is kept with the row it came from, so that trackers
/// filled from different chunks of one report agree on which period came first (see
/// [`PeriodTracker::absorb`]).
#[derive(Debug, Default, Clone)]
pub struct PeriodTracker {
    raw: Vec<u8>,
    /// The period and (year, month) of `raw`.
    parsed: Option<(Period, (i32, u32))>,
    first: Option<(Period, Pos)>,
    /// A row of another period than the first, found while absorbing: where, and the column.
    conflict: Option<(Pos, Period, Period, &'static str)>,
}

impl PeriodTracker {
    /// Reads the row's period: its (year, month), or `None` when the cell is empty. A period other
    /// than the first this tracker saw is an error.
    pub fn see(&mut self, col: Col, record: &Record<'_>) -> Result<Option<(i32, u32)>, RowError> {
        let raw = col.get(record);
        if !present(raw) {
            return Ok(None);
        }
        if raw != self.raw.as_slice() || self.parsed.is_none() {
            let period = Timestamp::parse_report(raw)
                .map_err(|e| {
                    RowError::in_column(
                        col.name,
                        ErrorKind::Invalid(format!("invalid date '{}': {}", e.text, e.reason)),
                    )
                })?
                .period();
            self.parsed = Some((period, (period.year(), period.month())));
            self.raw.clear();
            self.raw.extend_from_slice(raw);
        }
        let (found, year_month) = self.parsed.expect("parsed above");
        match self.first {
            None => self.first = Some((found, record.pos())),
            Some((expected, _)) if expected != found => {
                return Err(RowError::in_column(
                    col.name,
                    ErrorKind::MixedPeriods { expected, found },
                ))
            }
            Some(_) => {}
        }
        Ok(Some(year_month))
    }

    pub fn period(&self) -> Option<Period> {
        self.first.map(|(p, _)| p)
    }

    /// Takes in a tracker of other rows of the same report: the earlier first period wins, and a
    /// different one is a conflict at the later first row (reported by [`Self::conflict`]).
    pub fn absorb(&mut self, other: PeriodTracker, column: &'static str) {
        if let Some(theirs) = other.conflict {
            self.note_conflict(theirs);
        }
        match (self.first, other.first) {
            (None, theirs) => self.first = theirs,
            (Some(mine), Some(theirs)) => {
                let (early, late) = if mine.1 <= theirs.1 {
                    (mine, theirs)
                } else {
                    (theirs, mine)
                };
                if early.0 != late.0 {
                    self.note_conflict((late.1, early.0, late.0, column));
                }
                self.first = Some(early);
            }
            (Some(_), None) => {}
        }
    }

    fn note_conflict(&mut self, c: (Pos, Period, Period, &'static str)) {
        if self.conflict.is_none_or(|mine| c.0 < mine.0) {
            self.conflict = Some(c);
        }
    }

    /// The earliest row whose period differs from the report's first, found while absorbing.
    pub fn conflict(&self) -> Option<(Pos, RowError)> {
        self.conflict.map(|(pos, expected, found, column)| {
            (
                pos,
                RowError::in_column(column, ErrorKind::MixedPeriods { expected, found }),
            )
        })
    }
}

/// The date of `YYYY-MM-DD…`, `YYYY/MM/DD…` or `YYYYMMDD…`, read from fixed byte positions, and
/// whether its time of day (the first six digits after the date, if any) is midnight.
fn date_of(raw: &[u8]) -> Option<(NaiveDate, bool)> {
    let raw = raw.trim_ascii();
    let (y, m, d, rest) = if raw.len() >= 10 && matches!(raw[4], b'-' | b'/') && raw[7] == raw[4] {
        (&raw[0..4], &raw[5..7], &raw[8..10], &raw[10..])
    } else if raw.len() >= 8 {
        (&raw[0..4], &raw[4..6], &raw[6..8], &raw[8..])
    } else {
        return None;
    };
    let num = |b: &[u8]| {
        b.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)?;
    let midnight = rest
        .iter()
        .filter(|c| c.is_ascii_digit())
        .take(6)
        .all(|&c| c == b'0');
    Some((date, midnight))
}

/// The day of the billing month a usage-side row is booked on, from its usage start and end
/// (`lineItem/UsageStartDate` / `line_item_usage_start_date` / `ChargePeriodStart` and the
/// matching end): the start's day of the month, 1..=31, when the start parses, lies in the
/// billing month (`period`; not checked while the report has named no period) and the row covers
/// at most that day (the end, when it parses, is on the same date or is the next midnight).
/// Anything else is day 0: counted in the totals, never in the daily series (a monthly-granularity
/// report, a month-long subscription line, a correction dated in another month).
/// Allocation-free: fixed byte positions, no string.
pub fn day_of(start: &[u8], end: &[u8], period: Option<(i32, u32)>) -> Day {
    use chrono::Datelike;
    let Some((first, _)) = date_of(start) else {
        return 0;
    };
    if period.is_some_and(|p| p != (first.year(), first.month())) {
        return 0;
    }
    if let Some((last, midnight)) = date_of(end) {
        let one_day = last == first || (midnight && first.succ_opt() == Some(last));
        if !one_day {
            return 0;
        }
    }
    first.day() as Day
}

/// [`day_of`], faster for the common row: usage that starts and ends on one date (hourly and
/// daily lines), whose day is the start's, read once per run of rows on the same date.
#[derive(Debug, Default, Clone)]
pub struct DayMemo {
    /// The first ten bytes of the last start read, and its date.
    key: [u8; 10],
    date: Option<NaiveDate>,
}

impl DayMemo {
    #[inline]
    pub fn day_of(&mut self, start: &[u8], end: &[u8], period: Option<(i32, u32)>) -> Day {
        use chrono::Datelike;
        // Digits at both ends of the first ten bytes: no whitespace to trim inside them, so
        // `date_of` reads its date from those bytes alone, for the start and the end alike.
        let same_date = start.len() >= 10
            && end.len() >= 10
            && start[0].is_ascii_digit()
            && start[9].is_ascii_digit()
            && start[..10] == end[..10];
        if !same_date {
            return day_of(start, end, period);
        }
        if self.key != start[..10] || self.date.is_none() {
            self.key.copy_from_slice(&start[..10]);
            self.date = date_of(start).map(|(d, _)| d);
        }
        match self.date {
            Some(d) if period.is_none_or(|p| p == (d.year(), d.month())) => d.day() as Day,
            _ => 0,
        }
    }
}

/// The latest timestamp seen in a column (compared as text: one report writes one style).
#[derive(Debug, Default, Clone)]
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
        Timestamp::parse_report(&self.raw).ok()
    }

    pub fn absorb(&mut self, other: Latest) {
        if other.raw > self.raw {
            self.raw = other.raw;
        }
    }
}

/// Running state shared by the formats.
#[derive(Debug, Default)]
pub struct Tally {
    pub ledger: Ledger,
    pub tags: super::tags::TagTally,
    pub rows_summed: u64,
    pub period: PeriodTracker,
    /// The payer of the first row that names one, and where that row is.
    pub payer: Option<(Pos, String)>,
    pub estimated: bool,
    pub latest: Latest,
    pub days: DayMemo,
    pub skipped: Skipped,
    pub budgets: super::budget_rows::BudgetRows,
}

impl Tally {
    #[inline]
    pub fn see_payer(&mut self, raw: &[u8], pos: Pos) {
        if self.payer.is_none() && present(raw) {
            self.payer = Some((pos, crate::ledger::key_text(raw)));
        }
    }

    /// A tally that also sums `specs`' budgets.
    pub fn with_budgets(specs: &crate::budget::spec::Specs) -> Self {
        Self {
            budgets: super::budget_rows::BudgetRows::new(specs),
            ..Self::default()
        }
    }

    /// Books one usage-side row's cost (CUR, FOCUS): on its day of the month when `span` (its
    /// usage start and end) is given, else on the month alone. Returns the day the row was
    /// booked on (0: more than one day, or outside the month), `None` without a span.
    #[inline]
    pub fn book(
        &mut self,
        (account, service, currency): (&[u8], &[u8], &[u8]),
        part: Part,
        cost: Decimal,
        span: Option<(&[u8], &[u8])>,
        year_month: Option<(i32, u32)>,
        cost_column: &'static str,
    ) -> Result<Option<Day>, RowError> {
        let booked = match span {
            Some((start, end)) => {
                let day = self.days.day_of(start, end, year_month);
                self.ledger
                    .add_on_day(account, service, currency, part, cost, day)
                    .map(|()| Some(day))
            }
            None => self
                .ledger
                .entry(account, service, currency)
                .add(part, cost)
                .map(|()| None),
        };
        booked.map_err(|_| RowError::overflow(cost_column))
    }

    /// "As of" is how far daily (or hourly) usage runs: a usage row's end counts when the row
    /// lies within one day; a month-long usage line (a subscription) says nothing about it, so
    /// it counts only in `latest_any`, used when nothing else does.
    #[inline]
    pub fn see_usage_end(&mut self, end: &[u8], one_day: bool, latest_any: &mut Latest) {
        if one_day {
            self.latest.see(end);
        }
        latest_any.see(end);
    }

    /// What a usage-side format (CUR, FOCUS) hands back for one period: `kind_column` names the
    /// column of the row types it skipped, `summed_as` says what a type never seen was summed as.
    pub fn finish_usage(
        self,
        tags: Vec<super::tags::TagTotal>,
        parts: &'static [Part],
        latest_any: &Latest,
        kind_column: &str,
        summed_as: &dyn Fn(&[u8]) -> String,
    ) -> Result<Finished, ErrorKind> {
        let month_days = self.period.period().map(|p| p.days());
        let budgets = self.budgets.finish(month_days)?;
        Ok(Finished {
            budgets: Some(budgets),
            commitments: None,
            tags,
            parts,
            service_code: same_code,
            payer: self.payer.map(|(_, p)| p),
            period: self.period.period(),
            status: status_of(self.estimated),
            as_of: self.latest.get().or_else(|| latest_any.get()),
            rows_summed: self.rows_summed,
            checks: Vec::new(),
            skipped: self.skipped.shown(),
            warnings: self.skipped.warnings(kind_column, summed_as),
            ledger: self.ledger,
        })
    }

    /// An empty tally bound like this one (its tag columns).
    pub fn fork(&self) -> Self {
        Self {
            tags: self.tags.fork(),
            budgets: self.budgets.fork(),
            ..Self::default()
        }
    }

    /// Takes in the tally of other rows of the same report: sums add exactly, "first" values
    /// keep the earliest row's, the period conflict (if any) is kept for [`PeriodTracker::conflict`].
    pub fn absorb(&mut self, other: Tally, period_column: &'static str) -> Result<(), ErrorKind> {
        self.ledger
            .absorb(other.ledger)
            .map_err(|_| overflow("a total, adding up the chunks"))?;
        self.tags
            .absorb(other.tags)
            .map_err(|_| overflow("a tag total, adding up the chunks"))?;
        self.rows_summed += other.rows_summed;
        self.period.absorb(other.period, period_column);
        if let Some(theirs) = other.payer {
            if self.payer.as_ref().is_none_or(|mine| theirs.0 < mine.0) {
                self.payer = Some(theirs);
            }
        }
        self.estimated |= other.estimated;
        self.latest.absorb(other.latest);
        self.skipped.absorb(other.skipped);
        self.budgets.absorb(other.budgets)?;
        Ok(())
    }
}

/// What a format hands back once every row is read.
pub struct Finished {
    pub ledger: Ledger,
    /// Each budget's answer (CUR, FOCUS: summed per row); `None` for a format that sums no
    /// budget per row (legacy, DBR: answered from the totals, where they can be).
    pub budgets: Option<Vec<crate::budget::spec::Figures>>,
    /// The commitments and coverage, when asked of a CUR ([`super::commitment_rows`]).
    pub commitments: Option<crate::commitment::Summary>,
    pub tags: Vec<super::tags::TagTotal>,
    pub parts: &'static [Part],
    pub service_code: fn(&str) -> String,
    pub payer: Option<String>,
    pub period: Option<Period>,
    pub status: Status,
    pub as_of: Option<Timestamp>,
    pub rows_summed: u64,
    pub checks: Vec<Check>,
    /// Rows not summed, per record / line item type (as shown).
    pub skipped: BTreeMap<String, u64>,
    /// Types never seen, named (see [`Skipped::warnings`]).
    pub warnings: Vec<String>,
}

/// The service field as it is.
pub fn same_code(service: &str) -> String {
    service.to_string()
}

/// One format's row logic. `bind` runs for each header (each part of a manifest may order its
/// columns differently) and answers the columns whose cells are keys, amounts, ids or dates:
/// short, single-line text the engine checks on every row (length, no line break). `row` runs
/// for each data record; `finish` answers one [`Finished`] per billing period, sorted by period
/// (only a multi-period FOCUS dataset has more than one).
///
/// A format whose state can be split ([`Rows::fork`]) has its rows read on several threads: each
/// thread fills its own fork, in any order of chunks, and the forks are then absorbed into one.
/// Such a format keeps every "first" with its [`Pos`] so that the result is the one a single pass
/// in file order gives.
pub trait Rows: Send {
    fn bind(&mut self, header: &super::header::Header) -> Result<Vec<Col>, RowError>;
    fn row(&mut self, record: &Record<'_>) -> Result<(), RowError>;
    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind>;

    /// An empty state bound to the same columns, if rows may be read apart and absorbed.
    fn fork(&self) -> Option<Box<dyn Rows>> {
        None
    }

    /// Takes in a fork filled from other rows of the report.
    fn absorb(&mut self, _other: Box<dyn Rows>) -> Result<(), ErrorKind> {
        Err(ErrorKind::Invalid("this format is read in one pass".into()))
    }

    /// Distinct keys (account, service, currency) held, for [`super::limits::Limits::max_keys`].
    fn keys(&self) -> usize {
        0
    }

    /// An error that only shows once forks are absorbed (rows of two billing periods read
    /// apart), with the row it belongs to.
    fn conflict(&self) -> Option<(Pos, RowError)> {
        None
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

/// The columns of `cols` that are bound.
pub fn strict(cols: &[Option<Col>]) -> Vec<Col> {
    cols.iter().flatten().copied().collect()
}

/// A total that overflowed while a format finished (a check, a tag total): the reason.
pub fn overflow(what: &str) -> ErrorKind {
    ErrorKind::Overflow(what.to_string())
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
    fn the_day_memo_answers_as_day_of_whatever_changes() {
        let starts = [
            "2026-11-02T10:00:00Z",
            "2026-11-02T11:00:00Z",
            "2026-11-02",
            "2026-12-01T00:00:00Z",
            "20261102T1000",
            "2026-02-30T10:00:00Z",
            " 2026-11-02T10:00:00Z",
            "",
            "x",
        ];
        let ends = [
            "2026-11-02T10:59:59Z",
            "2026-11-02T11:59:59Z",
            "2026-11-03T00:00:00Z",
            "2026-11-04",
            "20261102T1059",
            "2026-02-30T10:59:59Z",
            "2026-12-01T00:59:59Z",
            "",
        ];
        let periods = [Some((2026, 11)), None, Some((2026, 12))];
        let mut memo = DayMemo::default();
        // Every triple after every other one, repeats included.
        for round in 0..2 {
            for s in starts {
                for e in ends {
                    for p in periods {
                        let want = day_of(s.as_bytes(), e.as_bytes(), p);
                        assert_eq!(
                            memo.day_of(s.as_bytes(), e.as_bytes(), p),
                            want,
                            "{round} {s} {e} {p:?}"
                        );
                        assert_eq!(memo.day_of(s.as_bytes(), e.as_bytes(), p), want);
                    }
                }
            }
        }
    }

    #[test]
    fn one_report_one_period() {
        let col = Col {
            idx: 0,
            name: "bill/BillingPeriodStartDate",
        };
        let mut p = PeriodTracker::default();
        p.see(
            col,
            &OwnedRecord::new(&["2026-11-01T00:00:00.000Z"]).record(),
        )
        .unwrap();
        p.see(
            col,
            &OwnedRecord::new(&["2026-11-01T00:00:00.000Z"]).record(),
        )
        .unwrap();
        p.see(col, &OwnedRecord::new(&[""]).record()).unwrap();
        assert_eq!(
            p.period().map(|p| p.to_string()).as_deref(),
            Some("2026-11")
        );
        let err = p
            .see(
                col,
                &OwnedRecord::new(&["2026-10-01T00:00:00.000Z"]).record(),
            )
            .unwrap_err();
        assert_eq!(err.column.as_deref(), Some("bill/BillingPeriodStartDate"));
        assert!(err
            .kind
            .to_string()
            .contains("billing period 2026-10 differs"));
        assert!(p.see(col, &OwnedRecord::new(&["soon"]).record()).is_err());
    }

    #[test]
    fn usage_rows_are_placed_on_one_day_of_the_month() {
        let nov = Some((2026, 11));
        let day = |start: &str, end: &str| day_of(start.as_bytes(), end.as_bytes(), nov);
        assert_eq!(
            day("2026-11-05T13:00:00.000Z", "2026-11-05T14:00:00.000Z"),
            5
        );
        assert_eq!(
            day("2026-11-05T23:00:00.000Z", "2026-11-06T00:00:00.000Z"),
            5
        );
        assert_eq!(
            day("2026-11-05T00:00:00.000Z", "2026-11-06T00:00:00.000Z"),
            5
        );
        assert_eq!(day("2026-11-30 00:00:00", "2026-12-01 00:00:00"), 30);
        assert_eq!(day("20261107T000000.000Z", "20261108T000000.000Z"), 7);
        assert_eq!(day("2026/11/09 10:00:00", ""), 9);
        assert_eq!(day("2026-11-09", "NULL"), 9);
        // more than one day, another month, no date at all: day 0
        assert_eq!(
            day("2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"),
            0
        );
        assert_eq!(
            day("2026-11-05T00:00:00.000Z", "2026-11-06T01:00:00.000Z"),
            0
        );
        assert_eq!(
            day("2026-10-31T23:00:00.000Z", "2026-11-01T00:00:00.000Z"),
            0
        );
        assert_eq!(day("2026-11-31T00:00:00.000Z", ""), 0);
        assert_eq!(day("", ""), 0);
        assert_eq!(day("soon", ""), 0);
        // without a billing period only the span is checked
        assert_eq!(day_of(b"2026-10-31T23:00:00.000Z", b"", None), 31);
    }

    #[test]
    fn the_tracker_gives_each_row_its_period_as_numbers() {
        let col = Col {
            idx: 0,
            name: "BillingPeriodStart",
        };
        let mut p = PeriodTracker::default();
        let row = |v: &str| OwnedRecord::new(&[v]);
        assert_eq!(p.see(col, &row("").record()).unwrap(), None);
        assert_eq!(
            p.see(col, &row("2026-02-01T00:00:00.000Z").record())
                .unwrap(),
            Some((2026, 2))
        );
    }

    #[test]
    fn trackers_of_chunks_agree_on_the_first_period_and_the_conflict() {
        let col = Col {
            idx: 0,
            name: "bill/BillingPeriodStartDate",
        };
        let at = |chunk, line, v: &str| {
            OwnedRecord::new(&[v]).at(Pos {
                part: 0,
                chunk,
                line,
            })
        };
        let (nov, oct) = ("2026-11-01T00:00:00.000Z", "2026-10-01T00:00:00.000Z");
        // Chunk 1 (read first) holds October; chunk 0 November: November came first in the file.
        let mut late = PeriodTracker::default();
        late.see(col, &at(1, 1, oct).record()).unwrap();
        let mut early = PeriodTracker::default();
        early.see(col, &at(0, 5, nov).record()).unwrap();
        late.absorb(early, col.name);
        assert_eq!(late.period().unwrap().to_string(), "2026-11");
        let (pos, err) = late.conflict().unwrap();
        assert_eq!((pos.chunk, pos.line), (1, 1));
        assert!(
            err.kind
                .to_string()
                .contains("billing period 2026-10 differs"),
            "{}",
            err.kind
        );
        // The same period everywhere: no conflict.
        let mut a = PeriodTracker::default();
        a.see(col, &at(2, 1, nov).record()).unwrap();
        let mut b = PeriodTracker::default();
        b.see(col, &at(0, 2, nov).record()).unwrap();
        a.absorb(b, col.name);
        assert!(a.conflict().is_none());
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
        assert_eq!(l.get().unwrap().to_string(), "2026-11-03T00:00:00.000Z");
    }
}
