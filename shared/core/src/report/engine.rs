//! One streaming pass per object: find the header, pick the format, feed every record to the
//! format's row logic, and assemble the summary. Manifests feed all their parts into one pass.

use super::cur::{Cur, CUR1, CUR2};
use super::dbr::Dbr;
use super::decode::{read_small, with_decoded};
use super::error::{ErrorKind, ReportError, RowError, StreamError};
use super::focus::Focus;
use super::format::{classify, key_info, missing_column, Format, KeyInfo};
use super::header::{Col, Header};
use super::legacy::Legacy;
use super::limits::Limits;
use super::manifest::{self, PartRef};
use super::parallel::rows_parallel;
use super::read::{rows_inline, HeaderRow, Located, ObjectReader};
use super::source::{ObjectSource, Opened};
use super::split::Text;
use super::summary::{totals_of, ReportSummary, Sorted};
use super::tally::Rows;
use crate::timestamp::Timestamp;
use std::collections::{HashMap, HashSet};

pub(super) fn rows_for(format: Format, multi_period: bool) -> Box<dyn Rows> {
    match format {
        Format::LegacyMonthly | Format::LegacyCostAllocation => Box::<Legacy>::default(),
        Format::Dbr | Format::DbrResourcesTags => Box::<Dbr>::default(),
        Format::Cur1 => Box::new(Cur::new(&CUR1)),
        Format::Cur2 => Box::new(Cur::new(&CUR2)),
        Format::Focus => Box::new(Focus::new(multi_period)),
    }
}

