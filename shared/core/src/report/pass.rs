//! The state of one summary across the objects that make it up ([`Pass`]): the format found,
//! the row logic bound to each object's header, and the records read, inline or on several
//! threads. The engine (`engine.rs`) and a manifest's parallel parts (`parts.rs`) both feed it.

use super::cur::{Cur, CUR1, CUR2};
use super::dbr::Dbr;
use super::error::{ErrorKind, ReportError, RowError};
use super::focus::Focus;
use super::format::{classify, missing_column, Format, KeyInfo};
use super::header::{Col, Header};
use super::legacy::Legacy;
use super::limits::Limits;
use super::manifest;
use super::parallel::rows_parallel;
use super::read::{rows_inline, HeaderRow, Located, ObjectReader};
use super::split::Text;
use super::summary::{totals_of, ReportSummary, Sorted};
use super::tally::Rows;
use crate::budget::spec::Specs;
use crate::timestamp::Timestamp;

/// What a pass is asked besides the totals.
#[derive(Debug, Clone, Default)]
pub(super) struct Asked {
    /// Whether a dataset may span billing periods (FOCUS only; see [`summarize_periods`]).
    pub multi_period: bool,
    /// The budgets summed in the pass.
    pub specs: Specs,
    /// Whether the pass also reads the commitments of a CUR (a commitment budget asks).
    pub commitments: bool,
}

pub(super) fn rows_for(format: Format, asked: &Asked) -> Box<dyn Rows> {
    let specs = &asked.specs;
    match format {
        Format::LegacyMonthly | Format::LegacyCostAllocation => Box::<Legacy>::default(),
        Format::Dbr | Format::DbrResourcesTags => Box::<Dbr>::default(),
        Format::Cur1 => Box::new(Cur::new(&CUR1, specs).asking_commitments(asked.commitments)),
        Format::Cur2 => Box::new(Cur::new(&CUR2, specs).asking_commitments(asked.commitments)),
        Format::Focus => {
            Box::new(Focus::new(asked.multi_period, specs).asking_commitments(asked.commitments))
        }
    }
}

/// The state of one summary across the objects that make it up.
pub(super) struct Pass<'a> {
    source_name: &'a str,
    key: KeyInfo,
    pub limits: Limits,
    pub asked: Asked,
    format: Option<Format>,
    pub rows: Option<Box<dyn Rows>>,
    pub rows_read: u64,
    pub objects_read: usize,
}

/// A header's first names, for "not a recognised billing report": at most three, each cut to
/// 40 characters. Only shown for the input the user named, never for a part a manifest lists.
fn header_start(header: &Header) -> String {
    header
        .names()
        .iter()
        .take(3)
        .map(|n| n.chars().take(40).collect::<String>())
        .collect::<Vec<_>>()
        .join(",")
}

/// Binds the row logic to the header's columns: the strict columns, or the error at the
/// header's line.
fn bind(rows: &mut dyn Rows, head: &HeaderRow, file: &str) -> Result<Vec<Col>, ReportError> {
    rows.bind(&head.header)
        .map_err(|e| bind_error(e, head, file))
}

/// A header the row logic refuses, at the header's line.
pub(super) fn bind_error(e: RowError, head: &HeaderRow, file: &str) -> ReportError {
    let mut err = ReportError::new(file, e.kind).at_line(head.line);
    err.column = e.column;
    err
}

impl<'a> Pass<'a> {
    pub(super) fn new(source_name: &'a str, key: KeyInfo, limits: &Limits, asked: Asked) -> Self {
        Self {
            source_name,
            key,
            limits: *limits,
            asked,
            format: None,
            rows: None,
            rows_read: 0,
            objects_read: 0,
        }
    }

    /// Streams one CSV object through the row logic, on `workers` threads (this one among them)
    /// when the format allows it, else on this thread alone (so too with 0). `is_part` marks an
    /// object a manifest listed: its content is never echoed in an error.
    pub(super) fn read_csv(
        &mut self,
        input: Text<'_>,
        workers: usize,
        file: &str,
        is_part: bool,
    ) -> Result<(), ReportError> {
        let mut reader = ObjectReader::new(input, file, 0, &self.limits);
        let head = reader.read_header()?;
        let format = self.format_of(&head, file, is_part)?;
        let asked = &self.asked;
        let rows = self.rows.get_or_insert_with(|| rows_for(format, asked));
        let strict = bind(rows.as_mut(), &head, file)?;
        let (read, lines, error) = if workers > 0 && rows.fork().is_some() {
            rows_parallel(&mut reader, rows, &strict, workers)
        } else {
            rows_inline(&mut reader, rows.as_mut(), &strict)
        };
        self.rows_read += read;
        let error = Located::first(error, conflict(rows.as_ref()));
        if let Some(e) = error {
            return Err(lines.error(file, e));
        }
        self.objects_read += 1;
        Ok(())
    }

