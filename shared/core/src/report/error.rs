//! Errors that name the file, the line, the column and what was wrong.

use std::fmt;

/// What went wrong, without the location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("not a recognised billing report ({0})")]
    NotAReport(String),
    #[error("missing required column '{0}'")]
    MissingColumn(String),
    #[error("column '{0}' appears more than once in the header")]
    DuplicateColumn(String),
    #[error("the report holds no line items{0}")]
    Empty(String),
    #[error("invalid amount '{0}'")]
    InvalidAmount(String),
    #[error("invalid currency code '{0}' (expected three capital letters, like USD)")]
    InvalidCurrency(String),
    #[error("sum exceeds the exact decimal range ({0})")]
    Overflow(String),
    #[error("the row has {found} cells but the header has {expected} (an unquoted comma, a missing cell or a stray quote?)")]
    FieldCount { expected: usize, found: usize },
    #[error("a quoted field in the row starting on this line runs over a line break and takes in what follows: the row then has {found} cells where the header has {expected} (an unbalanced quote?)")]
    QuoteSpansLines { expected: usize, found: usize },
    #[error("a quoted field opened on this line is never closed: it runs to the end of the input")]
    UnterminatedQuote,
    #[error(
        "line break inside a quoted field of a column that never holds one (an unbalanced quote?)"
    )]
    LineBreakInField,
    #[error("text longer than {0} bytes")]
    TextTooLong(usize),
    #[error("truncated or corrupt gzip stream ({0})")]
    CorruptGzip(String),
    #[error("truncated or corrupt zip archive ({0})")]
    CorruptZip(String),
    #[error("limit exceeded: {0}")]
    Limit(String),
    #[error("nested archive: {0}")]
    NestedArchive(String),
    #[error("billing period {found} differs from the report's billing period {expected}")]
    MixedPeriods {
        expected: crate::period::Period,
        found: crate::period::Period,
    },
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    #[error("invalid manifest: part '{0}' is listed twice")]
    DuplicatePart(String),
    #[error("cannot open: {0}")]
    Open(String),
    #[error("malformed CSV: {0}")]
    Csv(String),
    #[error("read error: {0}")]
    Io(String),
    /// The store the report is read from failed, with its own error kept (see [`SourceFailure`]).
    #[error("{0}")]
    Source(SourceFailure),
    #[error("{0}")]
    Invalid(String),
}

/// A failure of the store behind an [`super::ObjectSource`] (S3's error, say), carried whole
/// through the engine's readers and decoders to the caller, who can tell from it whether a
/// retry can help (by downcasting `error` to its own type). `opening`: it failed while the
/// object was opened, else while it was read.
#[derive(Debug, Clone)]
pub struct SourceFailure {
    pub opening: bool,
    pub error: std::sync::Arc<dyn std::error::Error + Send + Sync>,
}

impl SourceFailure {
    /// The engine's error kind for it.
    pub fn kind(self) -> ErrorKind {
        ErrorKind::Source(self)
    }

    /// An `io::Error` (of `kind`) that the engine turns back into [`ErrorKind::Source`].
    pub fn into_io(self, kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, StreamError(ErrorKind::Source(self)))
    }
}

impl PartialEq for SourceFailure {
    fn eq(&self, other: &Self) -> bool {
        self.opening == other.opening
            && (std::sync::Arc::ptr_eq(&self.error, &other.error)
                || self.error.to_string() == other.error.to_string())
    }
}

impl Eq for SourceFailure {}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.opening {
            true => write!(f, "cannot open: {}", self.error),
            false => write!(f, "read error: {}", self.error),
        }
    }
}

/// A report error with its location: `file[: line N][: column 'C']: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub kind: ErrorKind,
}

impl ReportError {
    pub fn new(file: impl Into<String>, kind: ErrorKind) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            kind,
        }
    }

    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn in_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for ReportError {
    /// Every piece that can come from the input (the file name, the column, the reason's quoted
    /// values) is escaped: no control character reaches a terminal or a log raw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column '{}'", Escaped(column))?;
        }
        write!(f, ": {}", Escaped(&self.kind.to_string()))
    }
}

