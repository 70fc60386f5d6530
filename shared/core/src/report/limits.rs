//! Hard limits that keep a hostile or runaway report from exhausting memory or disk,
//! and the `Read` guards that enforce them while streaming.

use super::error::{ErrorKind, StreamError};
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Caps applied to every object read. All are configurable (CLI flags, Lambda environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes after decompression, per object.
    pub max_decompressed_bytes: u64,
    /// Decompressed ÷ compressed, once past [`Limits::RATIO_GRACE_BYTES`].
    pub max_ratio: u64,
    /// Entries in one zip archive.
    pub max_zip_entries: usize,
    /// Bytes in one CSV record (a runaway line or an unterminated quote).
    pub max_record_bytes: u64,
    /// Bytes of a manifest (JSON is read whole, so it is capped tightly).
    pub max_manifest_bytes: u64,
    /// Compressed bytes spooled to a temporary file when a zip arrives as a stream.
    pub max_spool_bytes: u64,
    /// Parts one manifest may list (checked before any part is opened).
    pub max_manifest_parts: usize,
    /// Threads that read one object's chunks, or a manifest's parts, at once (1: this thread
    /// only). Memory grows with it: about two 1 MiB chunks per thread.
    pub threads: usize,
    /// Bytes of text per chunk handed to a thread (a chunk also ends on a record boundary).
    pub chunk_bytes: usize,
    /// Bytes of one key cell (account, service code, currency, payer, record type, ids, dates,
    /// amounts), measured as the text it is stored as (invalid UTF-8 escaped). Three key texts
    /// and two separators must fit a DynamoDB sort key (1,024 bytes) with room to spare.
    pub max_text_bytes: usize,
    /// Distinct (account, service, currency) totals one summary may hold: what the memory they
    /// are summed in allows (unbounded by default; the Lambda sets it from its memory).
    pub max_keys: usize,
    /// The memory `max_keys` was worked out from, in MB, named in the error (0: none given).
    pub max_keys_memory_mb: u32,
}

impl Limits {
    /// Decompressed bytes allowed before the ratio is enforced, so tiny files never trip it.
    pub const RATIO_GRACE_BYTES: u64 = 1 << 20;

    /// Memory one distinct total takes while a report is summarized and stored, in bytes: the
    /// ledger's key (about 250 bytes, docs/scale.md "Many keys") and the total built from it
    /// with its daily series and the items stored (a margin over what was measured).
    pub const BYTES_PER_KEY: u64 = 2048;

    /// Memory kept aside from the keys for everything else (the runtime, the chunks, the SDK's
    /// clients and buffers: reading in parallel from S3 holds up to 16 MiB per stream), in MB.
    pub const BASE_MB: u64 = 160;

    /// The most distinct totals a function of `memory_mb` MB holds ([`Self::BYTES_PER_KEY`]
    /// each, past [`Self::BASE_MB`]).
    pub fn keys_for_memory(memory_mb: u32) -> usize {
        let spare = u64::from(memory_mb).saturating_sub(Self::BASE_MB) << 20;
        (spare / Self::BYTES_PER_KEY) as usize
    }

    /// The memory, in MB, that holds `keys` distinct totals (the inverse of
    /// [`Self::keys_for_memory`], rounded up to a multiple of 64 MB).
    pub fn memory_for_keys(keys: usize) -> u64 {
        let mb = Self::BASE_MB + (keys as u64 * Self::BYTES_PER_KEY).div_ceil(1 << 20);
        mb.div_ceil(64) * 64
    }

