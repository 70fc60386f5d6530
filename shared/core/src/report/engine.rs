//! One streaming pass per object: find the header, pick the format, feed every record to the
//! format's row logic, and assemble the summary. Manifests feed all their parts into one pass.

use super::decode::{read_small, with_decoded};
use super::error::{ErrorKind, ReportError, StreamError};
use super::format::{classify, key_info, Format, KeyInfo};
use super::limits::Limits;
use super::manifest::{self, PartRef};
use super::source::{ObjectSource, Opened};
use super::summary::ReportSummary;
use super::tally::Rows;
use crate::budget::spec::Specs;
use std::collections::{HashMap, HashSet};

use super::pass::{Asked, Pass, Pending};

/// [`summarize_periods`], each summary's totals still to be built ([`Pending`]).
pub fn summarize_periods_pending(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    specs: &Specs,
) -> Result<Vec<Pending>, ReportError> {
    let asked = Asked {
        multi_period: true,
        specs: specs.clone(),
        commitments: false,
    };
    let (pass, manifest) = read_all(opened, source_name, key, parts, limits, asked, None)?;
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
    let mut all = run(opened, source_name, key, parts, limits, Asked::default())?;
    debug_assert_eq!(all.len(), 1);
    Ok(all.swap_remove(0))
}

/// Summarizes one report object into one summary per billing period, sorted by period. Only a
/// FOCUS dataset may span periods (each is summed on its own); for every other format this is
/// [`summarize`] in a one-element vector, and a mixed period is still an error.
///
/// Each summary also answers `specs`, the budgets summed in the same pass
/// ([`ReportSummary::budgets`]).
pub fn summarize_periods(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    specs: &Specs,
) -> Result<Vec<ReportSummary>, ReportError> {
    summarize_asking(opened, source_name, key, parts, limits, specs, false)
}

/// [`summarize_periods`], and with `commitments` the commitments of a CUR read in the same pass
/// ([`ReportSummary::commitments`]; `None` for other formats).
pub fn summarize_asking(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    specs: &Specs,
    commitments: bool,
) -> Result<Vec<ReportSummary>, ReportError> {
    let asked = Asked {
        multi_period: true,
        specs: specs.clone(),
        commitments,
    };
    run(opened, source_name, key, parts, limits, asked)
}

fn run(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    asked: Asked,
) -> Result<Vec<ReportSummary>, ReportError> {
    let (pass, manifest) = read_all(opened, source_name, key, parts, limits, asked, None)?;
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
    asked: Asked,
    preset: Option<Box<dyn Rows>>,
) -> Result<(Pass<'a>, Option<manifest::Manifest>), ReportError> {
    let info = key_info(key);
    if info.manifest {
        return read_manifest(opened, source_name, parts, limits, asked, preset);
    }
    let mut pass = Pass::new(source_name, info, limits, asked);
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
    let asked = Asked {
        multi_period: true,
        specs: Specs::default(),
        commitments: false,
    };
    let (pass, _) = read_all(opened, source_name, key, parts, &limits, asked, Some(rows))?;
    let rows = pass
        .rows
        .ok_or_else(|| ReportError::new(source_name, ErrorKind::NotAReport("no data".into())))?;
    let drivers = rows
        .into_any()
        .downcast::<super::drivers::Drivers>()
        .map_err(|_| ReportError::new(source_name, ErrorKind::Invalid("driver pass".into())))?;
    Ok(drivers.table())
}

/// The commitments of a CUR 1.0 or 2.0 report (or manifest): Reserved Instances and Savings
/// Plans, their utilization, unused cost and dates, and coverage ([`crate::commitment`]). A
/// pass of its own, on every thread the limits allow.
pub fn commitments(
    opened: Opened,
    source_name: &str,
    key: &str,
    parts: &dyn ObjectSource,
    limits: &Limits,
) -> Result<crate::commitment::Summary, ReportError> {
    let rows = Box::<super::commitment_rows::CommitmentRows>::default();
    let asked = Asked {
        multi_period: true,
        specs: Specs::default(),
        commitments: false,
    };
    let (pass, _) = read_all(opened, source_name, key, parts, limits, asked, Some(rows))?;
    let rows = pass
        .rows
        .ok_or_else(|| ReportError::new(source_name, ErrorKind::NotAReport("no data".into())))?;
    let rows = rows
        .into_any()
        .downcast::<super::commitment_rows::CommitmentRows>()
        .map_err(|_| {
            ReportError::new(source_name, ErrorKind::Invalid("commitments' pass".into()))
        })?;
    Ok(rows.summary())
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
fn read_manifest<'a>(
    opened: Opened,
    source_name: &'a str,
    parts: &dyn ObjectSource,
    limits: &Limits,
    asked: Asked,
    preset: Option<Box<dyn Rows>>,
) -> Result<(Pass<'a>, Option<manifest::Manifest>), ReportError> {
    let bytes = read_small(opened, source_name, limits)?;
    let manifest = manifest::parse(&bytes).map_err(|kind| ReportError::new(source_name, kind))?;
    check_parts(&manifest, source_name, parts, limits)?;
    let mut pass = Pass::new(source_name, KeyInfo::default(), limits, asked);
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
