//! Reading one object's rows on several threads. There is no reading thread: every worker, in
//! turn, takes the stream (under a lock), reads (and inflates) the next chunk into its own
//! buffer and cuts it at a record boundary, lets go of the stream, and fills its own fork of the
//! row logic from that chunk while another worker reads the next. The forks are absorbed into
//! one at the end. Every error is located by [`Pos`], so the one reported is the first in the
//! file, as a single pass would report it.
//!
//! No thread waits on a queue: a worker waits only while another holds the stream, and the
//! reading (a copy, or inflating, and the cuts) is spread over every core. Memory: one chunk per
//! worker, its buffer reused.

use super::header::Col;
use super::read::{chunk_rows, Lines, Located, ObjectReader};
use super::record::Pos;
use super::scan::Scanner;
use super::tally::Rows;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// The stream, shared by the workers: who holds it reads the next chunk.
struct Feed<'a, 'r> {
    reader: &'a mut ObjectReader<'r>,
    /// The number of the next chunk.
    next: u32,
    /// The first chunk (read with the header) and where its data rows start, until taken.
    first: Option<(Vec<u8>, (usize, u64))>,
    /// Set once the stream has ended or failed.
    ended: bool,
    /// The stream's own error, located after the chunks before it.
    error: Option<Located>,
    /// Of a mapped file: where each worker's chunk lies, while it reads it.
    reading: Vec<Option<(usize, usize)>>,
}

/// What one worker hands back.
struct Done {
    rows: Box<dyn Rows>,
    rows_read: u64,
    lines: Vec<(u32, u64)>,
    error: Option<Located>,
}

/// Reads every data record of `reader` into `rows` on `workers` threads (`rows` must fork): this
/// one and `workers - 1` more. Returns the rows read, the line feeds per chunk and the first
/// error.
pub(super) fn rows_parallel(
    reader: &mut ObjectReader<'_>,
    rows: &mut Box<dyn Rows>,
    strict: &[Col],
    workers: usize,
) -> (u64, Lines, Option<Located>) {
    let base = Pos {
        part: reader.part,
        chunk: 0,
        line: 0,
    };
    let limits = reader.limits;
    let shape = (strict, reader.width);
    // The lowest chunk that failed: later chunks need not be read.
    let stop = AtomicU32::new(u32::MAX);
    let workers = workers.max(1);
    let mut forks: Vec<Box<dyn Rows>> = (0..workers)
        .map(|_| {
            rows.fork()
                .expect("only a format that forks is read in parallel")
        })
        .collect();
    let feed = Mutex::new(Feed {
        first: Some((std::mem::take(&mut reader.first), reader.data_at)),
        reader,
        next: 0,
        ended: false,
        error: None,
        reading: vec![None; workers],
    });
    let mine = forks.pop().expect("one worker at least");
    let sink: Mutex<&mut dyn Rows> = Mutex::new(rows.as_mut());
    let done = std::thread::scope(|scope| {
        let handles: Vec<_> = forks
            .into_iter()
            .enumerate()
            .map(|(i, fork)| {
                let id = i + 1;
                let (feed, stop, sink) = (&feed, &stop, &sink);
                scope.spawn(move || worker(id, fork, feed, sink, stop, base, shape, &limits))
            })
            .collect();
        let mut done = vec![worker(0, mine, &feed, &sink, &stop, base, shape, &limits)];
        done.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("a worker panicked")),
        );
        done
    });
    let feed = feed.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut lines = Lines::default();
    let mut rows_read = 0;
    let mut error = feed.error;
    for d in done {
        rows_read += d.rows_read;
        for (chunk, feeds) in d.lines {
            lines.set(chunk, feeds);
        }
        error = Located::first(error, d.error);
        if let Err(kind) = rows.absorb(d.rows) {
            error = Located::first(error, Some(Located::at(base, kind)));
        }
    }
    (rows_read, lines, error)
}