/// The state of one summary across the objects that make it up.
pub(super) struct Pass<'a> {
    source_name: &'a str,
    key: KeyInfo,
    pub limits: Limits,
    /// Whether a dataset may span billing periods (FOCUS only; see [`summarize_periods`]).
    pub multi_period: bool,
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
    fn new(source_name: &'a str, key: KeyInfo, limits: &Limits, multi_period: bool) -> Self {
        Self {
            source_name,
            key,
            limits: *limits,
            multi_period,
            format: None,
            rows: None,
            rows_read: 0,
            objects_read: 0,
        }
    }

    /// Streams one CSV object through the row logic, on `workers` threads (this one among them)
    /// when the format allows it, else on this thread alone (so too with 0). `is_part` marks an
    /// object a manifest listed: its content is never echoed in an error.
    fn read_csv(
        &mut self,
        input: Text<'_>,
        workers: usize,
        file: &str,
        is_part: bool,
    ) -> Result<(), ReportError> {
        let mut reader = ObjectReader::new(input, file, 0, &self.limits);
        let head = reader.read_header()?;
        let format = self.format_of(&head, file, is_part)?;
        let multi_period = self.multi_period;
        let rows = self
            .rows
            .get_or_insert_with(|| rows_for(format, multi_period));
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
    fn finish(
        self,
        manifest: Option<&manifest::Manifest>,
    ) -> Result<Vec<ReportSummary>, ReportError> {
        self.finish_pending(manifest)?
            .into_iter()
            .map(Pending::into_summary)
            .collect()
    }

    /// [`Self::finish`], each summary's totals still to be built from its ledger.
    fn finish_pending(
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
            None => rows_for(format, self.multi_period).finish(),
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
                objects_read: self.objects_read,
                delivery_id: manifest.and_then(|m| m.delivery_id.clone()),
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

/// [`summarize_periods`], each summary's totals still to be built ([`Pending`]).
pub fn summarize_periods_pending(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<Vec<Pending>, ReportError> {
    let (pass, manifest) = read_all(opened, source_name, key, parts, limits, true, None)?;
    pass.finish_pending(manifest.as_ref())
}

/// Summarizes one report object. `source_name` names it in errors and in the summary; `key` is
/// its object key or path (its pattern helps detection); `parts` opens what a manifest lists.
///
/// A report covers one billing period: a FOCUS dataset spanning several is an error here, as a
/// mixed period is in every other format (see [`summarize_periods`]).
pub fn summarize(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<ReportSummary, ReportError> {
    let mut all = run(opened, source_name, key, parts, limits, false)?;
    debug_assert_eq!(all.len(), 1);
    Ok(all.swap_remove(0))
}

/// Summarizes one report object into one summary per billing period, sorted by period. Only a
/// FOCUS dataset may span periods (each is summed on its own); for every other format this is
/// [`summarize`] in a one-element vector, and a mixed period is still an error.
pub fn summarize_periods(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<Vec<ReportSummary>, ReportError> {
    run(opened, source_name, key, parts, limits, true)
}

fn run(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    multi_period: bool,
) -> Result<Vec<ReportSummary>, ReportError> {
    let (pass, manifest) = read_all(opened, source_name, key, parts, limits, multi_period, None)?;
    pass.finish(manifest.as_ref())
}

/// Reads every record of the object (and of a manifest's parts) into `preset`, or into the
/// row logic of the format found; returns the pass and the manifest, if it was one.
fn read_all<'a>(
    opened: Opened,
    source_name: &'a str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    multi_period: bool,
    preset: Option<Box<dyn Rows>>,
) -> Result<(Pass<'a>, Option<manifest::Manifest>), ReportError> {
    let info = key_info(key);
    if info.manifest {
        return read_manifest(opened, source_name, parts, limits, multi_period, preset);
    }
    let mut pass = Pass::new(source_name, info, limits, multi_period);
    pass.rows = preset;
    with_decoded(opened, source_name, limits, |r, workers| {
        pass.read_csv(r, workers, source_name, false)
    })?;
    Ok((pass, None))
}

/// What moved inside the watched (account, service, currency) keys of a CUR or FOCUS report
/// (or manifest) of `period`: a second pass, read on one thread (see [`mod@super::drivers`]).
pub fn drivers(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    period: crate::period::Period,
    keys: &[super::drivers::Key],
) -> Result<super::drivers::DriverTable, ReportError> {
    let limits = Limits {
        threads: 1,
        ..*limits
    };
    let rows = Box::new(super::drivers::Drivers::new(period, keys));
    let (pass, _) = read_all(opened, source_name, key, parts, &limits, true, Some(rows))?;
    let rows = pass
        .rows
        .ok_or_else(|| ReportError::new(source_name, ErrorKind::NotAReport("no data".into())))?;
    let drivers = rows
        .into_any()
        .downcast::<super::drivers::Drivers>()
        .map_err(|_| ReportError::new(source_name, ErrorKind::Invalid("driver pass".into())))?;
    Ok(drivers.table())
}

/// Refuses a manifest that lists too many parts, a part twice, or a part in another bucket,
/// before anything is opened.
fn check_parts(
    manifest: &manifest::Manifest,
    source_name: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<(), ReportError> {
    let fail = |kind| ReportError::new(source_name, kind);
    if manifest.parts.len() > limits.max_manifest_parts {
        return Err(fail(ErrorKind::Limit(format!(
            "more than {} parts in a manifest",
            limits.max_manifest_parts
        ))));
    }
    let home = parts
        .home_bucket()
        .map(str::to_string)
        .or_else(|| manifest.bucket.clone())
        .or_else(|| {
            manifest.parts.iter().find_map(|p| match p {
                PartRef::Uri { bucket, .. } => Some(bucket.clone()),
                PartRef::Key(_) => None,
            })
        });
    let mut seen = HashSet::with_capacity(manifest.parts.len());
    for part in &manifest.parts {
        let bucket = match part {
            PartRef::Uri { bucket, .. } => {
                if let Some(home) = home.as_deref().filter(|h| *h != bucket) {
                    return Err(fail(ErrorKind::InvalidManifest(format!(
                        "data file '{}' is in bucket '{bucket}', not in the manifest's bucket '{home}'",
                        part.display()
                    ))));
                }
                bucket.as_str()
            }
            PartRef::Key(_) => home.as_deref().unwrap_or(""),
        };
        if !seen.insert((bucket.to_string(), part.normalized_key())) {
            return Err(fail(ErrorKind::DuplicatePart(part.normalized_key())));
        }
    }
    // Two names of one file (a symbolic or hard link in a local bucket folder): read twice,
    // its rows would be summed twice.
    let mut files: HashMap<String, String> = HashMap::with_capacity(manifest.parts.len());
    for part in &manifest.parts {
        let identity = match part {
            PartRef::Key(key) => parts.identity(None, key),
            PartRef::Uri { bucket, key } => parts.identity(Some(bucket), key),
        };
        if let Some(identity) = identity {
            if let Some(first) = files.insert(identity, part.display()) {
                return Err(fail(ErrorKind::InvalidManifest(format!(
                    "parts '{first}' and '{}' are the same file",
                    part.display()
                ))));
            }
        }
    }
    Ok(())
}

/// Rows of two billing periods read apart, found once their forks were absorbed.
fn conflict(rows: &dyn Rows) -> Option<Located> {
    rows.conflict().map(|(pos, e)| Located {
        pos,
        kind: e.kind,
        column: e.column,
    })
}

fn read_manifest<'a>(
    opened: Opened,
    source_name: &'a str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    multi_period: bool,
    preset: Option<Box<dyn Rows>>,
) -> Result<(Pass<'a>, Option<manifest::Manifest>), ReportError> {
    let bytes = read_small(opened, source_name, limits)?;
    let manifest = manifest::parse(&bytes).map_err(|kind| ReportError::new(source_name, kind))?;
    check_parts(&manifest, source_name, parts, limits)?;
    let mut pass = Pass::new(source_name, KeyInfo::default(), limits, multi_period);
    let cur = matches!(
        classify(&manifest.columns, None, false),
        Some(Format::Cur1 | Format::Cur2)
    );
    if preset.is_none() && cur && limits.threads > 1 && manifest.parts.len() > 1 {
        super::parts::read_parts(&mut pass, &manifest, parts)?;
        return Ok((pass, Some(manifest)));
    }
    pass.rows = preset;
    for part in &manifest.parts {
        let name = part.display();
        let opened = match part {
            PartRef::Key(key) => parts.open_key(key),
            PartRef::Uri { bucket, key } => parts.open_uri(bucket, key),
        }
        .map_err(|e| ReportError::new(&name, StreamError::open_kind_of(&e)))?;
        with_decoded(opened, &name, limits, |r, workers| {
            pass.read_csv(r, workers, &name, true)
        })?;
    }
    Ok((pass, Some(manifest)))
}