    /// The format `head` names, which must be of the same family as the earlier parts'.
    pub(super) fn format_of(
        &mut self,
        head: &HeaderRow,
        file: &str,
        is_part: bool,
    ) -> Result<Format, ReportError> {
        let header = &head.header;
        let format = match classify(header, self.key.format, head.leading > 0) {
            Some(format) => format,
            None => {
                let kind = match missing_column(header) {
                    Some(name) => ErrorKind::MissingColumn(name.to_string()),
                    None if is_part => {
                        ErrorKind::NotAReport("its header names no known format".into())
                    }
                    None => {
                        ErrorKind::NotAReport(format!("header starts '{}'", header_start(header)))
                    }
                };
                return Err(ReportError::new(file, kind).at_line(head.line));
            }
        };
        match self.format {
            None => self.format = Some(format),
            Some(f) if f.family() == format.family() => {}
            Some(f) => {
                return Err(ReportError::new(
                    file,
                    ErrorKind::Invalid(format!(
                        "this part is a {} report but the earlier parts are {}",
                        format.name(),
                        f.name()
                    )),
                ))
            }
        }
        Ok(format)
    }

    /// One summary per billing period, sorted by period.
    pub(super) fn finish(
        self,
        manifest: Option<&manifest::Manifest>,
    ) -> Result<Vec<ReportSummary>, ReportError> {
        self.finish_pending(manifest)?
            .into_iter()
            .map(Pending::into_summary)
            .collect()
    }

    /// [`Self::finish`], each summary's totals still to be built from its ledger.
    pub(super) fn finish_pending(
        self,
        manifest: Option<&manifest::Manifest>,
    ) -> Result<Vec<Pending>, ReportError> {
        let fail = |kind| ReportError::new(self.source_name, kind);
        // Checked as chunks are read; once more here for a manifest's parts read apart (each
        // part's keys were checked on their own), before any total is built.
        if let Some(rows) = &self.rows {
            self.limits.check_keys(rows.keys()).map_err(fail)?;
        }
        let format = match (self.format, manifest) {
            (Some(f), _) => f,
            (None, Some(m)) => classify(&m.columns, None, false).ok_or_else(|| {
                fail(ErrorKind::InvalidManifest(
                    "it lists no data files and its columns name no known format".into(),
                ))
            })?,
            (None, None) => return Err(fail(ErrorKind::NotAReport("no data".into()))),
        };
        let finished = match self.rows {
            Some(rows) => rows.finish(),
            None => rows_for(format, &self.asked).finish(),
        }
        .map_err(fail)?;
        let summed: u64 = finished.iter().map(|f| f.rows_summed).sum();
        if summed == 0 {
            // Nothing to store: a summary of zeros stored over a month's estimate would erase it.
            let detail = match (manifest, self.rows_read) {
                (Some(m), 0) if m.parts.is_empty() => " (the manifest lists no data files)".into(),
                (Some(_), 0) => " (every part of the manifest is empty)".into(),
                (_, 0) => String::new(),
                (_, n) => format!(" ({n} rows, none of them a line item)"),
            };
            return Err(fail(ErrorKind::Empty(detail)));
        }
        let several = finished.len() > 1;
        let mut out = Vec::with_capacity(finished.len());
        for finished in finished {
            let period = if several {
                finished.period
            } else {
                finished
                    .period
                    .or_else(|| manifest.and_then(|m| m.period))
                    .or(self.key.period)
            };
            let as_of = match (&period, finished.as_of) {
                (Some(p), Some(t)) => Some(t.min(Timestamp::start_of(p.next()))),
                (_, t) => t,
            };
            let budgets = match finished.budgets {
                Some(b) => b,
                None => from_totals(&self.asked.specs, &finished, format),
            };
            let summary = ReportSummary {
                source: self.source_name.to_string(),
                format,
                payer_account_id: finished
                    .payer
                    .or_else(|| manifest.and_then(|m| m.payer.clone()))
                    .or_else(|| self.key.payer.clone()),
                billing_period: period,
                status: finished.status,
                as_of: as_of.map(|t| t.to_string()),
                // Every FOCUS row is summed: a period's rows are the rows it summed.
                rows_read: if several {
                    finished.rows_summed
                } else {
                    self.rows_read
                },
                rows_summed: finished.rows_summed,
                totals: Vec::new(),
                grand_totals: Vec::new(),
                checks: finished.checks,
                skipped: finished.skipped,
                warnings: finished.warnings,
                tag_totals: finished.tags,
                budgets,
                objects_read: self.objects_read,
                delivery_id: manifest.and_then(|m| m.delivery_id.clone()),
                commitments: finished.commitments,
            };
            out.push(Pending {
                summary,
                ledger: finished.ledger,
                parts: finished.parts,
                service_code: finished.service_code,
                period,
            });
        }
        Ok(out)
    }
}

