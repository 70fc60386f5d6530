//! The CSV side of a pass over one object: chunks cut at record boundaries ([`Splitter`]), the
//! header row found among the first lines, then every data record measured, checked and handed
//! to the row logic, on this thread or on several ([`super::parallel`]). Errors carry a [`Pos`]
//! until the lines of the chunks before them are known; [`Lines`] turns that into a file line.

use super::error::{ErrorKind, ReportError, StreamError};
use super::header::{Col, Header};
use super::limits::Limits;
use super::record::{Pos, Record};
use super::scan::Scanner;
use super::split::{Splitter, Text};
use super::tally::Rows;
use crate::ledger::key_text_len;
use std::io;

/// Free-text lines allowed before the header (the cost allocation report has one).
const MAX_LEADING_LINES: usize = 5;

/// The header row of one object.
pub(super) struct HeaderRow {
    pub header: Header,
    /// The line it is on.
    pub line: u64,
    /// How many free-text lines came before it.
    pub leading: usize,
}

/// An error at a position, before its line in the file is known.
#[derive(Debug)]
pub(super) struct Located {
    pub pos: Pos,
    pub kind: ErrorKind,
    pub column: Option<String>,
}

impl Located {
    pub fn at(pos: Pos, kind: ErrorKind) -> Self {
        Self {
            pos,
            kind,
            column: None,
        }
    }

    /// The earlier of two errors.
    pub fn first(a: Option<Located>, b: Option<Located>) -> Option<Located> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.pos < a.pos { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// Line feeds per chunk of one object, to turn a [`Pos`] into a line of the file.
#[derive(Debug, Default, Clone)]
pub(super) struct Lines(Vec<Option<u64>>);

impl Lines {
    pub fn set(&mut self, chunk: u32, line_feeds: u64) {
        let i = chunk as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(line_feeds);
    }

    /// The file line of `pos`; `None` for a position that is no line (line 0: an error of the
    /// stream itself) or when a chunk before it was not read to the end.
    pub fn line_of(&self, pos: Pos) -> Option<u64> {
        if pos.line == 0 {
            return None;
        }
        let mut before = 0;
        for i in 0..pos.chunk as usize {
            before += (*self.0.get(i)?)?;
        }
        Some(before + pos.line)
    }

    pub fn error(&self, file: &str, e: Located) -> ReportError {
        let mut err = ReportError::new(file, e.kind);
        err.line = self.line_of(e.pos);
        err.column = e.column;
        err
    }
}

/// A chunk's bytes, and their offset in the file when it is mapped.
pub(super) type Chunk<'b> = (&'b [u8], Option<usize>);

/// One object being read: its chunks, and the first chunk (which holds the header).
pub(super) struct ObjectReader<'r> {
    splitter: Splitter<'r>,
    pub file: &'r str,
    pub part: u32,
    pub limits: Limits,
    /// The first chunk, and where its data rows start (byte, line) once the header is read.
    pub first: Vec<u8>,
    pub data_at: (usize, u64),
    /// The header's cells: every data record must have exactly as many.
    pub width: usize,
}

fn stream_error(e: io::Error) -> ErrorKind {
    StreamError::kind_of(&e)
}

impl<'r> ObjectReader<'r> {
    pub fn new<'t: 'r>(input: Text<'t>, file: &'r str, part: u32, limits: &Limits) -> Self {
        Self {
            splitter: Splitter::new(input.shorten(), limits.chunk_bytes, limits.max_record_bytes),
            file,
            part,
            limits: *limits,
            first: Vec::new(),
            data_at: (0, 1),
            width: 0,
        }
    }

