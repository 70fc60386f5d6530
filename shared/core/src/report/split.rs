//! Cuts a text stream into chunks that end on record boundaries, so that chunks can be parsed on
//! any thread. It follows the quoting exactly as the CSV parser does (a `"` opens a quoted field
//! only at the start of a field; inside one, `""` is a quote and `"` closes it), looking only at
//! quote bytes, and cuts after the last line feed outside quotes. A record that never ends is
//! stopped at the record limit; a chunk that holds no boundary grows until it does.

use super::delimiters::Quotes;
use super::error::{ErrorKind, StreamError};
use std::io::{self, Read};

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
    input: &'r mut (dyn Read + Send),
    /// Bytes after the last cut, already followed by `state`.
    carry: Vec<u8>,
    state: Quoting,
    eof: bool,
    chunk_bytes: usize,
    max_record: u64,
    /// Out-of-quotes stretches of the buffer being cut, as (start, end).
    outside: Vec<(usize, usize)>,
}

impl<'r> Splitter<'r> {
    pub fn new(input: &'r mut (dyn Read + Send), chunk_bytes: usize, max_record: u64) -> Self {
        Self {
            input,
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
            filled += read_full(self.input, &mut buf[filled..want], &mut self.eof)?;
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
        let mut s = Splitter::new(&mut r, size, 1 << 20);
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
        let mut s = Splitter::new(&mut r, 100, 1_000);
        let mut buf = Vec::new();
        let err = s.next_into(&mut buf).unwrap_err();
        assert!(
            err.to_string().contains("record longer than 1000 bytes"),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Every chunk parses on its own into exactly the records the whole input holds.
        #[test]
        fn chunks_hold_whole_records(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r')],
                0..80),
            size in 1usize..12,
        ) {
            let got = chunks(&bytes, size);
            prop_assert_eq!(got.concat(), bytes.clone());
            let pieces: Vec<_> = got.iter().flat_map(|c| records(c)).collect();
            prop_assert_eq!(pieces, records(&bytes));
        }
    }
}