/// The budgets of a format that sums none per row (legacy, DBR), from its totals: a budget that
/// asks only what they hold ([`crate::budget::spec::Spec::from_totals`]), else why not.
fn from_totals(
    specs: &Specs,
    finished: &super::tally::Finished,
    format: Format,
) -> Vec<crate::budget::spec::Figures> {
    specs
        .iter()
        .map(|spec| {
            super::budget_totals::figures(
                spec,
                &finished.ledger,
                format.name(),
                finished.service_code,
            )
        })
        .collect()
}

fn conflict(rows: &dyn Rows) -> Option<Located> {
    rows.conflict().map(|(pos, e)| Located {
        pos,
        kind: e.kind,
        column: e.column,
    })
}

/// A summary whose totals are not built yet: the summary without them (`totals` and
/// `grand_totals` empty) and the ledger they come from. A report with many keys can be written
/// out from it one total at a time ([`Pending::write_json`]) instead of holding them all.
pub struct Pending {
    pub summary: ReportSummary,
    ledger: crate::ledger::Ledger,
    parts: &'static [crate::ledger::Part],
    service_code: fn(&str) -> String,
    period: Option<crate::period::Period>,
}

impl Pending {
    fn overflow(&self) -> ReportError {
        ReportError::new(
            &self.summary.source,
            ErrorKind::Overflow("a grand total".into()),
        )
    }

    /// The summary with its totals.
    pub fn into_summary(mut self) -> Result<ReportSummary, ReportError> {
        let (totals, grand_totals) =
            totals_of(&self.ledger, self.parts, self.service_code, self.period)
                .map_err(|_| self.overflow())?;
        self.summary.totals = totals;
        self.summary.grand_totals = grand_totals;
        Ok(self.summary)
    }

    /// Distinct (account, service, currency) keys read.
    pub fn keys(&self) -> usize {
        self.ledger.len()
    }

    /// Writes the summary as `serde_json::to_string(&summary)` of [`Self::into_summary`] would,
    /// byte for byte, but building one total at a time: memory stays that of the ledger.
    pub fn write_json(mut self, out: &mut impl std::io::Write) -> Result<(), PendingError> {
        let sorted = Sorted::new(&self.ledger, self.service_code, self.period);
        // Every sum first (the grand totals, and the totals that merge several keys), so that an
        // overflow is an error before anything is written.
        let grand_totals = sorted.grand_totals().map_err(|_| self.overflow())?;
        for total in sorted.totals(self.parts) {
            total.map_err(|_| self.overflow())?;
        }
        self.summary.grand_totals = grand_totals;
        // The summary without totals, then its totals spliced in where the empty list is. In
        // JSON text a quote inside a string is always escaped, so the first `,"totals":[]` is the
        // field.
        let head = serde_json::to_string(&self.summary).map_err(PendingError::Json)?;
        const EMPTY: &str = ",\"totals\":[]";
        let at = head.find(EMPTY).expect("a summary has its totals field") + EMPTY.len() - 1;
        out.write_all(&head.as_bytes()[..at])?;
        for (i, total) in sorted.totals(self.parts).enumerate() {
            let total = total.map_err(|_| self.overflow())?;
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, &total).map_err(PendingError::Json)?;
        }
        out.write_all(&head.as_bytes()[at..])?;
        Ok(())
    }
}

/// Why [`Pending::write_json`] failed.
#[derive(Debug)]
pub enum PendingError {
    Report(ReportError),
    Io(std::io::Error),
    Json(serde_json::Error),
}

impl From<ReportError> for PendingError {
    fn from(e: ReportError) -> Self {
        PendingError::Report(e)
    }
}

impl From<std::io::Error> for PendingError {
    fn from(e: std::io::Error) -> Self {
        PendingError::Io(e)
    }
}

impl std::fmt::Display for PendingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PendingError::Report(e) => e.fmt(f),
            PendingError::Io(e) => write!(f, "writing the summary: {e}"),
            PendingError::Json(e) => write!(f, "writing the summary: {e}"),
        }
    }
}