    /// Whether `keys` distinct totals are within [`Self::max_keys`]; if not, the error says how
    /// many there are, the limit and how to raise it.
    pub fn check_keys(&self, keys: usize) -> Result<(), ErrorKind> {
        if keys <= self.max_keys {
            return Ok(());
        }
        let memory = match self.max_keys_memory_mb {
            0 => String::new(),
            mb => format!(" at the function's {mb} MB of memory"),
        };
        Err(ErrorKind::Limit(format!(
            "the report has more than {} distinct (account, service, currency) totals ({keys} \
             read so far): at most {} fit{memory} (about {} bytes each); it was not summarized. \
             Raise the ingest function's memory (MemorySize in template.yaml) to at least {} MB \
             for {} totals, and deliver the report again",
            self.max_keys,
            self.max_keys,
            Self::BYTES_PER_KEY,
            Self::memory_for_keys(keys.max(self.max_keys) * 2),
            keys.max(self.max_keys) * 2,
        )))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 64 << 30,
            max_ratio: 200,
            max_zip_entries: 16,
            max_record_bytes: 1 << 20,
            max_manifest_bytes: 16 << 20,
            max_spool_bytes: 16 << 30,
            max_manifest_parts: 10_000,
            max_text_bytes: 320,
            chunk_bytes: 1 << 20,
            max_keys: usize::MAX,
            max_keys_memory_mb: 0,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Counts the bytes read through it; the count is shared with whoever holds the handle.
/// A byte count shared between the reader that counts and the one that checks the ratio (which
/// may run on another thread: see `report::read_ahead`).
#[derive(Debug, Clone, Default)]
pub struct Count(Arc<AtomicU64>);

impl Count {
    pub fn new(start: u64) -> Self {
        Self(Arc::new(AtomicU64::new(start)))
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }
}

pub struct Counting<R> {
    inner: R,
    count: Count,
}

impl<R: Read> Counting<R> {
    pub fn new(inner: R) -> (Self, Count) {
        let count = Count::new(0);
        (
            Self {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.add(n as u64);
        Ok(n)
    }
}

/// Sits on top of a decoder: maps the decoder's own errors to `on_error`, and stops the stream
/// once the decompressed size or the compression ratio passes its cap.
pub struct Inflated<R> {
    inner: R,
    produced: u64,
    compressed: Count,
    limits: Limits,
    on_error: fn(String) -> ErrorKind,
}

impl<R: Read> Inflated<R> {
    /// `compressed` is the number of compressed bytes consumed so far (a [`Counting`] handle,
    /// or a fixed declared size).
    pub fn new(
        inner: R,
        compressed: Count,
        limits: Limits,
        on_error: fn(String) -> ErrorKind,
    ) -> Self {
        Self {
            inner,
            produced: 0,
            compressed,
            limits,
            on_error,
        }
    }
}

impl<R: Read> Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                if e.get_ref().is_some_and(|r| r.is::<StreamError>()) {
                    return Err(e);
                }
                return Err(StreamError::io((self.on_error)(e.to_string())));
            }
        };
        self.produced += n as u64;
        if self.produced > self.limits.max_decompressed_bytes {
            return Err(StreamError::io(ErrorKind::Limit(format!(
                "decompressed size over {} bytes",
                self.limits.max_decompressed_bytes
            ))));
        }
        let compressed = self.compressed.get().max(1);
        if self.produced > Limits::RATIO_GRACE_BYTES
            && self.produced / compressed > self.limits.max_ratio
        {
            return Err(StreamError::io(ErrorKind::Limit(format!(
                "compression ratio over {}:1",
                self.limits.max_ratio
            ))));
        }
        Ok(n)
    }
}

/// Refuses to read past `max` bytes (used for manifests and spooled archives).
pub fn read_capped(mut reader: impl Read, max: u64, what: &str) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    (&mut reader).take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(StreamError::io(ErrorKind::Limit(format!(
            "{what} over {max} bytes"
        ))));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_shares_its_count() {
        let (mut r, count) = Counting::new(&b"hello"[..]);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(count.get(), 5);
    }

    #[test]
    fn inflated_stops_at_the_decompressed_cap() {
        let limits = Limits {
            max_decompressed_bytes: 10,
            ..Limits::default()
        };
        let data = [b'a'; 100];
        let mut r = Inflated::new(&data[..], Count::new(100), limits, ErrorKind::CorruptGzip);
        let err = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert_eq!(
            StreamError::kind_of(&err),
            ErrorKind::Limit("decompressed size over 10 bytes".into())
        );
    }

    #[test]
    fn inflated_stops_at_the_ratio_cap_past_the_grace() {
        let limits = Limits {
            max_ratio: 10,
            ..Limits::default()
        };
        let data = vec![b'a'; 3 << 20];
        let mut r = Inflated::new(&data[..], Count::new(1000), limits, ErrorKind::CorruptGzip);
        let err = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert_eq!(
            StreamError::kind_of(&err),
            ErrorKind::Limit("compression ratio over 10:1".into())
        );
    }

    #[test]
    fn read_capped_refuses_oversized_input() {
        assert_eq!(read_capped(&b"abc"[..], 3, "x").unwrap(), b"abc");
        let err = read_capped(&b"abcd"[..], 3, "manifest").unwrap_err();
        assert!(StreamError::kind_of(&err)
            .to_string()
            .contains("manifest over 3 bytes"));
    }
}
