//! Hard limits that keep a hostile or runaway report from exhausting memory or disk,
//! and the `Read` guards that enforce them while streaming.

use super::error::{ErrorKind, StreamError};
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

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
    /// Bytes of one key cell (account, service code, currency, payer, record type, ids, dates,
    /// amounts), measured as the text it is stored as (invalid UTF-8 escaped). Three key texts
    /// and two separators must fit a DynamoDB sort key (1,024 bytes) with room to spare.
    pub max_text_bytes: usize,
}

impl Limits {
    /// Decompressed bytes allowed before the ratio is enforced, so tiny files never trip it.
    pub const RATIO_GRACE_BYTES: u64 = 1 << 20;
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
        }
    }
}

/// Counts the bytes read through it; the count is shared with whoever holds the handle.
pub struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Counting<R> {
    pub fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
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
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Sits on top of a decoder: maps the decoder's own errors to `on_error`, and stops the stream
/// once the decompressed size or the compression ratio passes its cap.
pub struct Inflated<R> {
    inner: R,
    produced: u64,
    compressed: Rc<Cell<u64>>,
    limits: Limits,
    on_error: fn(String) -> ErrorKind,
}

impl<R: Read> Inflated<R> {
    /// `compressed` is the number of compressed bytes consumed so far (a [`Counting`] handle,
    /// or a fixed declared size).
    pub fn new(
        inner: R,
        compressed: Rc<Cell<u64>>,
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

/// Caps the bytes of one CSV record. The parser owns a read buffer of `slack` bytes, so the
/// guard allows that much on top of the cap; the driver moves `record_start` after each record.
///
/// It also follows the quoting the way the CSV parser does (a `"` opens a quoted field only at
/// the start of a field; inside one, `""` is a quote and `"` closes it), so that it can tell
/// when the input ends inside a quoted field: the parser itself silently ends the field there,
/// swallowing every row after the opening quote. Only the quote bytes are looked at.
pub struct RecordGuard<R> {
    inner: R,
    delivered: u64,
    record_start: Rc<Cell<u64>>,
    max_record_bytes: u64,
    slack: u64,
    quote: QuoteTracker,
    unterminated: Rc<Cell<bool>>,
}

/// What the driver reads back from a [`RecordGuard`].
pub struct GuardHandles {
    /// Byte offset where the current record starts (set by the driver).
    pub record_start: Rc<Cell<u64>>,
    /// Set once the input has ended inside a quoted field.
    pub unterminated_quote: Rc<Cell<bool>>,
}

impl<R: Read> RecordGuard<R> {
    pub fn new(inner: R, max_record_bytes: u64, slack: u64) -> (Self, GuardHandles) {
        let record_start = Rc::new(Cell::new(0));
        let unterminated = Rc::new(Cell::new(false));
        (
            Self {
                inner,
                delivered: 0,
                record_start: record_start.clone(),
                max_record_bytes,
                slack,
                quote: QuoteTracker::default(),
                unterminated: unterminated.clone(),
            },
            GuardHandles {
                record_start,
                unterminated_quote: unterminated,
            },
        )
    }
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pending = self.delivered.saturating_sub(self.record_start.get());
        if pending > self.max_record_bytes + self.slack {
            return Err(StreamError::io(ErrorKind::Limit(format!(
                "record longer than {} bytes",
                self.max_record_bytes
            ))));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.unterminated.set(self.quote.inside());
        }
        self.quote.feed(&buf[..n]);
        self.delivered += n as u64;
        Ok(n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Outside a quoted field.
    Out,
    /// Inside a quoted field.
    In,
    /// Inside, just after a `"`: the next byte tells an escaped quote from the closing one.
    QuoteSeen,
}

/// Follows RFC 4180 quoting as `csv_core` does (quote `"`, doubled quotes, `,` and CR/LF).
#[derive(Debug, Clone, Copy)]
struct QuoteTracker {
    state: Quoting,
    /// The last byte seen while outside quotes (a field starts after `,`, CR, LF or the start).
    prev: u8,
}

impl Default for QuoteTracker {
    fn default() -> Self {
        Self {
            state: Quoting::Out,
            prev: b'\n',
        }
    }
}

impl QuoteTracker {
    fn inside(&self) -> bool {
        self.state == Quoting::In
    }

    fn feed(&mut self, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            match self.state {
                Quoting::QuoteSeen => {
                    if buf[i] == b'"' {
                        self.state = Quoting::In;
                        i += 1;
                    } else {
                        // The field's closing quote: the byte is read again, outside.
                        self.state = Quoting::Out;
                        self.prev = b'"';
                    }
                }
                Quoting::In => match find_quote(&buf[i..]) {
                    Some(k) => {
                        i += k + 1;
                        self.state = Quoting::QuoteSeen;
                    }
                    None => i = buf.len(),
                },
                Quoting::Out => match find_quote(&buf[i..]) {
                    Some(k) => {
                        let at = i + k;
                        let before = if at > i { buf[at - 1] } else { self.prev };
                        if matches!(before, b',' | b'\n' | b'\r') {
                            self.state = Quoting::In;
                        }
                        self.prev = b'"';
                        i = at + 1;
                    }
                    None => {
                        self.prev = buf[buf.len() - 1];
                        i = buf.len();
                    }
                },
            }
        }
    }
}

/// The index of the first `"`, eight bytes at a time.
#[inline]
fn find_quote(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ QUOTES;
        let zero = v.wrapping_sub(ONES) & !v & HIGH;
        if zero != 0 {
            return Some(base + (zero.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"')
        .map(|k| base + k)
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
        let mut r = Inflated::new(
            &data[..],
            Rc::new(Cell::new(100)),
            limits,
            ErrorKind::CorruptGzip,
        );
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
        let mut r = Inflated::new(
            &data[..],
            Rc::new(Cell::new(1000)),
            limits,
            ErrorKind::CorruptGzip,
        );
        let err = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert_eq!(
            StreamError::kind_of(&err),
            ErrorKind::Limit("compression ratio over 10:1".into())
        );
    }

    #[test]
    fn record_guard_trips_when_a_record_never_ends() {
        let data = vec![b'x'; 10_000];
        let (mut g, start) = RecordGuard::new(&data[..], 100, 0);
        let mut buf = [0u8; 64];
        let mut total = 0;
        let err = loop {
            match g.read(&mut buf) {
                Ok(0) => panic!("guard never tripped"),
                Ok(n) => total += n,
                Err(e) => break e,
            }
        };
        assert!(total <= 164, "{total}");
        assert!(StreamError::kind_of(&err)
            .to_string()
            .contains("record longer than 100"));
        // Moving the record start lets reading continue.
        start.record_start.set(total as u64);
        assert!(g.read(&mut buf).is_ok());
    }

    fn ends_quoted(text: &[u8], split: usize) -> bool {
        let mut q = QuoteTracker::default();
        let split = split.min(text.len());
        q.feed(&text[..split]);
        q.feed(&text[split..]);
        q.inside()
    }

    #[test]
    fn the_quote_tracker_follows_csv_quoting() {
        let closed: [&[u8]; 7] = [
            b"a,b\n1,2\n",
            b"\"a\",\"b\"\n\"1\",\"2\"",
            b"\"x\"\"y\",\"\"\"\"\n",
            b"ab\"c,5\" disk\n",
            b"\"two\nlines\",x\r\n\"\"\n",
            b"\"a\"b\"c,d\n",
            b"x, \"y\n",
        ];
        let open: [&[u8]; 5] = [
            b"a,\"b\n1,2\n",
            b"\"a",
            b"1,\"x\"\"\n2,3\n",
            b"1,2\r\"x,y",
            b"\"a\"\"\"\"",
        ];
        for text in closed {
            for split in 0..=text.len() {
                assert!(
                    !ends_quoted(text, split),
                    "{:?} / {split}",
                    String::from_utf8_lossy(text)
                );
            }
        }
        for text in open {
            for split in 0..=text.len() {
                assert!(
                    ends_quoted(text, split),
                    "{:?} / {split}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn find_quote_finds_the_first() {
        for n in 0..40 {
            let mut v = vec![b'a'; 40];
            if n < 40 {
                v[n] = b'"';
                if n + 3 < 40 {
                    v[n + 3] = b'"';
                }
            }
            assert_eq!(find_quote(&v), Some(n));
        }
        assert_eq!(find_quote(&[b'a'; 17]), None);
        assert_eq!(find_quote(&[0xa2; 9]), None);
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