/// Text with its control characters (C0, DEL, C1) and format characters (Unicode category Cf:
/// the bidirectional overrides and isolates, zero-width characters, the BOM…) written as escapes: `\0`, `\t`, `\n`, `\r`, `\x1b`, `\u{202e}`. Everything else is shown as it is.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for c in self.0.chars() {
            match c {
                '\0' => f.write_str("\\0")?,
                '\t' => f.write_str("\\t")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                c if (c as u32) < 0x80 && c.is_control() => write!(f, "\\x{:02x}", c as u32)?,
                c if c.is_control() || crate::alert::sanitize::is_format_char(c) => {
                    write!(f, "\\u{{{:x}}}", c as u32)?
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// [`Escaped`] as a `String`.
pub fn escape_text(text: &str) -> String {
    Escaped(text).to_string()
}

impl std::error::Error for ReportError {}

/// An error found while handling one row: the column, if one is to blame, and the reason.
/// The caller adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: Option<String>,
    pub kind: ErrorKind,
}

impl RowError {
    pub fn in_column(column: &str, kind: ErrorKind) -> Self {
        Self {
            column: Some(column.to_string()),
            kind,
        }
    }

    pub fn plain(kind: ErrorKind) -> Self {
        Self { column: None, kind }
    }

    /// A running total in `column` can no longer be held exactly.
    pub fn overflow(column: &str) -> Self {
        Self::in_column(column, ErrorKind::Overflow("adding this amount".into()))
    }
}

/// Carries an [`ErrorKind`] through `std::io::Read` layers (decoders, limit guards) so that the
/// CSV reader's I/O error can be turned back into the precise reason.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StreamError(pub ErrorKind);

impl StreamError {
    pub fn io(kind: ErrorKind) -> std::io::Error {
        std::io::Error::other(StreamError(kind))
    }

    /// The precise reason behind an I/O error, if one of our layers raised it.
    pub fn kind_of(err: &std::io::Error) -> ErrorKind {
        match err.get_ref().and_then(|e| e.downcast_ref::<StreamError>()) {
            Some(StreamError(kind)) => kind.clone(),
            None => ErrorKind::Io(err.to_string()),
        }
    }

    /// [`StreamError::kind_of`] for an error of opening an object: [`ErrorKind::Open`] unless
    /// one of our layers (or the object source) raised it.
    pub fn open_kind_of(err: &std::io::Error) -> ErrorKind {
        match err.get_ref().and_then(|e| e.downcast_ref::<StreamError>()) {
            Some(StreamError(kind)) => kind.clone(),
            None => ErrorKind::Open(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_and_reason() {
        let e = ReportError::new("r.csv", ErrorKind::InvalidAmount("12,3x".into()))
            .at_line(7)
            .in_column("TotalCost");
        assert_eq!(
            e.to_string(),
            "r.csv: line 7: column 'TotalCost': invalid amount '12,3x'"
        );
        let e = ReportError::new("r.csv", ErrorKind::MissingColumn("TotalCost".into()));
        assert_eq!(e.to_string(), "r.csv: missing required column 'TotalCost'");
    }

    #[test]
    fn control_characters_are_escaped_everywhere() {
        let e = ReportError::new("a\u{0}b", ErrorKind::InvalidAmount("1\u{1b}[2J\n".into()))
            .at_line(3)
            .in_column("c\u{7f}\u{202e}");
        assert_eq!(
            e.to_string(),
            "a\\0b: line 3: column 'c\\x7f\\u{202e}': invalid amount '1\\x1b[2J\\n'"
        );
        assert_eq!(
            escape_text("Amazon Elastic Compute Cloud"),
            "Amazon Elastic Compute Cloud"
        );
        assert_eq!(escape_text("Zürich\t"), "Zürich\\t");
    }

    #[test]
    fn stream_error_round_trips_through_io_error() {
        let io = StreamError::io(ErrorKind::Limit("record longer than 10 bytes".into()));
        assert_eq!(
            StreamError::kind_of(&io),
            ErrorKind::Limit("record longer than 10 bytes".into())
        );
        let plain = std::io::Error::other("boom");
        assert!(matches!(StreamError::kind_of(&plain), ErrorKind::Io(_)));
    }

    #[test]
    fn a_source_failure_is_carried_whole_through_io_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("SlowDown: reduce your request rate")]
        struct Throttled;
        for opening in [true, false] {
            let failure = SourceFailure {
                opening,
                error: std::sync::Arc::new(Throttled),
            };
            let io = failure.clone().into_io(std::io::ErrorKind::Other);
            for kind in [StreamError::kind_of(&io), StreamError::open_kind_of(&io)] {
                let ErrorKind::Source(found) = kind else {
                    panic!("{io}")
                };
                assert_eq!(found, failure);
                assert!(found.error.downcast_ref::<Throttled>().is_some());
            }
            let text = ReportError::new("part.csv.gz", failure.kind()).to_string();
            let stage = if opening { "cannot open" } else { "read error" };
            assert_eq!(
                text,
                format!("part.csv.gz: {stage}: SlowDown: reduce your request rate")
            );
        }
        let plain = std::io::Error::other("no such file");
        assert_eq!(
            StreamError::open_kind_of(&plain),
            ErrorKind::Open("no such file".into())
        );
    }
}
