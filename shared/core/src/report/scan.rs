//! The CSV record scanner: RFC 4180 as the `csv` crate reads it (its defaults: `,`, `"` with
//! doubled quotes, CR, LF or CRLF ending a record, blank lines skipped, ragged rows allowed, text
//! after a closing quote kept), over a chunk of bytes that holds whole records. It finds field
//! bounds with vectorised searches and copies nothing but the rare field that needs unescaping.
//! A differential test holds it to the `csv` crate on random input.

use super::index::{Found, Index, Irregular, Unescaped};
use super::record::{Indexed, Pos, Record, OWNED};

/// One record found by [`Scanner::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scanned {
    /// The line the record starts on (1-based from the chunk's first byte, blank lines skipped).
    pub line: u64,
    /// Bytes from the end of the previous record (or the scan start) to the end of this one,
    /// its terminator included: what a record costs to hold.
    pub length: u64,
    /// A quoted field holds a line break (CR or LF).
    pub breaks: bool,
    /// The input ended inside a quoted field opened on this line: the field swallowed the rest.
    pub unterminated: Option<u64>,
}

/// Scans records out of one chunk. Reused from chunk to chunk: its buffers keep their capacity.
#[derive(Debug, Default)]
pub(super) struct Scanner {
    bounds: Vec<(u32, u32)>,
    owned: Vec<u8>,
    at: usize,
    line: u64,
    /// The delimiters (`,`, LF, CR) of the 64 bytes from `block`, one bit each, while `blocked`.
    block: usize,
    mask: u64,
    blocked: bool,
    /// The fast path ([`super::index`]) is reading this chunk; `found` is its last record.
    fast: bool,
    index: Index,
    found: Option<Found>,
    unescaped: Vec<Unescaped>,
    /// Tests: use the portable search even where a vectorised one exists.
    #[cfg(test)]
    portable: bool,
}

