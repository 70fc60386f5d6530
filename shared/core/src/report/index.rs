//! The scanner's fast path: a structural index of a chunk, 64 bytes at a time. Each block's quote,
//! comma and terminator bits give the quoted stretches (a prefix XOR of the quote bits), so the
//! separators outside quotes are found without looking at a byte twice, and a record's fields are
//! only cut when the row logic asks for them.
//!
//! It reads only regular CSV: every quote opens a field or closes it (followed by a separator, the
//! end, or a second quote that escapes it), no line break inside quotes, no quote left open. At
//! the first block that is not regular it stops, and the exact scanner goes on from the last
//! record it gave (every record before that block reads the same either way: CSV is read left to
//! right). The differential tests in `scan.rs` hold both paths to the `csv` crate.

use super::delimiters::{masks64, Masks};

/// How a block's masks are found: [`Baseline`] everywhere, [`Avx2`] where the CPU has it.
trait Masker {
    fn masks(block: &[u8; 64]) -> Masks;

    /// Bit `i` is the XOR of bits `0..=i`.
    #[inline(always)]
    fn prefix_xor(mut x: u64) -> u64 {
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        x
    }
}

struct Baseline;

impl Masker for Baseline {
    #[inline(always)]
    fn masks(block: &[u8; 64]) -> Masks {
        masks64(block)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Masker for Avx2 {
    #[inline(always)]
    fn masks(block: &[u8; 64]) -> Masks {
        // SAFETY: only used by `Index::refill_avx2`, which runs once AVX2 was detected.
        unsafe { super::delimiters::masks64_avx2(block) }
    }

    /// One carry-less multiplication by all ones.
    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        use std::arch::x86_64::{
            _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set1_epi8, _mm_set_epi64x,
        };
        // SAFETY: only used by `Index::refill_avx2`, which runs once PCLMULQDQ was detected.
        unsafe {
            let product = _mm_clmulepi64_si128::<0>(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1));
            _mm_cvtsi128_si64(product) as u64
        }
    }
}

/// AVX2, PCLMULQDQ, POPCNT and BMI1 are there (checked once; the standard library caches it).
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("pclmulqdq")
        && std::is_x86_feature_detected!("popcnt")
        && std::is_x86_feature_detected!("bmi1")
}

/// A field taken from the record's own buffer: (field index, start, end) in that buffer.
pub(super) type Unescaped = (u32, u32, u32);

/// The quoting state carried from one block to the next.
#[derive(Debug, Clone, Copy, Default)]
struct Carry {
    /// All ones while inside quotes.
    inside: u64,
    /// The last byte was a separator or a closing quote (a quote may open after it): 0 or 1.
    enabler: u64,
    /// The last byte was a closing quote (the next one must be a separator or an escaped quote).
    close: u64,
}

/// What one block holds, once it is known to be regular.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    /// Separators outside quotes: commas and terminators.
    sep: u64,
    /// Terminators outside quotes.
    term: u64,
    /// Quotes that escape the quote before them (`""`), to drop when a field is unescaped.
    escape: u64,
}

/// One block of `len` bytes (64 but at the end): its separators, or `None` when it is not
/// regular. `last` says no block follows.
#[inline(always)]
fn block<M: Masker>(m: Masks, len: u32, last: bool, carry: &mut Carry) -> Option<Block> {
    let valid = if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    };
    let (quote, term) = (m.quote & valid, m.term & valid);
    let inside = M::prefix_xor(quote) ^ carry.inside;
    let opens = quote & inside;
    let closes = quote & !inside;
    let sep = ((m.comma & valid) | term) & !inside;
    let enabler = sep | closes;
    // What may follow a closing quote: a separator, an escaped quote or (at the end) nothing.
    let follows = sep | opens;
    let mut unchecked = closes & !(follows >> 1);
    if len >= 64 {
        unchecked &= !(1 << 63);
    }
    if last && len > 0 {
        unchecked &= !(1 << (len - 1));
    }
    let irregular = (term & inside)
        | (opens & !((enabler << 1) | carry.enabler))
        | unchecked
        | (carry.close & !follows & u64::from(len > 0));
    if irregular != 0 {
        return None;
    }
    let escape = opens & ((closes << 1) | carry.close);
    *carry = Carry {
        inside: 0u64.wrapping_sub(inside >> 63),
        enabler: (enabler >> 63) & 1,
        close: (closes >> 63) & 1,
    };
    Some(Block { sep, term, escape })
}

/// Bytes indexed per refill: small enough that the index stays in the cache, large enough to
/// hold several records.
const BATCH: usize = 4096;

