//! Cuts a text stream into chunks that end on record boundaries, so that chunks can be parsed on
//! any thread. It follows the quoting exactly as the CSV parser does (a `"` opens a quoted field
//! only at the start of a field; inside one, `""` is a quote and `"` closes it), looking only at
//! quote bytes, and cuts after the last line feed outside quotes. A record that never ends is
//! stopped at the record limit; a chunk that holds no boundary grows until it does.

use super::delimiters::Quotes;
use super::error::{ErrorKind, StreamError};
use memmap2::{Mmap, UncheckedAdvice};
use std::io::{self, Read};

/// The text a splitter cuts: a stream, or a local file mapped into memory, whose chunks are
/// handed out in place ([`Splitter::next_mapped`]) instead of copied. Either reads as a stream.
pub enum Text<'r> {
    Stream(&'r mut (dyn Read + Send)),
    /// The whole file, and where the text not yet read starts.
    Mapped {
        map: &'r Mmap,
        at: usize,
    },
}

impl<'t> Text<'t> {
    /// The same text, borrowed for less long (next to a file name that lives less long).
    pub fn shorten<'r>(self) -> Text<'r>
    where
        't: 'r,
    {
        match self {
            Text::Stream(input) => Text::Stream(input),
            Text::Mapped { map, at } => Text::Mapped { map, at },
        }
    }
}

impl Read for Text<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Text::Stream(input) => input.read(out),
            Text::Mapped { map, at } => {
                let n = (&map[*at..]).read(out)?;
                *at += n;
                Ok(n)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Outside a quoted field; `prev` is the byte before the next one (a field starts after
    /// `,`, CR, LF or at the start).
    Out {
        prev: u8,
    },
    In,
    /// Inside, just after a `"`: the next byte tells an escaped quote from the closing one.
    QuoteSeen,
}

pub(super) struct Splitter<'r> {
    input: Text<'r>,
    /// Bytes after the last cut, already followed by `state`.
    carry: Vec<u8>,
    state: Quoting,
    eof: bool,
    chunk_bytes: usize,
    max_record: u64,
    /// Out-of-quotes stretches of the buffer being cut, as (start, end).
    outside: Vec<(usize, usize)>,
    /// Of a mapped text: the bytes before this offset are given back to the system.
    released: usize,
}

/// Mapped bytes before every chunk still being read are given back in steps of this many
/// (each chunk's own pages go back as soon as it is read).
const RELEASE_STEP: usize = 1 << 20;

impl<'r> Splitter<'r> {
    pub fn new(input: Text<'r>, chunk_bytes: usize, max_record: u64) -> Self {
        Self {
            input,
            released: 0,
            carry: Vec::new(),
            state: Quoting::Out { prev: b'\n' },
            eof: false,
            chunk_bytes: chunk_bytes.max(1),
            max_record,
            outside: Vec::new(),
        }
    }