    /// The next chunk after the first: in place in a mapped file (with its offset there), or
    /// read into `buf`; `None` at the end.
    pub fn next_chunk_in<'b>(
        &mut self,
        buf: &'b mut Vec<u8>,
    ) -> Result<Option<Chunk<'b>>, ErrorKind>
    where
        'r: 'b,
    {
        if self.splitter.is_mapped() {
            let chunk = self.splitter.next_mapped().map_err(stream_error)?;
            return Ok(chunk.map(|(bytes, offset)| (bytes, Some(offset))));
        }
        let more = self.splitter.next_into(buf).map_err(stream_error)?;
        Ok(more.then_some((&buf[..], None)))
    }

    /// A mapped file's bytes before `offset` are read: their memory can go back.
    pub fn release_before(&mut self, offset: usize) {
        self.splitter.release_before(offset);
    }

    /// A mapped file's bytes `from..to` (a chunk) are read: their memory can go back.
    pub fn release(&self, from: usize, to: usize) {
        self.splitter.release(from, to);
    }

    fn fail(&self, kind: ErrorKind, line: u64) -> ReportError {
        ReportError::new(self.file, kind).at_line(line)
    }

    /// Reads up to the header: the first record of two fields or more, after at most
    /// [`MAX_LEADING_LINES`] free-text lines.
    pub fn read_header(&mut self) -> Result<HeaderRow, ReportError> {
        let file = self.file;
        let io = |k| ReportError::new(file, k);
        let mut more = self
            .splitter
            .next_into(&mut self.first)
            .map_err(|e| io(stream_error(e)))?;
        let mut scanner = Scanner::default();
        scanner.reset_exact(0, 1);
        let mut leading = 0;
        loop {
            let Some(found) = scanner.next(&self.first) else {
                if !more {
                    return Err(io(ErrorKind::NotAReport("no header row found".into())));
                }
                // The header lies past the first chunk: take the next one in too.
                let mut next = Vec::new();
                more = self
                    .splitter
                    .next_into(&mut next)
                    .map_err(|e| io(stream_error(e)))?;
                self.first.extend_from_slice(&next);
                continue;
            };
            if found.length > self.limits.max_record_bytes {
                return Err(self.fail(record_too_long(&self.limits), found.line));
            }
            if let Some(line) = found.unterminated {
                return Err(self.fail(ErrorKind::UnterminatedQuote, line));
            }
            let record = scanner.record(&self.first, Pos::default());
            if record.len() >= 2 {
                self.data_at = scanner.at();
                self.width = record.len();
                return Ok(HeaderRow {
                    header: Header::from_record(&record),
                    line: found.line,
                    leading,
                });
            }
            leading += 1;
            if leading > MAX_LEADING_LINES {
                return Err(io(ErrorKind::NotAReport(
                    "no header row in the first lines".into(),
                )));
            }
        }
    }
}

fn record_too_long(limits: &Limits) -> ErrorKind {
    ErrorKind::Limit(format!(
        "record longer than {} bytes",
        limits.max_record_bytes
    ))
}

/// Reads every record of one chunk (from `at`, on line `line`) into `rows`: each is measured,
/// checked to have the header's `width` cells and on the `strict` columns, and counted in
/// `rows_read`. Returns the chunk's line feeds.
#[allow(clippy::too_many_arguments)]
pub(super) fn chunk_rows(
    scanner: &mut Scanner,
    chunk: &[u8],
    (at, line): (usize, u64),
    pos: Pos,
    rows: &mut dyn Rows,
    (strict, width): (&[Col], usize),
    limits: &Limits,
    rows_read: &mut u64,
) -> Result<u64, Located> {
    scanner.reset(at, line);
    while let Some(found) = scanner.next(chunk) {
        let pos = Pos {
            line: found.line,
            ..pos
        };
        if found.length > limits.max_record_bytes {
            return Err(Located::at(pos, record_too_long(limits)));
        }
        if let Some(line) = found.unterminated {
            return Err(Located::at(
                Pos { line, ..pos },
                ErrorKind::UnterminatedQuote,
            ));
        }
        let record = scanner.record(chunk, pos);
        // A cell more or fewer than the header shifts every column after it: never summed. A
        // quote left open mid-row (the rare record with a line break inside quotes) is named as
        // such: it swallowed the line break and what came after it.
        if record.len() != width || (found.breaks && swallows_a_row(&record, width)) {
            return Err(misshapen(pos, width, record.len(), found.breaks));
        }
        check_strict(&record, strict, limits.max_text_bytes, found.breaks).map_err(
            |(col, kind)| Located {
                pos,
                kind,
                column: Some(col.name.to_string()),
            },
        )?;
        *rows_read += 1;
        rows.row(&record).map_err(|e| Located {
            pos,
            kind: e.kind,
            column: e.column,
        })?;
    }
    limits.check_keys(rows.keys()).map_err(|kind| {
        Located::at(
            Pos {
                line: scanner.at().1 - 1,
                ..pos
            },
            kind,
        )
    })?;
    Ok(scanner.at().1 - 1)
}