/// The index of one chunk, built a batch at a time ahead of the records read from it.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// Separator positions, in order; the last of each record is its terminator.
    seps: Vec<u32>,
    /// For each terminator, its place in `seps`.
    ends: Vec<u32>,
    escapes: Vec<u32>,
    /// The next byte to index.
    next: usize,
    carry: Carry,
    done: bool,
    /// Cursors of the records read so far.
    sep_at: usize,
    end_at: usize,
    escape_at: usize,
    /// Tests: use the baseline masks even where AVX2 is there. (Test builds only: elsewhere
    /// the masks are chosen by the CPU alone.)
    #[cfg(test)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub baseline: bool,
}

/// The chunk is not regular from some block on: the exact scanner must take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Irregular;

/// One record the index found.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    /// Its first byte.
    pub start: usize,
    /// Its fields' ends, as a range of the index's separators.
    pub fields: (usize, usize),
}

impl Index {
    /// Starts indexing `chunk` at byte `at`, a record's start.
    pub fn reset(&mut self, at: usize) {
        self.seps.clear();
        self.ends.clear();
        self.escapes.clear();
        self.next = at;
        self.carry = Carry {
            inside: 0,
            enabler: 1,
            close: 0,
        };
        self.done = false;
        (self.sep_at, self.end_at, self.escape_at) = (0, 0, 0);
    }

    /// The fields' ends of a record found by [`Self::next`].
    pub fn field_ends(&self, found: &Found) -> &[u32] {
        &self.seps[found.fields.0..found.fields.1]
    }

    /// Indexes the next batch of `chunk`. At the chunk's end a last separator at its length
    /// ends a record that has no terminator.
    fn refill(&mut self, chunk: &[u8]) -> Result<(), Irregular> {
        #[cfg(target_arch = "x86_64")]
        if !self.forced_baseline() && has_avx2() {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { self.refill_avx2(chunk) };
        }
        self.refill_with::<Baseline>(chunk)
    }

    /// Whether a test asked for the baseline masks.
    #[cfg(target_arch = "x86_64")]
    fn forced_baseline(&self) -> bool {
        #[cfg(test)]
        return self.baseline;
        #[cfg(not(test))]
        false
    }

