//! One streaming pass per object: find the header, pick the format, feed every record to the
//! format's row logic, and assemble the summary. Manifests feed all their parts into one pass.

use super::cur::{Cur, CUR1, CUR2};
use super::dbr::Dbr;
use super::decode::{read_small, with_decoded};
use super::error::{ErrorKind, ReportError, StreamError};
use super::focus::Focus;
use super::format::{classify, key_info, Format, KeyInfo};
use super::header::Header;
use super::legacy::Legacy;
use super::limits::{Limits, RecordGuard};
use super::manifest::{self, PartRef};
use super::source::{ObjectSource, Opened};
use super::summary::{totals_of, ReportSummary, Status};
use super::tally::Rows;
use super::timestamp::Timestamp;
use csv::ByteRecord;
use std::io::Read;

/// Free-text lines allowed before the header (the cost allocation report has one).
const MAX_LEADING_LINES: usize = 5;
const CSV_BUFFER: usize = 64 * 1024;

fn rows_for(format: Format) -> Box<dyn Rows> {
    match format {
        Format::LegacyMonthly | Format::LegacyCostAllocation => Box::<Legacy>::default(),
        Format::Dbr | Format::DbrResourcesTags => Box::<Dbr>::default(),
        Format::Cur1 => Box::new(Cur::new(&CUR1)),
        Format::Cur2 => Box::new(Cur::new(&CUR2)),
        Format::Focus => Box::<Focus>::default(),
    }
}

/// The state of one summary across the objects that make it up.
struct Pass<'a> {
    source_name: &'a str,
    key: KeyInfo,
    limits: Limits,
    format: Option<Format>,
    rows: Option<Box<dyn Rows>>,
    rows_read: u64,
    objects_read: usize,
}

impl<'a> Pass<'a> {
    fn new(source_name: &'a str, key: KeyInfo, limits: &Limits) -> Self {
        Self {
            source_name,
            key,
            limits: *limits,
            format: None,
            rows: None,
            rows_read: 0,
            objects_read: 0,
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

    /// Streams one CSV object through the row logic.
    fn read_csv(&mut self, input: &mut dyn Read, file: &str) -> Result<(), ReportError> {
        let (guard, record_start) =
            RecordGuard::new(input, self.limits.max_record_bytes, CSV_BUFFER as u64);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CSV_BUFFER)
            .from_reader(guard);
        let mut record = ByteRecord::new();
        let max_record = self.limits.max_record_bytes;
        let mut leading = 0;
        let (header, header_line) = loop {
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| Self::csv_error(file, e))?;
            let line = record.position().map_or(0, |p| p.line());
            check_record_length(
                &record_start,
                reader.position().byte(),
                max_record,
                file,
                line,
            )?;
            if !more {
                return Err(ReportError::new(
                    file,
                    ErrorKind::NotAReport("no header row found".into()),
                ));
            }
            if record.len() >= 2 {
                break (Header::from_record(&record), line);
            }
            leading += 1;
            if leading > MAX_LEADING_LINES {
                return Err(ReportError::new(
                    file,
                    ErrorKind::NotAReport("no header row in the first lines".into()),
                ));
            }
        };
        let format = classify(&header, self.key.format, leading > 0).ok_or_else(|| {
            let shown: Vec<_> = header.names().iter().take(3).map(String::as_str).collect();
            ReportError::new(
                file,
                ErrorKind::NotAReport(format!("header starts '{}'", shown.join(","))),
            )
            .at_line(header_line)
        })?;
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
        let rows = self.rows.get_or_insert_with(|| rows_for(format));
        rows.bind(&header).map_err(|e| {
            let mut err = ReportError::new(file, e.kind).at_line(header_line);
            err.column = e.column;
            err
        })?;
        loop {
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| Self::csv_error(file, e))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            check_record_length(
                &record_start,
                reader.position().byte(),
                max_record,
                file,
                line,
            )?;
            self.rows_read += 1;
            if let Err(e) = rows.row(&record) {
                let mut err = ReportError::new(file, e.kind);
                err.line = record.position().map(|p| p.line());
                err.column = e.column;
                return Err(err);
            }
        }
        self.objects_read += 1;
        Ok(())
    }

    fn finish(self, manifest: Option<&manifest::Manifest>) -> Result<ReportSummary, ReportError> {
        let format = match (self.format, manifest) {
            (Some(f), _) => f,
            (None, Some(m)) => classify(&m.columns, None, false).ok_or_else(|| {
                ReportError::new(
                    self.source_name,
                    ErrorKind::InvalidManifest(
                        "it lists no data files and its columns name no known format".into(),
                    ),
                )
            })?,
            (None, None) => {
                return Err(ReportError::new(
                    self.source_name,
                    ErrorKind::NotAReport("no data".into()),
                ))
            }
        };
        let finished = match self.rows {
            Some(rows) => rows.finish(),
            None => rows_for(format).finish(),
        };
        let period = finished
            .period
            .or_else(|| manifest.and_then(|m| m.period))
            .or(self.key.period);
        let as_of = match (&period, finished.as_of) {
            (Some(p), Some(t)) => Some(t.min(Timestamp::start_of(p.next()))),
            (_, t) => t,
        };
        let (totals, grand_totals) = totals_of(
            &finished.ledger,
            finished.parts,
            finished.service_code,
            period,
        );
        Ok(ReportSummary {
            source: self.source_name.to_string(),
            format,
            payer_account_id: finished
                .payer
                .or_else(|| manifest.and_then(|m| m.payer.clone()))
                .or_else(|| self.key.payer.clone()),
            billing_period: period,
            status: if finished.rows_summed == 0 && manifest.is_some() {
                Status::Estimated
            } else {
                finished.status
            },
            as_of: as_of.map(|t| t.to_string()),
            rows_read: self.rows_read,
            rows_summed: finished.rows_summed,
            totals,
            grand_totals,
            checks: finished.checks,
            tag_totals: finished.tags,
            objects_read: self.objects_read,
            delivery_id: manifest.and_then(|m| m.delivery_id.clone()),
        })
    }
}

/// A record that did end can be measured exactly; the [`RecordGuard`] below the parser
/// stops one that never ends.
fn check_record_length(
    record_start: &std::cell::Cell<u64>,
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

/// Summarizes one report object. `source_name` names it in errors and in the summary; `key` is
/// its object key or path (its pattern helps detection); `parts` opens what a manifest lists.
pub fn summarize(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<ReportSummary, ReportError> {
    let info = key_info(key);
    if info.manifest {
        return summarize_manifest(opened, source_name, parts, limits);
    }
    let mut pass = Pass::new(source_name, info, limits);
    with_decoded(opened, source_name, limits, |r| {
        pass.read_csv(r, source_name)
    })?;
    pass.finish(None)
}

fn summarize_manifest(
    opened: Opened,
    source_name: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<ReportSummary, ReportError> {
    let bytes = read_small(opened, source_name, limits)?;
    let manifest = manifest::parse(&bytes).map_err(|kind| ReportError::new(source_name, kind))?;
    let mut pass = Pass::new(source_name, KeyInfo::default(), limits);
    for part in &manifest.parts {
        let name = part.display();
        let opened = match part {
            PartRef::Key(key) => parts.open_key(key),
            PartRef::Uri { bucket, key } => parts.open_uri(bucket, key),
        }
        .map_err(|e| ReportError::new(&name, ErrorKind::Open(e.to_string())))?;
        with_decoded(opened, &name, limits, |r| pass.read_csv(r, &name))?;
    }
    pass.finish(Some(&manifest))
}
