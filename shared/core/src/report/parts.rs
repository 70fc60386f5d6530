//! A manifest's parts read at once, one part per thread, each into its own row logic, then
//! absorbed into one summary in the order the manifest lists them. The error reported is the one
//! a pass over the parts in order would meet first: the earliest part that fails, at its line, or
//! an earlier row of another billing period.

use super::decode::with_decoded;
use super::error::{ReportError, StreamError};
use super::format::classify;
use super::limits::Limits;
use super::manifest::{Manifest, PartRef};
use super::pass::{bind_error, rows_for, Asked, Pass};
use super::read::{rows_inline, HeaderRow, Lines, Located, ObjectReader};
use super::source::ObjectSource;
use super::tally::Rows;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One part, read.
struct PartRead {
    head: HeaderRow,
    /// `None` when the header names no known format (the merge reports it, in order).
    rows: Option<Box<dyn Rows>>,
    rows_read: u64,
    lines: Lines,
    error: Option<Located>,
}

struct Outcome {
    index: usize,
    name: String,
    read: Result<PartRead, ReportError>,
}

fn read_part(
    index: usize,
    part: &PartRef,
    source: &dyn ObjectSource,
    limits: Limits,
    asked: &Asked,
) -> Outcome {
    let name = part.display();
    let read = match part {
        PartRef::Key(key) => source.open_key(key),
        PartRef::Uri { bucket, key } => source.open_uri(bucket, key),
    }
    .map_err(|e| ReportError::new(&name, StreamError::open_kind_of(&e)))
    .and_then(|opened| {
        with_decoded(opened, &name, &limits, |input, _| {
            let mut reader = ObjectReader::new(input, &name, index as u32, &limits);
            let head = reader.read_header()?;
            let Some(format) = classify(&head.header, None, head.leading > 0) else {
                return Ok(PartRead {
                    head,
                    rows: None,
                    rows_read: 0,
                    lines: Lines::default(),
                    error: None,
                });
            };
            let mut rows = rows_for(format, asked);
            let strict = rows
                .bind(&head.header)
                .map_err(|e| bind_error(e, &head, &name))?;
            let (rows_read, lines, error) = rows_inline(&mut reader, rows.as_mut(), &strict);
            Ok(PartRead {
                head,
                rows: Some(rows),
                rows_read,
                lines,
                error,
            })
        })
    });
    Outcome { index, name, read }
}

/// Reads every part of `manifest` on `pass.limits.threads` threads into `pass`.
pub(super) fn read_parts(
    pass: &mut Pass<'_>,
    manifest: &Manifest,
    source: &dyn ObjectSource,
) -> Result<(), ReportError> {
    let next = AtomicUsize::new(0);
    // The lowest part that failed: later parts need not be read.
    let stop = AtomicUsize::new(usize::MAX);
    let done = Mutex::new(Vec::with_capacity(manifest.parts.len()));
    let threads = pass.limits.threads.min(manifest.parts.len()).max(1);
    let (limits, asked) = (pass.limits, &pass.asked);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= manifest.parts.len() || i > stop.load(Ordering::Relaxed) {
                    break;
                }
                // Each part on one thread: the parts already fill the cores.
                let one = Limits {
                    threads: 1,
                    ..limits
                };
                let outcome = read_part(i, &manifest.parts[i], source, one, asked);
                let failed = match &outcome.read {
                    Err(_) => true,
                    Ok(p) => p.error.is_some() || p.rows.is_none(),
                };
                if failed {
                    stop.fetch_min(i, Ordering::Relaxed);
                }
                done.lock()
                    .expect("no thread panics holding it")
                    .push(outcome);
            });
        }
    });
    let mut done = done.into_inner().expect("no thread panics holding it");
    done.sort_by_key(|o| o.index);
    absorb_in_order(pass, done)
}

/// Absorbs the parts in manifest order, up to the first that failed; reports the first error.
fn absorb_in_order(pass: &mut Pass<'_>, done: Vec<Outcome>) -> Result<(), ReportError> {
    // Per part read so far (parts come in order from 0): its name and line table.
    let mut read: Vec<(String, Lines)> = Vec::with_capacity(done.len());
    // The first failure: the part, the line in it (none: before its rows), the error.
    let mut failure: Option<(usize, Option<u64>, ReportError)> = None;
    for outcome in done {
        let index = outcome.index;
        let part = match outcome.read {
            Ok(part) => part,
            Err(e) => {
                failure = Some((index, None, e));
                break;
            }
        };
        if let Err(e) = pass.format_of(&part.head, &outcome.name, true) {
            failure = Some((index, None, e));
            break;
        }
        pass.rows_read += part.rows_read;
        if let Some(rows) = part.rows {
            match &mut pass.rows {
                None => pass.rows = Some(rows),
                Some(mine) => {
                    if let Err(kind) = mine.absorb(rows) {
                        failure = Some((index, None, ReportError::new(&outcome.name, kind)));
                        break;
                    }
                }
            }
        }
        let error = part.error.map(|e| part.lines.error(&outcome.name, e));
        read.push((outcome.name, part.lines));
        if let Some(e) = error {
            failure = Some((index, e.line, e));
            break;
        }
        pass.objects_read += 1;
    }
    // Rows of another billing period before the failure come first.
    if let Some((pos, e)) = pass.rows.as_ref().and_then(|r| r.conflict()) {
        let i = pos.part as usize;
        let line = read.get(i).and_then(|(_, lines)| lines.line_of(pos));
        let earlier = match &failure {
            None => true,
            Some((part, at, _)) => {
                i < *part || (i == *part && matches!((line, at), (Some(c), Some(l)) if c < *l))
            }
        };
        if earlier {
            let (name, lines) = &read[i];
            let located = Located {
                pos,
                kind: e.kind,
                column: e.column,
            };
            return Err(lines.error(name, located));
        }
    }
    match failure {
        Some((_, _, e)) => Err(e),
        None => Ok(()),
    }
}
