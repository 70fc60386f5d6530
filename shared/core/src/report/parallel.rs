//! Reading one object's rows on several threads: this thread reads (and inflates) the stream and
//! cuts it into chunks; each worker fills its own fork of the row logic from whichever chunks it
//! takes; the forks are absorbed into one at the end. Every error is located by [`Pos`], so the
//! one reported is the first in the file, as a single pass would report it.
//!
//! Memory: at most two chunks per worker plus the one being cut are alive at once; buffers are
//! handed back and reused.

use super::header::Col;
use super::read::{chunk_rows, Lines, Located, ObjectReader};
use super::record::Pos;
use super::scan::Scanner;
use super::tally::Rows;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Mutex;

/// A chunk handed to a worker: its number, its bytes, and where its data rows start.
struct Work {
    chunk: u32,
    bytes: Vec<u8>,
    at: (usize, u64),
}

/// What one worker hands back.
struct Done {
    rows: Box<dyn Rows>,
    rows_read: u64,
    lines: Vec<(u32, u64)>,
    error: Option<Located>,
}

/// Reads every data record of `reader` into `rows` on `workers` threads (`rows` must fork).
/// Returns the rows read, the line feeds per chunk and the first error.
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
    // The lowest chunk that failed: later chunks need not be read.
    let stop = AtomicU32::new(u32::MAX);
    let (work_tx, work_rx) = mpsc::sync_channel::<Work>(workers);
    let work_rx = Mutex::new(work_rx);
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
    let forks: Vec<Box<dyn Rows>> = (0..workers)
        .map(|_| {
            rows.fork()
                .expect("only a format that forks is read in parallel")
        })
        .collect();
    let first = std::mem::take(&mut reader.first);
    let first_at = reader.data_at;
    let (done, stream_error) = std::thread::scope(|scope| {
        let handles: Vec<_> = forks
            .into_iter()
            .map(|fork| {
                let (work_rx, spare_tx, stop) = (&work_rx, spare_tx.clone(), &stop);
                scope.spawn(move || worker(fork, work_rx, spare_tx, stop, base, strict, &limits))
            })
            .collect();
        drop(spare_tx);
        let stream_error = feed(reader, first, first_at, &work_tx, &spare_rx, &stop, base);
        drop(work_tx);
        let done: Vec<Done> = handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect();
        (done, stream_error)
    });
    let mut lines = Lines::default();
    let mut rows_read = 0;
    let mut error = stream_error;
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

/// Cuts the stream into chunks for the workers until it ends or a chunk fails. Returns the
/// stream's own error, located after the chunks before it.
fn feed(
    reader: &mut ObjectReader<'_>,
    first: Vec<u8>,
    first_at: (usize, u64),
    work: &SyncSender<Work>,
    spare: &Receiver<Vec<u8>>,
    stop: &AtomicU32,
    base: Pos,
) -> Option<Located> {
    if work
        .send(Work {
            chunk: 0,
            bytes: first,
            at: first_at,
        })
        .is_err()
    {
        return None;
    }
    let mut chunk = 1;
    loop {
        if stop.load(Ordering::Relaxed) < chunk {
            return None;
        }
        let mut buf = spare.try_recv().unwrap_or_default();
        match reader.next_chunk(&mut buf) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(kind) => return Some(Located::at(Pos { chunk, ..base }, kind)),
        }
        let item = Work {
            chunk,
            bytes: buf,
            at: (0, 1),
        };
        if work.send(item).is_err() {
            return None;
        }
        chunk += 1;
    }
}

fn worker(
    mut rows: Box<dyn Rows>,
    work: &Mutex<Receiver<Work>>,
    spare: mpsc::Sender<Vec<u8>>,
    stop: &AtomicU32,
    base: Pos,
    strict: &[Col],
    limits: &super::limits::Limits,
) -> Done {
    let mut scanner = Scanner::default();
    let (mut rows_read, mut lines, mut error) = (0, Vec::new(), None);
    loop {
        let next = work.lock().map(|rx| rx.recv());
        let Ok(Ok(item)) = next else { break };
        if error.is_none() && item.chunk <= stop.load(Ordering::Relaxed) {
            let pos = Pos {
                chunk: item.chunk,
                ..base
            };
            match chunk_rows(
                &mut scanner,
                &item.bytes,
                item.at,
                pos,
                rows.as_mut(),
                strict,
                limits,
                &mut rows_read,
            ) {
                Ok(feeds) => lines.push((item.chunk, feeds)),
                Err(e) => {
                    stop.fetch_min(item.chunk, Ordering::Relaxed);
                    error = Some(e);
                }
            }
        }
        // The reader may have stopped listening; the buffer is then simply dropped.
        let _ = spare.send(item.bytes);
    }
    Done {
        rows,
        rows_read,
        lines,
        error,
    }
}