    /// Fills `buf` with the next chunk: whole records, or the rest of the input at its end.
    /// `Ok(false)` once the input is exhausted. A reused `buf` is overwritten in place, so its
    /// bytes are not zeroed again.
    pub fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        let carry = self.carry.len();
        if buf.len() < carry {
            buf.resize(carry, 0);
        }
        buf[..carry].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut filled = carry;
        let mut scanned = carry;
        loop {
            if self.eof {
                buf.truncate(filled);
                return Ok(filled > 0);
            }
            let want = filled + self.chunk_bytes;
            if buf.len() < want {
                buf.resize(want, 0);
            }
            filled += read_full(&mut self.input, &mut buf[filled..want], &mut self.eof)?;
            self.outside.clear();
            self.follow(&buf[scanned..filled], scanned);
            let cut = self.last_cut(buf);
            scanned = filled;
            match cut {
                Some(cut) => {
                    self.carry.extend_from_slice(&buf[cut..filled]);
                    buf.truncate(cut);
                    return Ok(true);
                }
                None if self.eof => {
                    buf.truncate(filled);
                    return Ok(filled > 0);
                }
                None if filled as u64 > self.max_record.saturating_add(self.chunk_bytes as u64) => {
                    return Err(StreamError::io(ErrorKind::Limit(format!(
                        "record longer than {} bytes",
                        self.max_record
                    ))));
                }
                None => {}
            }
        }
    }

    /// The next chunk of a mapped text, in place, and its offset in the file: the same chunk
    /// [`Self::next_into`] would copy out (the same cuts and errors, step by step). `None` once
    /// the text is exhausted, or when the text is a stream ([`Self::next_into`] reads that).
    pub fn next_mapped(&mut self) -> io::Result<Option<(&'r [u8], usize)>> {
        let Text::Mapped { map, at } = self.input else {
            return Ok(None);
        };
        // The carry is the bytes just before `at`, already followed.
        let start = at - self.carry.len();
        self.carry.clear();
        let mut filled = at;
        let cut = loop {
            if self.eof {
                break None;
            }
            // As `read_full`: the end is marked once a read comes back empty.
            let want = filled + self.chunk_bytes;
            self.eof = want > map.len();
            let scanned = filled;
            filled = want.min(map.len());
            self.outside.clear();
            self.follow(&map[scanned..filled], scanned);
            match self.last_cut(map) {
                Some(cut) => break Some(cut),
                None if self.eof => break None,
                None if (filled - start) as u64
                    > self.max_record.saturating_add(self.chunk_bytes as u64) =>
                {
                    return Err(StreamError::io(ErrorKind::Limit(format!(
                        "record longer than {} bytes",
                        self.max_record
                    ))));
                }
                None => {}
            }
        };
        self.input = Text::Mapped { map, at: filled };
        let end = match cut {
            // Bytes past the cut stay where they are: the next chunk starts there.
            Some(cut) => {
                self.carry.extend_from_slice(&map[cut..filled]);
                cut
            }
            None => filled,
        };
        Ok((end > start).then(|| (&map[start..end], start)))
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.input, Text::Mapped { .. })
    }

    /// Gives the pages of a mapped text before `offset` back to the system, in steps of
    /// [`RELEASE_STEP`], so that memory stays flat however large the file.
    pub fn release_before(&mut self, offset: usize) {
        if offset >= self.released + RELEASE_STEP && self.release(self.released, offset) {
            self.released = offset & !(PAGE - 1);
        }
    }

    /// Gives back the pages of a mapped text that lie wholly inside `from..to` (the bytes of a
    /// chunk that has been read). They are the file's own, still cached: reading them again
    /// would only map them again. Whether any went back.
    pub fn release(&self, from: usize, to: usize) -> bool {
        let Text::Mapped { map, .. } = &self.input else {
            return false;
        };
        let (from, to) = (from.next_multiple_of(PAGE), to & !(PAGE - 1));
        if to <= from {
            return false;
        }
        // SAFETY: the map is a read-only shared mapping of a file; dropping its pages changes
        // no byte anyone reads (a later read maps the file's page again). On a system with
        // larger pages the range grows to whole pages, with the same effect.
        let dropped =
            unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, from, to - from) };
        // Failing to give memory back is no reason to stop reading.
        dropped.is_ok()
    }

    /// Follows the quoting over `bytes` (which start at `offset` in the buffer), noting every
    /// stretch outside quotes. Only quote bytes change the state, so it visits them alone, from
    /// one vectorised search over the whole buffer.
    fn follow(&mut self, bytes: &[u8], offset: usize) {
        let len = bytes.len();
        if len == 0 {
            return;
        }
        // Where the stretch outside quotes began (while outside), and the quote that put the
        // state in `QuoteSeen` (-1: the last byte of the buffer before).
        let mut out_from = 0;
        let mut seen: isize = -1;
        for q in Quotes::new(bytes) {
            if self.state == Quoting::QuoteSeen {
                if q as isize == seen + 1 {
                    // `""` inside quotes: an escaped quote.
                    self.state = Quoting::In;
                    continue;
                }
                // That quote closed the field: outside from the byte after it.
                self.state = Quoting::Out { prev: b'"' };
                out_from = (seen + 1) as usize;
            }
            match self.state {
                Quoting::In => {
                    self.state = Quoting::QuoteSeen;
                    seen = q as isize;
                }
                Quoting::Out { prev } => {
                    // Outside, a quote opens a field only at the start of one.
                    let before = if q > out_from { bytes[q - 1] } else { prev };
                    if matches!(before, b',' | b'\n' | b'\r') {
                        self.outside.push((offset + out_from, offset + q));
                        self.state = Quoting::In;
                    } else {
                        self.state = Quoting::Out { prev: b'"' };
                    }
                }
                Quoting::QuoteSeen => unreachable!("resolved above"),
            }
        }
        if self.state == Quoting::QuoteSeen && ((seen + 1) as usize) < len {
            // A byte follows the last quote and is no quote: the field closed there.
            self.state = Quoting::Out { prev: b'"' };
            out_from = (seen + 1) as usize;
        }
        if let Quoting::Out { prev } = self.state {
            self.outside.push((offset + out_from, offset + len));
            let prev = if out_from < len { bytes[len - 1] } else { prev };
            self.state = Quoting::Out { prev };
        }
    }

    /// The offset just after the last line feed outside quotes in the stretches just followed.
    fn last_cut(&self, buf: &[u8]) -> Option<usize> {
        self.outside.iter().rev().find_map(|&(start, end)| {
            memchr::memrchr(b'\n', &buf[start..end]).map(|k| start + k + 1)
        })
    }
}

