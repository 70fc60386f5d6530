//! The CSV side of a pass: one object's records through the [`RecordGuard`], the header row
//! found among its first lines, then every data record checked and handed to the row logic.
//! The loop over the records allocates nothing: one [`ByteRecord`] is reused throughout.

use super::error::{ErrorKind, ReportError, StreamError};
use super::header::{Col, Header};
use super::limits::{Limits, RecordGuard};
use super::tally::Rows;
use crate::ledger::key_text_len;
use csv::ByteRecord;
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

/// Free-text lines allowed before the header (the cost allocation report has one).
const MAX_LEADING_LINES: usize = 5;
const CSV_BUFFER: usize = 64 * 1024;

/// The header row of one object.
pub(super) struct HeaderRow {
    pub header: Header,
    /// The line it is on.
    pub line: u64,
    /// How many free-text lines came before it.
    pub leading: usize,
}

/// One CSV object being read: the parser over the [`RecordGuard`], the record it reuses, and
/// what the guard reports back.
pub(super) struct CsvStream<'f, 'r> {
    reader: csv::Reader<RecordGuard<&'r mut dyn Read>>,
    record: ByteRecord,
    record_start: Rc<Cell<u64>>,
    unterminated: Rc<Cell<bool>>,
    file: &'f str,
    max_record: u64,
    max_text: usize,
}

impl<'f, 'r> CsvStream<'f, 'r> {
    /// Starts reading `input`; `file` names it in errors.
    pub(super) fn new(input: &'r mut dyn Read, file: &'f str, limits: &Limits) -> Self {
        let (guard, handles) = RecordGuard::new(input, limits.max_record_bytes, CSV_BUFFER as u64);
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CSV_BUFFER)
            .from_reader(guard);
        Self {
            reader,
            record: ByteRecord::new(),
            record_start: handles.record_start,
            unterminated: handles.unterminated_quote,
            file,
            max_record: limits.max_record_bytes,
            max_text: limits.max_text_bytes,
        }
    }

    /// Reads up to the header: the first record of two fields or more, after at most
    /// [`MAX_LEADING_LINES`] free-text lines.
    pub(super) fn read_header(&mut self) -> Result<HeaderRow, ReportError> {
        let file = self.file;
        let mut leading = 0;
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(file, e))?;
            let line = self.record.position().map_or(0, |p| p.line());
            check_record_length(
                &self.record_start,
                self.reader.position().byte(),
                self.max_record,
                file,
                line,
            )?;
            if !more {
                return Err(ReportError::new(
                    file,
                    ErrorKind::NotAReport("no header row found".into()),
                ));
            }
            if self.unterminated.get() {
                return Err(unterminated_at(file, &self.record, line));
            }
            if self.record.len() >= 2 {
                let header = Header::from_record(&self.record);
                return Ok(HeaderRow {
                    header,
                    line,
                    leading,
                });
            }
            leading += 1;
            if leading > MAX_LEADING_LINES {
                return Err(ReportError::new(
                    file,
                    ErrorKind::NotAReport("no header row in the first lines".into()),
                ));
            }
        }
    }

    /// Reads every record after the header to the end: each is measured, checked on the
    /// `strict` columns, counted in `rows_read`, and handed to `rows`.
    pub(super) fn read_rows(
        &mut self,
        rows: &mut dyn Rows,
        strict: &[Col],
        rows_read: &mut u64,
    ) -> Result<(), ReportError> {
        let Self {
            reader,
            record,
            record_start,
            unterminated,
            file,
            max_record,
            max_text,
        } = self;
        let (file, max_record, max_text) = (*file, *max_record, *max_text);
        loop {
            let more = reader
                .read_byte_record(record)
                .map_err(|e| csv_error(file, e))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            check_record_length(
                record_start,
                reader.position().byte(),
                max_record,
                file,
                line,
            )?;
            if unterminated.get() {
                return Err(unterminated_at(file, record, line));
            }
            // A record that ends more than one line below its start has a line break inside a
            // quoted field; the strict columns are checked for one only then.
            let spans_lines = reader.position().line() > line + 1;
            check_strict(record, strict, max_text, spans_lines).map_err(|(col, kind)| {
                ReportError::new(file, kind)
                    .at_line(line)
                    .in_column(col.name)
            })?;
            *rows_read += 1;
            if let Err(e) = rows.row(record) {
                let mut err = ReportError::new(file, e.kind);
                err.line = record.position().map(|p| p.line());
                err.column = e.column;
                return Err(err);
            }
        }
        Ok(())
    }
}

fn csv_error(file: &str, err: csv::Error) -> ReportError {
    let line = err.position().map(|p| p.line());
    let kind = match err.into_kind() {
        csv::ErrorKind::Io(io) => StreamError::kind_of(&io),
        other => ErrorKind::Csv(format!("{other:?}")),
    };
    let e = ReportError::new(file, kind);
    match line {
        Some(l) => e.at_line(l),
        None => e,
    }
}

/// An unterminated quote, at the line it opened on.
fn unterminated_at(file: &str, record: &ByteRecord, line: u64) -> ReportError {
    ReportError::new(file, ErrorKind::UnterminatedQuote).at_line(quote_line(record, line))
}

/// The line a quoted field opened on: the record's first line plus the line breaks in the
/// fields before its last (an unterminated quote always swallows the rest into the last field).
fn quote_line(record: &ByteRecord, line: u64) -> u64 {
    let fields = record.len().saturating_sub(1);
    let breaks: usize = record
        .iter()
        .take(fields)
        .map(|f| f.iter().filter(|&&b| b == b'\n').count())
        .sum();
    line + breaks as u64
}

/// The per-row checks on the format's strict columns: the stored text fits `max_text` bytes, and
/// (only for a record that spans lines) none holds a line break.
#[inline]
fn check_strict(
    record: &ByteRecord,
    strict: &[Col],
    max_text: usize,
    spans_lines: bool,
) -> Result<(), (Col, ErrorKind)> {
    for &col in strict {
        let raw = record.get(col.idx).unwrap_or_default();
        if raw.len().saturating_mul(4) > max_text && key_text_len(raw.trim_ascii()) > max_text {
            return Err((col, ErrorKind::TextTooLong(max_text)));
        }
        if spans_lines && raw.iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err((col, ErrorKind::LineBreakInField));
        }
    }
    Ok(())
}

/// A record that did end can be measured exactly; the [`RecordGuard`] below the parser
/// stops one that never ends.
fn check_record_length(
    record_start: &Cell<u64>,
    record_end: u64,
    max_record: u64,
    file: &str,
    line: u64,
) -> Result<(), ReportError> {
    let length = record_end.saturating_sub(record_start.replace(record_end));
    if length > max_record {
        return Err(ReportError::new(
            file,
            ErrorKind::Limit(format!("record longer than {} bytes", max_record)),
        )
        .at_line(line));
    }
    Ok(())
}