    /// [`Self::refill`] compiled for AVX2, PCLMULQDQ, POPCNT and BMI1.
    ///
    /// # Safety
    /// The CPU must have them.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    unsafe fn refill_avx2(&mut self, chunk: &[u8]) -> Result<(), Irregular> {
        self.refill_with::<Avx2>(chunk)
    }

    #[inline(always)]
    fn refill_with<M: Masker>(&mut self, chunk: &[u8]) -> Result<(), Irregular> {
        // What was read is dropped; the record in progress keeps its separators.
        self.seps.drain(..self.sep_at);
        for e in &mut self.ends[self.end_at..] {
            *e -= self.sep_at as u32;
        }
        self.ends.drain(..self.end_at);
        self.escapes.drain(..self.escape_at);
        (self.sep_at, self.end_at, self.escape_at) = (0, 0, 0);
        let stop = chunk.len().min(self.next + BATCH);
        while self.next < stop || (self.next == chunk.len() && !self.done) {
            let at = self.next;
            let len = (chunk.len() - at).min(64);
            let last = at + len == chunk.len();
            let masks = match chunk.get(at..at + 64) {
                Some(b) => M::masks(b.try_into().expect("64 bytes")),
                None => {
                    let mut padded = [b' '; 64];
                    padded[..len].copy_from_slice(&chunk[at..]);
                    M::masks(&padded)
                }
            };
            let b = block::<M>(masks, len as u32, last, &mut self.carry).ok_or(Irregular)?;
            self.push(b, at as u32);
            self.next = at + len;
            if last {
                if self.carry.inside != 0 {
                    return Err(Irregular);
                }
                self.ends.push(self.seps.len() as u32);
                self.seps.push(chunk.len() as u32);
                self.done = true;
                break;
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn push(&mut self, b: Block, base: u32) {
        let before = self.seps.len() as u32;
        let mut term = b.term;
        while term != 0 {
            let below = (term & term.wrapping_neg()) - 1;
            self.ends.push(before + (b.sep & below).count_ones());
            term &= term - 1;
        }
        // Written into the spare capacity through a local count: pushing one by one stores
        // the length back on every separator.
        self.seps.reserve(64);
        let spare = &mut self.seps.spare_capacity_mut()[..64];
        let mut sep = b.sep;
        let mut n = 0;
        while sep != 0 {
            spare[n & 63].write(base + sep.trailing_zeros());
            n += 1;
            sep &= sep - 1;
        }
        // SAFETY: the `n` slots after the length were just written (n ≤ 64 bits of `sep`).
        unsafe { self.seps.set_len(self.seps.len() + n) };
        let mut escape = b.escape;
        while escape != 0 {
            self.escapes.push(base + escape.trailing_zeros());
            escape &= escape - 1;
        }
    }

    /// The next terminator's place in `seps`, indexing more as needed; `None` at the end.
    #[inline]
    pub fn next_end(&mut self, chunk: &[u8]) -> Result<Option<(usize, usize)>, Irregular> {
        while self.end_at >= self.ends.len() {
            if self.done {
                return Ok(None);
            }
            self.refill(chunk)?;
        }
        let e = self.ends[self.end_at] as usize;
        Ok(Some((e, self.seps[e] as usize)))
    }

    /// Steps past the terminator [`Self::next_end`] gave, `e`.
    #[inline]
    pub fn pass(&mut self, e: usize) {
        self.sep_at = e + 1;
        self.end_at += 1;
    }

    /// The record from `start` to its terminator at `seps[e]`; unescapes its fields that hold
    /// `""` into `owned`, listing them in `unescaped`.
    pub fn take(
        &mut self,
        chunk: &[u8],
        start: usize,
        e: usize,
        owned: &mut Vec<u8>,
        unescaped: &mut Vec<Unescaped>,
    ) -> Found {
        let fields = (self.sep_at, e + 1);
        let end = self.seps[e] as usize;
        owned.clear();
        unescaped.clear();
        let first = self.escape_at;
        while self.escape_at < self.escapes.len() && (self.escapes[self.escape_at] as usize) < end {
            self.escape_at += 1;
        }
        if first < self.escape_at {
            let ends = &self.seps[fields.0..fields.1];
            let mut field = 0;
            for &q in &self.escapes[first..self.escape_at] {
                while ends[field] < q {
                    field += 1;
                }
                if unescaped.last().is_some_and(|u| u.0 == field as u32) {
                    continue;
                }
                let from = if field == 0 {
                    start
                } else {
                    ends[field - 1] as usize + 1
                };
                let to = ends[field] as usize;
                let begin = owned.len() as u32;
                // A field with an escape is quoted: its content is between the outer quotes.
                let mut prev_quote = false;
                for &byte in &chunk[from + 1..to - 1] {
                    if byte == b'"' && prev_quote {
                        prev_quote = false;
                        continue;
                    }
                    prev_quote = byte == b'"';
                    owned.push(byte);
                }
                unescaped.push((field as u32, begin, owned.len() as u32));
            }
        }
        self.pass(e);
        Found { start, fields }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_of(text: &[u8]) -> Option<Vec<Block>> {
        let mut carry = Carry {
            enabler: 1,
            ..Carry::default()
        };
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let len = (text.len() - at).min(64);
            let mut padded = [b' '; 64];
            padded[..len].copy_from_slice(&text[at..at + len]);
            let last = at + len == text.len();
            out.push(block::<Baseline>(
                masks64(&padded),
                len as u32,
                last,
                &mut carry,
            )?);
            at += len;
            if last {
                return Some(out);
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_carry_less_prefix_xor_is_the_shifted_one() {
        if !has_avx2() {
            return;
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            assert_eq!(Avx2::prefix_xor(x), Baseline::prefix_xor(x), "{x:#x}");
            x = x.rotate_left(7).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ (x >> 3);
        }
        assert_eq!(Avx2::prefix_xor(u64::MAX), Baseline::prefix_xor(u64::MAX));
    }

    #[test]
    fn separators_inside_quotes_are_not_separators() {
        let b = blocks_of(b"a,\"b,c\",d\n").unwrap();
        assert_eq!(b[0].sep, 1 << 1 | 1 << 7 | 1 << 9);
        assert_eq!(b[0].term, 1 << 9);
        assert_eq!(b[0].escape, 0);
    }

    #[test]
    fn escaped_quotes_are_marked_on_their_second_quote() {
        let b = blocks_of(b"\"a\"\"b\",x").unwrap();
        assert_eq!(b[0].escape, 1 << 3);
        assert_eq!(b[0].sep, 1 << 6);
    }

    fn regular(text: &[u8]) -> bool {
        let mut ix = Index::default();
        ix.reset(0);
        while !ix.done {
            if ix.refill(text).is_err() {
                return false;
            }
        }
        true
    }

    #[test]
    fn irregular_quoting_is_refused() {
        for text in [
            &b"ab\"c,d"[..],     // a quote inside an unquoted field
            b"\"a\"b,c",         // text after a closing quote
            b"\"a\nb\",c",       // a line break inside quotes
            b"a,\"never closed", // an open quote at the end
        ] {
            assert!(!regular(text), "{text:?}");
        }
        assert!(regular(b"a,\"b\"\"c\",\"\"\n\"x\""));
    }

    #[test]
    fn quoting_carries_across_blocks() {
        let mut text = vec![b'x'; 62];
        text.extend_from_slice(b",\"");
        text.extend_from_slice(b"in,side\"\"\",z\n");
        let b = blocks_of(&text).unwrap();
        assert_eq!(b[0].sep, 1 << 62);
        // `in,side""",z`: the comma inside is not a separator; the escape is the second quote.
        assert_eq!(b[1].escape, 1 << 8);
        assert_eq!(b[1].sep, 1 << 10 | 1 << 12);
    }
}