#[inline]
fn count_lf(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The first `,`, LF or CR: eight bytes at a time (fields are short, so this beats a vectorised
/// search that must be set up for each of them).
#[inline]
fn find_delimiter(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    #[inline(always)]
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let v = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let hits = zero_bytes(v ^ (ONES * u64::from(b',')))
            | zero_bytes(v ^ (ONES * u64::from(b'\n')))
            | zero_bytes(v ^ (ONES * u64::from(b'\r')));
        if hits != 0 {
            // The lowest flagged byte is always a true match (borrows only run upward).
            return Some(base + (hits.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| matches!(b, b',' | b'\n' | b'\r'))
        .map(|k| base + k)
}

impl Scanner {
    /// Starts at byte `at` of the next chunk, which is on line `line`. The chunk must not change
    /// until the next reset.
    pub fn reset(&mut self, at: usize, line: u64) {
        self.reset_exact(at, line);
        self.fast = true;
        self.index.reset(at);
    }

    /// Starts at byte `at` of a chunk that may still grow at its end (the header's), with the
    /// exact scanner only.
    pub fn reset_exact(&mut self, at: usize, line: u64) {
        self.at = at;
        self.line = line;
        self.blocked = false;
        self.fast = false;
        self.found = None;
    }

    /// Whether the chunk is still read by the fast path (tests check that it is used).
    #[cfg(test)]
    pub fn is_fast(&self) -> bool {
        self.fast
    }

    /// The next record from the index: skips blank lines, then takes the record up to the next
    /// terminator. On [`Irregular`], `at` and `line` are at the start of the next record.
    #[inline]
    fn next_indexed(&mut self, chunk: &[u8]) -> Result<Option<Scanned>, Irregular> {
        let len = chunk.len();
        let begin = self.at;
        loop {
            let Some((e, end)) = self.index.next_end(chunk)? else {
                return Ok(None);
            };
            if end == self.at {
                if end >= len {
                    return Ok(None);
                }
                self.line += u64::from(chunk[end] == b'\n');
                self.at = end + 1;
                self.index.pass(e);
                continue;
            }
            let line = self.line;
            let found = self
                .index
                .take(chunk, self.at, e, &mut self.owned, &mut self.unescaped);
            self.at = if end < len {
                self.line += u64::from(chunk[end] == b'\n');
                end + 1
            } else {
                len
            };
            self.found = Some(found);
            return Ok(Some(Scanned {
                line,
                length: (self.at - begin) as u64,
                breaks: false,
                unterminated: None,
            }));
        }
    }

    /// The first `,`, LF or CR at or after `at`: from a bit mask of 64 bytes at a time where the
    /// machine has one (x86-64), else eight bytes at a time.
    #[inline]
    fn next_delimiter(&mut self, chunk: &[u8], mut at: usize) -> Option<usize> {
        #[cfg(test)]
        let vectorised = !self.portable;
        #[cfg(not(test))]
        let vectorised = true;
        if vectorised && cfg!(target_arch = "x86_64") {
            loop {
                if !self.blocked || at < self.block || at >= self.block + 64 {
                    let Some(block) = chunk.get(at..at + 64) else {
                        break;
                    };
                    self.block = at;
                    self.mask = super::delimiters::mask64(block.try_into().expect("64 bytes"));
                    self.blocked = true;
                }
                let bits = self.mask & (u64::MAX << (at - self.block));
                if bits != 0 {
                    return Some(self.block + bits.trailing_zeros() as usize);
                }
                at = self.block + 64;
            }
        }
        find_delimiter(&chunk[at..]).map(|k| at + k)
    }

    /// Where the next record would start, and the line there.
    pub fn at(&self) -> (usize, u64) {
        (self.at, self.line)
    }

    /// The record [`Self::next`] last found.
    pub fn record<'a>(&'a self, chunk: &'a [u8], pos: Pos) -> Record<'a> {
        match &self.found {
            Some(found) => Record::indexed(
                chunk,
                &self.owned,
                Indexed {
                    start: found.start as u32,
                    ends: self.index.field_ends(found),
                    unescaped: &self.unescaped,
                },
                pos,
            ),
            None => Record::new(chunk, &self.owned, &self.bounds, pos),
        }
    }

    /// The next record of `chunk`, or `None` once only line breaks remain. The chunk must end at a
    /// record boundary or at the end of the input.
    pub fn next(&mut self, chunk: &[u8]) -> Option<Scanned> {
        if self.fast {
            match self.next_indexed(chunk) {
                Ok(found) => return found,
                Err(Irregular) => {
                    self.fast = false;
                    self.found = None;
                }
            }
        }
        let len = chunk.len();
        let begin = self.at;
        let mut at = self.at;
        // Blank lines (and a CRLF's LF) between records are skipped.
        while at < len && matches!(chunk[at], b'\n' | b'\r') {
            self.line += u64::from(chunk[at] == b'\n');
            at += 1;
        }
        if at >= len {
            self.at = at;
            return None;
        }
        self.bounds.clear();
        self.owned.clear();
        let line = self.line;
        let mut breaks = false;
        let mut unterminated = None;
        loop {
            if at < len && chunk[at] == b'"' {
                let opened_on = self.line;
                match self.quoted(chunk, at + 1) {
                    Quoted::Closed { after, lf, cr } => {
                        breaks |= lf > 0 || cr;
                        self.line += lf;
                        at = after;
                    }
                    Quoted::Open { lf } => {
                        breaks = true;
                        self.line += lf;
                        unterminated = Some(opened_on);
                        at = len;
                        break;
                    }
                }
            } else {
                let end = self.next_delimiter(chunk, at).unwrap_or(len);
                self.bounds.push((at as u32, end as u32));
                at = end;
            }
            // `at` is on the byte after the field: a delimiter, a terminator or the end.
            if at < len && chunk[at] == b',' {
                at += 1;
                continue;
            }
            break;
        }
        // The terminator: CR, LF or CRLF (a CRLF's LF is skipped with the blank lines above).
        if at < len {
            self.line += u64::from(chunk[at] == b'\n');
            at += 1;
        }
        self.at = at;
        Some(Scanned {
            line,
            length: (at - begin) as u64,
            breaks,
            unterminated,
        })
    }

    /// A quoted field whose opening quote is just before `start`: pushes its bounds and finds the
    /// byte after it. Text after the closing quote (up to a delimiter or a terminator) belongs to
    /// the field, as the `csv` crate reads it.
    fn quoted(&mut self, chunk: &[u8], start: usize) -> Quoted {
        let len = chunk.len();
        let mut p = start;
        let mut escaped = false;
        let close = loop {
            match memchr::memchr(b'"', &chunk[p..]) {
                None => {
                    let lf = count_lf(&chunk[start..]);
                    self.push_quoted(chunk, start, len, escaped, len);
                    return Quoted::Open { lf };
                }
                Some(k) if p + k + 1 < len && chunk[p + k + 1] == b'"' => {
                    escaped = true;
                    p += k + 2;
                }
                Some(k) => break p + k,
            }
        };
        let content = &chunk[start..close];
        let (lf, cr) = match memchr::memchr2(b'\n', b'\r', content) {
            None => (0, false),
            Some(_) => (count_lf(content), memchr::memchr(b'\r', content).is_some()),
        };
        let mut after = close + 1;
        let mut tail_end = after;
        if after < len && !matches!(chunk[after], b',' | b'\n' | b'\r') {
            tail_end = self.next_delimiter(chunk, after).unwrap_or(len);
        }
        self.push_quoted(chunk, start, close, escaped, tail_end);
        after = tail_end;
        Quoted::Closed { after, lf, cr }
    }

    /// Pushes a quoted field: `chunk[start..close]` with `""` read as `"`, then the text from
    /// after the closing quote to `tail_end`. Borrowed from the chunk when nothing changes.
    fn push_quoted(
        &mut self,
        chunk: &[u8],
        start: usize,
        close: usize,
        escaped: bool,
        tail_end: usize,
    ) {
        let tail = if close < chunk.len() {
            close + 1
        } else {
            close
        };
        if !escaped && tail >= tail_end {
            self.bounds.push((start as u32, close as u32));
            return;
        }
        let from = self.owned.len();
        let content = &chunk[start..close];
        if escaped {
            let mut i = 0;
            while i < content.len() {
                match memchr::memchr(b'"', &content[i..]) {
                    Some(k) => {
                        self.owned.extend_from_slice(&content[i..i + k + 1]);
                        // The quote that escapes it is skipped.
                        i += k + 2;
                    }
                    None => {
                        self.owned.extend_from_slice(&content[i..]);
                        break;
                    }
                }
            }
        } else {
            self.owned.extend_from_slice(content);
        }
        if tail < tail_end {
            self.owned.extend_from_slice(&chunk[tail..tail_end]);
        }
        self.bounds
            .push((from as u32 | OWNED, self.owned.len() as u32));
    }
}

enum Quoted {
    /// Closed: `after` is the byte after the field (closing quote and any trailing text).
    Closed { after: usize, lf: u64, cr: bool },
    /// The input ended inside the quotes.
    Open { lf: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan_all(input: &[u8]) -> Vec<(u64, Vec<Vec<u8>>, bool)> {
        scan_with(input, false)
    }

    fn scan_with(input: &[u8], portable: bool) -> Vec<(u64, Vec<Vec<u8>>, bool)> {
        let mut s = Scanner {
            portable,
            ..Scanner::default()
        };
        s.reset(0, 1);
        let mut out = Vec::new();
        while let Some(found) = s.next(input) {
            let r = s.record(input, Pos::default());
            out.push((
                found.line,
                r.iter().map(<[u8]>::to_vec).collect(),
                found.unterminated.is_some(),
            ));
        }
        out
    }

    /// The `csv` crate's records, each with the line its first byte is on (counted here, since the
    /// crate's own position points at the end of the previous record).
    fn csv_records(input: &[u8]) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut out = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while reader.read_byte_record(&mut rec).unwrap() {
            let from = rec.position().unwrap().byte() as usize;
            let mut first = from;
            while first < input.len() && matches!(input[first], b'\n' | b'\r') {
                first += 1;
            }
            let line = 1 + count_lf(&input[..first]);
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    #[test]
    fn plain_quoted_escaped_and_trailing_text() {
        let input = b"a,\"b,c\",\"d\"\"e\"\r\n\n\"f\"g,,\"h\nh\"\nlast";
        let got = scan_all(input);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, 1);
        assert_eq!(
            got[0].1,
            vec![b"a".to_vec(), b"b,c".to_vec(), b"d\"e".to_vec()]
        );
        assert_eq!(got[1].0, 3);
        assert_eq!(
            got[1].1,
            vec![b"fg".to_vec(), b"".to_vec(), b"h\nh".to_vec()]
        );
        assert_eq!(got[2].0, 5);
        assert_eq!(got[2].1, vec![b"last".to_vec()]);
    }

    #[test]
    fn an_open_quote_at_the_end_is_flagged_with_its_line() {
        let mut s = Scanner::default();
        s.reset(0, 1);
        let input = b"h1,h2\nx,\"never\nclosed";
        assert_eq!(s.next(input).unwrap().unterminated, None);
        let found = s.next(input).unwrap();
        assert_eq!(found.unterminated, Some(2));
        assert!(s.next(input).is_none());
    }

    #[test]
    fn lengths_cover_the_input() {
        let input = b"\n\na,b\r\nc\n";
        let mut s = Scanner::default();
        s.reset(0, 1);
        let one = s.next(input).unwrap();
        let two = s.next(input).unwrap();
        assert!(s.next(input).is_none());
        assert_eq!(one.length + two.length, input.len() as u64);
    }

    #[test]
    fn the_delimiter_search_finds_the_first() {
        for (hay, want) in [
            (&b"abcdefgh,"[..], Some(8)),
            (b"abc,def\n", Some(3)),
            (b"abcdefghijklmnop\r", Some(16)),
            (b"\x81\x82,,", Some(2)),
            (b"\xac\xac\xac\xac\xac\xac\xac\xac\n", Some(8)),
            (b"plain", None),
            (b"", None),
        ] {
            assert_eq!(find_delimiter(hay), want, "{hay:?}");
        }
    }

    /// Regular CSV (every quote opens or closes a field, no line break inside quotes): fields
    /// plain or quoted, with commas and `""` inside, records ended by LF, CRLF or CR, blank lines.
    fn regular_csv() -> impl Strategy<Value = Vec<u8>> {
        let plain =
            proptest::collection::vec(prop_oneof![Just(b'a'), Just(b' '), Just(b'7')], 0..6);
        let quoted = proptest::collection::vec(
            prop_oneof![
                Just(&b"b"[..]),
                Just(&b","[..]),
                Just(&b"\"\""[..]),
                Just(&b" "[..])
            ],
            0..5,
        )
        .prop_map(|parts| [&b"\""[..], &parts.concat(), b"\""].concat());
        let field = prop_oneof![3 => plain, 1 => quoted];
        let record = proptest::collection::vec(field, 1..8).prop_map(|f| f.join(&b","[..]));
        let end = prop_oneof![
            Just(&b"\n"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\r"[..]),
            Just(&b"\n\n"[..])
        ];
        (
            proptest::collection::vec((record, end), 0..40),
            any::<bool>(),
        )
            .prop_map(|(recs, last)| {
                let mut out: Vec<u8> = recs
                    .into_iter()
                    .flat_map(|(r, e)| [r, e.to_vec()].concat())
                    .collect();
                if last && out.ends_with(b"\n") {
                    out.pop();
                }
                out
            })
    }

    #[test]
    fn regular_text_stays_on_the_fast_path_and_irregular_text_leaves_it_where_it_starts() {
        let mut s = Scanner::default();
        let mut input = b"a,\"b,c\",\"d\"\"e\"\n".repeat(20);
        s.reset(0, 1);
        while s.next(&input).is_some() {}
        assert!(s.is_fast());
        input.extend_from_slice(b"x,y\"z\nlast,\"q\"\n");
        let got = scan_all(&input);
        assert_eq!(got.len(), 22);
        assert_eq!(
            got[19].1,
            vec![b"a".to_vec(), b"b,c".to_vec(), b"d\"e".to_vec()]
        );
        assert_eq!(
            (got[20].0, &got[20].1),
            (21, &vec![b"x".to_vec(), b"y\"z".to_vec()])
        );
        assert_eq!(
            (got[21].0, &got[21].1),
            (22, &vec![b"last".to_vec(), b"q".to_vec()])
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn regular_text_reads_as_the_csv_crate_reads_it_on_the_fast_path(
            bytes in regular_csv(),
            times in prop_oneof![3 => Just(1usize), 1 => 2..40usize],
        ) {
            // Repeated (as whole records), the text spans several of the index's batches.
            let mut bytes = bytes;
            if times > 1 {
                bytes.push(b'\n');
            }
            let bytes = bytes.repeat(times);
            let want = csv_records(&bytes);
            for baseline in [false, true] {
                let mut s = Scanner::default();
                s.index.baseline = baseline;
                s.reset(0, 1);
                let mut ours = Vec::new();
                while let Some(found) = s.next(&bytes) {
                    let r = s.record(&bytes, Pos::default());
                    ours.push((found.line, r.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()));
                }
                prop_assert!(s.is_fast());
                prop_assert_eq!(&ours, &want);
            }
        }

        #[test]
        fn the_delimiter_search_agrees_with_a_plain_one(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(find_delimiter(&bytes), bytes.iter().position(|&b| matches!(b, b',' | b'\n' | b'\r')));
        }

        #[test]
        fn reads_what_the_csv_crate_reads(
            bytes in proptest::collection::vec(
                prop_oneof![6 => Just(b'a'), 1 => Just(b','), 1 => Just(b'"'), 1 => Just(b'\n'), 1 => Just(b'\r'), 1 => Just(b' ')],
                0..300)
        ) {
            let want = csv_records(&bytes);
            for portable in [false, true] {
                let ours: Vec<_> = scan_with(&bytes, portable).into_iter().map(|(l, f, _)| (l, f)).collect();
                prop_assert_eq!(&ours, &want);
            }
        }
    }
}
