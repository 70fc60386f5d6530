//! The report engine: detects the format of an AWS billing report and sums it, exactly and in
//! one streaming pass. Pure: nothing here knows about AWS beyond the [`ObjectSource`] it is given.

mod budget_columns;
mod budget_rows;
mod budget_sum;
mod budget_totals;
mod commitment_rows;
mod cur;
mod dbr;
mod decode;
mod delimiters;
pub mod drivers;
mod engine;
pub mod error;
mod focus;
mod focus_commitments;
pub mod format;
mod header;
mod index;
mod legacy;
pub mod limits;
mod manifest;
mod parallel;
mod parts;
mod pass;
pub mod product_codes;
mod read;
mod read_ahead;
pub mod record;
mod scan;
pub mod source;
mod split;
pub mod summary;
pub mod tags;
mod tally;

pub use engine::{
    commitments, drivers, summarize, summarize_asking, summarize_periods, summarize_periods_pending,
};
pub use error::{ErrorKind, ReportError, SourceFailure, StreamError};
pub use format::{key_info, Format, KeyInfo};
pub use limits::Limits;
pub use manifest::{parse as parse_manifest, Manifest, PartRef};
pub use pass::{Pending, PendingError};
pub use source::{LocalSource, ObjectSource, Opened};
pub use summary::{Check, GrandTotal, ReportSummary, Status, Total};

use std::path::Path;

/// Summarizes a local file; a manifest's parts are found under `bucket_dir` (or above the
/// manifest when `None`).
pub fn summarize_path(
    path: &Path,
    bucket_dir: Option<&Path>,
    limits: &Limits,
) -> Result<ReportSummary, ReportError> {
    let (file, name, parts) = open_local(path, bucket_dir)?;
    summarize(file, &name, &name, &parts, limits)
}

/// [`summarize_path`], one summary per billing period (see [`summarize_periods`]).
pub fn summarize_path_periods(
    path: &Path,
    bucket_dir: Option<&Path>,
    limits: &Limits,
    specs: &crate::budget::spec::Specs,
) -> Result<Vec<ReportSummary>, ReportError> {
    let (file, name, parts) = open_local(path, bucket_dir)?;
    summarize_periods(file, &name, &name, &parts, limits, specs)
}

/// [`summarize_path_periods`], with a CUR's commitments read in the same pass when
/// `commitments` (see [`summarize_asking`]).
pub fn summarize_path_asking(
    path: &Path,
    bucket_dir: Option<&Path>,
    limits: &Limits,
    specs: &crate::budget::spec::Specs,
    commitments: bool,
) -> Result<Vec<ReportSummary>, ReportError> {
    let (file, name, parts) = open_local(path, bucket_dir)?;
    summarize_asking(file, &name, &name, &parts, limits, specs, commitments)
}

/// [`summarize_path_periods`], each summary's totals still to be built ([`Pending`]).
pub fn summarize_path_periods_pending(
    path: &Path,
    bucket_dir: Option<&Path>,
    limits: &Limits,
    specs: &crate::budget::spec::Specs,
) -> Result<Vec<Pending>, ReportError> {
    let (file, name, parts) = open_local(path, bucket_dir)?;
    summarize_periods_pending(file, &name, &name, &parts, limits, specs)
}

/// What moved inside the watched keys of a local report (see [`drivers()`]).
pub fn drivers_path(
    path: &Path,
    bucket_dir: Option<&Path>,
    limits: &Limits,
    period: crate::period::Period,
    keys: &[drivers::Key],
) -> Result<drivers::DriverTable, ReportError> {
    let (file, name, parts) = open_local(path, bucket_dir)?;
    drivers(file, &name, &name, &parts, limits, period, keys)
}

/// The commitments of a local CUR report or manifest (see [`commitments()`]).
pub fn commitments_path(
    path: &Path,
    bucket_dir: Option<&Path>,
    limits: &Limits,
) -> Result<crate::commitment::Summary, ReportError> {
    let (file, name, parts) = open_local(path, bucket_dir)?;
    commitments(file, &name, &name, &parts, limits)
}

/// A local report opened for the engine: the file, its name for messages, and the source of its
/// parts (a manifest's, below `bucket_dir`).
fn open_local(
    path: &Path,
    bucket_dir: Option<&Path>,
) -> Result<(Opened, String, LocalSource), ReportError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| ReportError::new(&name, ErrorKind::Open(e.to_string())))?;
    let parts = LocalSource::new(bucket_dir.map(Path::to_path_buf), path);
    Ok((Opened::File(file), name, parts))
}