/// Takes the next chunk for worker `id`: its number, its bytes (in place in a mapped file, or
/// read into `buf`) and where its data rows start; `None` once the stream has ended or failed,
/// or a chunk before it failed. The worker's previous chunk is read by then: in a mapped file,
/// the pages before every chunk still being read go back.
fn next_chunk<'b, 'r: 'b>(
    id: usize,
    feed: &Mutex<Feed<'_, 'r>>,
    buf: &'b mut Vec<u8>,
    stop: &AtomicU32,
    base: Pos,
) -> Option<(u32, &'b [u8], (usize, u64))> {
    let mut feed = feed.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((from, to)) = feed.reading[id].take() {
        feed.reader.release(from, to);
    }
    let chunk = feed.next;
    if feed.ended || stop.load(Ordering::Relaxed) < chunk {
        return None;
    }
    if let Some((first, at)) = feed.first.take() {
        *buf = first;
        feed.next += 1;
        return Some((chunk, &buf[..], at));
    }
    match feed.reader.next_chunk_in(buf) {
        Ok(Some((bytes, offset))) => {
            feed.next += 1;
            if let Some(offset) = offset {
                feed.reading[id] = Some((offset, offset + bytes.len()));
                // What lies before every chunk still being read (the pages chunks share) goes.
                let oldest = feed.reading.iter().flatten().map(|r| r.0).min();
                feed.reader.release_before(oldest.unwrap_or(offset));
            }
            Some((chunk, bytes, (0, 1)))
        }
        Ok(None) => {
            feed.ended = true;
            None
        }
        Err(kind) => {
            feed.ended = true;
            feed.error = Some(Located::at(Pos { chunk, ..base }, kind));
            None
        }
    }
}

/// Keys a worker's fork holds before it is absorbed into the shared state ([`flush`]): a report
/// with few keys is absorbed once, at the end; one with many keeps one full set of keys (the
/// shared one) and at most this many more per worker, instead of a full set per worker.
const FLUSH_KEYS: usize = 1 << 14;

/// Absorbs the worker's fork into the shared state and gives it a fresh one; an overflow, or more
/// keys than [`super::limits::Limits::max_keys`], is the error.
fn flush(
    rows: &mut Box<dyn Rows>,
    sink: &Mutex<&mut dyn Rows>,
    pos: Pos,
    limits: &super::limits::Limits,
) -> Result<(), Located> {
    let mut shared = sink.lock().unwrap_or_else(|e| e.into_inner());
    let fresh = shared
        .fork()
        .expect("only a format that forks is read in parallel");
    let full = std::mem::replace(rows, fresh);
    shared.absorb(full).map_err(|kind| {
        Located::at(
            Pos {
                chunk: 0,
                line: 0,
                ..pos
            },
            kind,
        )
    })?;
    limits
        .check_keys(shared.keys())
        .map_err(|kind| Located::at(pos, kind))
}

#[allow(clippy::too_many_arguments)]
fn worker(
    id: usize,
    mut rows: Box<dyn Rows>,
    feed: &Mutex<Feed<'_, '_>>,
    sink: &Mutex<&mut dyn Rows>,
    stop: &AtomicU32,
    base: Pos,
    shape: (&[Col], usize),
    limits: &super::limits::Limits,
) -> Done {
    let mut scanner = Scanner::default();
    let mut buf = Vec::new();
    let (mut rows_read, mut lines, mut error) = (0, Vec::new(), None);
    while error.is_none() {
        let Some((chunk, bytes, at)) = next_chunk(id, feed, &mut buf, stop, base) else {
            break;
        };
        let pos = Pos { chunk, ..base };
        match chunk_rows(
            &mut scanner,
            bytes,
            at,
            pos,
            rows.as_mut(),
            shape,
            limits,
            &mut rows_read,
        ) {
            Ok(feeds) => {
                lines.push((chunk, feeds));
                if rows.keys() >= FLUSH_KEYS {
                    if let Err(e) = flush(&mut rows, sink, pos, limits) {
                        stop.fetch_min(chunk, Ordering::Relaxed);
                        error = Some(e);
                    }
                }
            }
            Err(e) => {
                stop.fetch_min(chunk, Ordering::Relaxed);
                error = Some(e);
            }
        }
    }
    Done {
        rows,
        rows_read,
        lines,
        error,
    }
}
