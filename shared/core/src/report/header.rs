//! Columns found by header name, never by position, and the typed reads of a row's fields.

use super::error::{ErrorKind, RowError};
#[cfg(test)]
use super::record::OwnedRecord;
use super::record::Record;
use crate::money::parse_amount;
use rust_decimal::Decimal;

/// A report's header row, trimmed and with quotes already removed by the CSV parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    pub fn from_record(record: &Record<'_>) -> Self {
        let names = record
            .iter()
            .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
            .collect();
        Self { names }
    }

    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        Self {
            names: names
                .iter()
                .map(|n| n.as_ref().trim().to_string())
                .collect(),
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn has(&self, name: &str) -> bool {
        self.names
            .iter()
            .any(|n| n == name || n.eq_ignore_ascii_case(name))
    }

    /// Exact match first; a case-insensitive match only when no exact one exists (tag columns
    /// such as `user:Name` and `user:name` are distinct, so exact wins). A name found twice
    /// (exactly, or case-insensitively with no exact match) is ambiguous: an error naming it.
    fn find(&self, name: &'static str) -> Result<Option<Col>, RowError> {
        fn unique(
            name: &str,
            mut hits: impl Iterator<Item = usize>,
        ) -> Result<Option<usize>, RowError> {
            match (hits.next(), hits.next()) {
                (None, _) => Ok(None),
                (Some(idx), None) => Ok(Some(idx)),
                (Some(_), Some(_)) => Err(RowError::in_column(
                    name,
                    ErrorKind::DuplicateColumn(name.to_string()),
                )),
            }
        }
        let positions = |exact: bool| {
            self.names.iter().enumerate().filter_map(move |(i, n)| {
                let hit = if exact {
                    n == name
                } else {
                    n.eq_ignore_ascii_case(name)
                };
                hit.then_some(i)
            })
        };
        let idx = match unique(name, positions(true))? {
            Some(idx) => Some(idx),
            None => unique(name, positions(false))?,
        };
        Ok(idx.map(|idx| Col { idx, name }))
    }

    pub fn optional(&self, name: &'static str) -> Result<Option<Col>, RowError> {
        self.find(name)
    }

    /// The first of `names` present.
    pub fn first_of(&self, names: &[&'static str]) -> Result<Option<Col>, RowError> {
        for n in names {
            if let Some(col) = self.find(n)? {
                return Ok(Some(col));
            }
        }
        Ok(None)
    }

    pub fn required(&self, name: &'static str) -> Result<Col, RowError> {
        self.find(name)?
            .ok_or_else(|| RowError::plain(ErrorKind::MissingColumn(name.to_string())))
    }
}

/// A column's position and its name (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub idx: usize,
    pub name: &'static str,
}

impl Col {
    /// The field's bytes, trimmed; a short (ragged) row yields an empty field.
    #[inline]
    pub fn get<'r>(&self, record: &Record<'r>) -> &'r [u8] {
        record.get(self.idx).unwrap_or_default().trim_ascii()
    }

    /// A required amount: empty or unparsable is an error naming this column.
    #[inline]
    pub fn amount(&self, record: &Record<'_>) -> Result<Decimal, RowError> {
        let raw = self.get(record);
        parse_amount(raw).ok_or_else(|| self.invalid(raw))
    }

    /// An amount where an empty cell means zero.
    #[inline]
    pub fn amount_or_zero(&self, record: &Record<'_>) -> Result<Decimal, RowError> {
        let raw = self.get(record);
        if raw.is_empty() {
            return Ok(Decimal::ZERO);
        }
        parse_amount(raw).ok_or_else(|| self.invalid(raw))
    }

    /// A currency code: three capital ASCII letters, as ISO 4217 writes them (`USD`, `EUR`,
    /// `INR`). Anything else (empty, `usd`, `US$`, `NULL`) is an error naming this column: a
    /// total keyed by it could never be compared with a budget or another report.
    #[inline]
    pub fn currency<'r>(&self, record: &Record<'r>) -> Result<&'r [u8], RowError> {
        let raw = self.get(record);
        if is_currency_code(raw) {
            return Ok(raw);
        }
        Err(self.invalid_currency(raw))
    }

    #[cold]
    #[inline(never)]
    fn invalid_currency(&self, raw: &[u8]) -> RowError {
        let shown: String = String::from_utf8_lossy(raw).chars().take(40).collect();
        RowError::in_column(self.name, ErrorKind::InvalidCurrency(shown))
    }

    /// The error for a cell of this column that is not an amount.
    pub fn invalid_amount(&self, record: &Record<'_>) -> RowError {
        self.invalid(self.get(record))
    }

    fn invalid(&self, raw: &[u8]) -> RowError {
        let shown: String = String::from_utf8_lossy(raw).chars().take(40).collect();
        RowError::in_column(self.name, ErrorKind::InvalidAmount(shown))
    }
}

/// An optional column's field, or empty.
#[inline]
pub fn field<'r>(col: Option<Col>, record: &Record<'r>) -> &'r [u8] {
    match col {
        Some(c) => c.get(record),
        None => &[],
    }
}

/// Three capital ASCII letters.
#[inline]
pub fn is_currency_code(raw: &[u8]) -> bool {
    matches!(raw, [a, b, c] if a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_uppercase())
}

/// A text field that carries a value: not empty and not the literal `NULL` some exports write.
#[inline]
pub fn present(value: &[u8]) -> bool {
    !value.is_empty() && value != b"NULL"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_exact_before_case_insensitive() {
        let h = Header::from_names(&["a", " TotalCost ", "user:Name", "user:name", "COST"]);
        assert_eq!(h.required("TotalCost").unwrap().idx, 1);
        assert_eq!(h.optional("user:name").unwrap().unwrap().idx, 3);
        assert_eq!(h.optional("user:Name").unwrap().unwrap().idx, 2);
        assert_eq!(h.optional("Cost").unwrap().unwrap().idx, 4);
        assert_eq!(
            h.first_of(&["UnBlendedCost", "Cost"])
                .unwrap()
                .unwrap()
                .name,
            "Cost"
        );
        // Case-insensitively ambiguous without an exact match: an error naming the column.
        let err = h.optional("USER:NAME").unwrap_err();
        assert_eq!(err.kind, ErrorKind::DuplicateColumn("USER:NAME".into()));
        let err = h.required("RecordType").unwrap_err();
        assert_eq!(err.kind, ErrorKind::MissingColumn("RecordType".into()));
        let twice = Header::from_names(&["TotalCost", "a", "TotalCost"]);
        let err = twice.required("TotalCost").unwrap_err();
        assert_eq!(err.column.as_deref(), Some("TotalCost"));
        assert_eq!(err.kind, ErrorKind::DuplicateColumn("TotalCost".into()));
    }

    #[test]
    fn ragged_rows_read_as_empty_and_amounts_name_their_column() {
        let rec = OwnedRecord::new(&["1.5", "x"]);
        let col = Col {
            idx: 5,
            name: "Far",
        };
        let rec = rec.record();
        assert_eq!(col.get(&rec), b"");
        assert_eq!(col.amount_or_zero(&rec).unwrap(), Decimal::ZERO);
        let bad = Col {
            idx: 1,
            name: "TotalCost",
        };
        let err = bad.amount(&rec).unwrap_err();
        assert_eq!(err.column.as_deref(), Some("TotalCost"));
        assert_eq!(err.kind, ErrorKind::InvalidAmount("x".into()));
    }
}