/// The smallest page size: ranges given back are rounded inward to it (and outward, by the
/// mapping, to a larger one).
const PAGE: usize = 4 << 10;

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(input: &mut dyn Read, buf: &mut [u8], eof: &mut bool) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => {
                *eof = true;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chunks(input: &[u8], size: usize) -> Vec<Vec<u8>> {
        let mut r = input;
        let mut s = Splitter::new(Text::Stream(&mut r), size, 1 << 20);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while s.next_into(&mut buf).unwrap() {
            out.push(buf.clone());
        }
        out
    }

    fn records(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        reader
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    #[test]
    fn cuts_after_line_feeds_outside_quotes() {
        let input = b"a,\"x\ny\"\nb,c\n\"q\"\"\n\",d\ne";
        let got = chunks(input, 3);
        assert_eq!(got.concat(), input.to_vec());
        for c in &got[..got.len() - 1] {
            assert_eq!(c.last(), Some(&b'\n'));
        }
        assert!(got.iter().all(|c| c != b"a,\"x\n"));
    }

    #[test]
    fn a_record_that_never_ends_is_stopped() {
        let input = vec![b'x'; 10_000];
        let mut r = &input[..];
        let mut s = Splitter::new(Text::Stream(&mut r), 100, 1_000);
        let mut buf = Vec::new();
        let err = s.next_into(&mut buf).unwrap_err();
        assert!(
            err.to_string().contains("record longer than 1000 bytes"),
            "{err}"
        );
    }

    /// Bytes of what CSV is made of, in any order.
    fn csv_bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r')],
            len,
        )
    }

    /// A chunk, or the error that ended the cutting.
    type Cut = Result<Vec<u8>, String>;

    /// Every chunk through `next_into` from a stream, then (or after `copied` chunks copied out
    /// of the map, as the header is read) through `next_mapped` in place: each chunk, its offset
    /// and the error, if any.
    fn both_ways(
        bytes: &[u8],
        size: usize,
        max_record: u64,
        copied: usize,
    ) -> (Vec<Cut>, Vec<Cut>) {
        let mut r = bytes;
        let mut s = Splitter::new(Text::Stream(&mut r), size, max_record);
        let mut streamed = Vec::new();
        let mut buf = Vec::new();
        loop {
            match s.next_into(&mut buf) {
                Ok(true) => streamed.push(Ok(buf.clone())),
                Ok(false) => break,
                Err(e) => {
                    streamed.push(Err(e.to_string()));
                    break;
                }
            }
        }
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let mut s = Splitter::new(Text::Mapped { map: &map, at: 0 }, size, max_record);
        let mut mapped = Vec::new();
        let mut offset = 0;
        for _ in 0..copied {
            match s.next_into(&mut buf) {
                Ok(true) => {
                    offset += buf.len();
                    mapped.push(Ok(buf.clone()));
                }
                Ok(false) => return (streamed, mapped),
                Err(e) => {
                    mapped.push(Err(e.to_string()));
                    return (streamed, mapped);
                }
            }
        }
        loop {
            match s.next_mapped() {
                Ok(Some((chunk, at))) => {
                    assert_eq!(at, offset, "the offset of a chunk in the map");
                    offset += chunk.len();
                    mapped.push(Ok(chunk.to_vec()));
                    // Giving pages back changes nothing read after.
                    s.release(at, at + chunk.len());
                    s.release_before(at);
                }
                Ok(None) => break,
                Err(e) => {
                    mapped.push(Err(e.to_string()));
                    break;
                }
            }
        }
        (streamed, mapped)
    }

    #[test]
    fn a_mapped_file_is_cut_as_its_stream_is() {
        let row = b"a,\"x\ny\",1.5\n";
        let text: Vec<u8> = row
            .iter()
            .copied()
            .cycle()
            .take(row.len() * 300_000)
            .collect();
        for copied in [0, 1, 3] {
            let (streamed, mapped) = both_ways(&text, 1 << 16, 1 << 20, copied);
            assert!(streamed.len() > 50);
            assert_eq!(streamed, mapped);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// In place in a map or copied from a stream: the same chunks, the same error.
        #[test]
        fn mapped_chunks_equal_streamed_ones(
            bytes in csv_bytes(1..200),
            size in 1usize..24,
            max_record in 1u64..40,
            copied in 0usize..3,
        ) {
            let (streamed, mapped) = both_ways(&bytes, size, max_record, copied);
            prop_assert_eq!(streamed, mapped);
        }

        /// Every chunk parses on its own into exactly the records the whole input holds.
        #[test]
        fn chunks_hold_whole_records(
            bytes in csv_bytes(0..80),
            size in 1usize..12,
        ) {
            let got = chunks(&bytes, size);
            prop_assert_eq!(got.concat(), bytes.clone());
            let pieces: Vec<_> = got.iter().flat_map(|c| records(c)).collect();
            prop_assert_eq!(pieces, records(&bytes));
        }
    }
}