/// A record whose cells do not line up with the header's: a quote over a line break when the
/// record holds one, else a plain count.
#[cold]
#[inline(never)]
fn misshapen(pos: Pos, expected: usize, found: usize, breaks: bool) -> Located {
    Located::at(
        pos,
        if breaks {
            ErrorKind::QuoteSpansLines { expected, found }
        } else {
            ErrorKind::FieldCount { expected, found }
        },
    )
}

/// Whether a cell of a record with a quoted line break holds, after a line break, at least the
/// separators of a whole row (`width - 1` commas): a quote opened mid-row that swallowed the next
/// record and closed in the same cell of it, so that the cell count still matches. Real free
/// text with a line break (an address, a description) holds no row's worth of commas after it.
/// Only records with a quoted line break are looked at: none on the fast path.
fn swallows_a_row(record: &Record<'_>, width: usize) -> bool {
    let need = width.saturating_sub(1).max(1);
    record.iter().any(|cell| {
        memchr::memchr2(b'\n', b'\r', cell).is_some_and(|at| {
            memchr::memchr_iter(b',', &cell[at..])
                .nth(need - 1)
                .is_some()
        })
    })
}

/// The per-row checks on the format's strict columns: the stored text fits `max_text` bytes, and
/// (only for a record with a line break inside quotes) none holds a line break.
#[inline]
fn check_strict(
    record: &Record<'_>,
    strict: &[Col],
    max_text: usize,
    breaks: bool,
) -> Result<(), (Col, ErrorKind)> {
    for &col in strict {
        let raw = record.get(col.idx).unwrap_or_default();
        if raw.len().saturating_mul(4) > max_text && key_text_len(raw.trim_ascii()) > max_text {
            return Err((col, ErrorKind::TextTooLong(max_text)));
        }
        if breaks && raw.iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err((col, ErrorKind::LineBreakInField));
        }
    }
    Ok(())
}

/// Reads every data record of `reader` into `rows` on this thread. Returns the rows read and the
/// line feeds per chunk; an error is located.
pub(super) fn rows_inline(
    reader: &mut ObjectReader<'_>,
    rows: &mut dyn Rows,
    strict: &[Col],
) -> (u64, Lines, Option<Located>) {
    let mut scanner = Scanner::default();
    let mut lines = Lines::default();
    let mut rows_read = 0;
    let base = Pos {
        part: reader.part,
        chunk: 0,
        line: 0,
    };
    let first = std::mem::take(&mut reader.first);
    let limits = reader.limits;
    let shape = (strict, reader.width);
    match chunk_rows(
        &mut scanner,
        &first,
        reader.data_at,
        base,
        rows,
        shape,
        &limits,
        &mut rows_read,
    ) {
        Ok(feeds) => lines.set(0, feeds),
        Err(e) => return (rows_read, lines, Some(e)),
    }
    let mut buf = first;
    let mut chunk = 1;
    loop {
        let pos = Pos { chunk, ..base };
        let bytes = match reader.next_chunk_in(&mut buf) {
            Ok(Some((bytes, offset))) => {
                // The chunks before this one are read.
                if let Some(offset) = offset {
                    reader.release_before(offset);
                }
                bytes
            }
            Ok(None) => return (rows_read, lines, None),
            Err(kind) => return (rows_read, lines, Some(Located::at(pos, kind))),
        };
        match chunk_rows(
            &mut scanner,
            bytes,
            (0, 1),
            pos,
            rows,
            shape,
            &limits,
            &mut rows_read,
        ) {
            Ok(feeds) => lines.set(chunk, feeds),
            Err(e) => return (rows_read, lines, Some(e)),
        }
        chunk += 1;
    }
}
