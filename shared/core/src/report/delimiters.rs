//! Bit masks of 64 bytes (bit `i` for byte `i`): quotes, commas and record terminators, with the
//! vector instructions every x86-64 machine has (SSE2), AVX2 where the CPU has it, and eight
//! bytes at a time elsewhere.

/// The delimiters (`,`, LF, CR) of `block`: what the exact scanner looks for.
#[inline]
pub(super) fn mask64(block: &[u8; 64]) -> u64 {
    let m = masks64(block);
    m.comma | m.term
}

/// The bytes of `block` equal to `byte`, with SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn eq_sse2(block: &[u8; 64], byte: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut mask = 0u64;
    for (i, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; the
        // unaligned load reads exactly the 16 bytes of `lane`.
        let bits = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8))) as u16
        };
        mask |= u64::from(bits) << (16 * i);
    }
    mask
}

/// Quotes, commas and record terminators (LF or CR) in 64 bytes, one bit per byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Masks {
    pub quote: u64,
    pub comma: u64,
    pub term: u64,
}

/// The masks of `block`: SSE2 on x86-64, eight bytes at a time elsewhere.
#[inline]
pub(super) fn masks64(block: &[u8; 64]) -> Masks {
    #[cfg(target_arch = "x86_64")]
    {
        masks64_sse2(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        masks64_swar(block)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn masks64_sse2(block: &[u8; 64]) -> Masks {
    Masks {
        quote: eq_sse2(block, b'"'),
        comma: eq_sse2(block, b','),
        term: eq_sse2(block, b'\n') | eq_sse2(block, b'\r'),
    }
}

/// The masks of `block` with AVX2: two 32-byte lanes.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(super) unsafe fn masks64_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    // SAFETY: the caller promises AVX2; the unaligned loads read the block's two halves.
    unsafe {
        let lo = _mm256_loadu_si256(block.as_ptr().cast::<__m256i>());
        let hi = _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>());
        let bits = |byte: u8| {
            let b = _mm256_set1_epi8(byte as i8);
            let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, b)) as u32;
            let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, b)) as u32;
            u64::from(l) | (u64::from(h) << 32)
        };
        let (lf, cr) = (_mm256_set1_epi8(b'\n' as i8), _mm256_set1_epi8(b'\r' as i8));
        let tl = _mm256_or_si256(_mm256_cmpeq_epi8(lo, lf), _mm256_cmpeq_epi8(lo, cr));
        let th = _mm256_or_si256(_mm256_cmpeq_epi8(hi, lf), _mm256_cmpeq_epi8(hi, cr));
        let term = u64::from(_mm256_movemask_epi8(tl) as u32)
            | (u64::from(_mm256_movemask_epi8(th) as u32) << 32);
        // Opaque to the optimiser: left to itself, LLVM takes the masks for vectors of bits and
        // unpacks them bit by bit (five times the instructions).
        std::hint::black_box(Masks {
            quote: bits(b'"'),
            comma: bits(b','),
            term,
        })
    }
}

/// The quotes of 64 bytes, one bit per byte.
#[inline]
fn quotes64(block: &[u8; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        eq_sse2(block, b'"')
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        masks64_swar(block).quote
    }
}

/// The positions of the quotes in `bytes`, in order: a mask per 64 bytes, then its bits (cheaper
/// than a search per quote when quotes are frequent, as in CSV).
pub(super) struct Quotes<'a> {
    bytes: &'a [u8],
    /// The start of the block `mask` is of, and its quotes not yet given.
    block: usize,
    mask: u64,
}

impl<'a> Quotes<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut q = Self {
            bytes,
            block: 0,
            mask: 0,
        };
        q.load();
        q
    }

    #[inline]
    fn load(&mut self) {
        let at = self.block;
        self.mask = match self.bytes.get(at..at + 64) {
            Some(b) => quotes64(b.try_into().expect("64 bytes")),
            None if at < self.bytes.len() => {
                let mut padded = [0u8; 64];
                padded[..self.bytes.len() - at].copy_from_slice(&self.bytes[at..]);
                quotes64(&padded)
            }
            None => 0,
        };
    }
}

impl Iterator for Quotes<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.block += 64;
            if self.block >= self.bytes.len() {
                return None;
            }
            self.load();
        }
        let i = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.block + i)
    }
}

/// The portable masks: exact zero-byte tests on eight bytes at a time, gathered into bits.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
pub(super) fn masks64_swar(block: &[u8; 64]) -> Masks {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const ONES: u64 = 0x0101_0101_0101_0101;
    /// 0x80 in each byte of `v` that is zero, and only there.
    #[inline(always)]
    fn zero_bytes(v: u64) -> u64 {
        !(((v & LOW7).wrapping_add(LOW7)) | v | LOW7)
    }
    /// One bit per byte from the high bits of `hi` (byte `i` to bit `i`).
    #[inline(always)]
    fn gather(hi: u64) -> u64 {
        ((hi >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }
    let (mut quote, mut comma, mut term) = (0u64, 0u64, 0u64);
    for (i, word) in block.chunks_exact(8).enumerate() {
        let v = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let q = zero_bytes(v ^ (ONES * u64::from(b'"')));
        let c = zero_bytes(v ^ (ONES * u64::from(b',')));
        let t =
            zero_bytes(v ^ (ONES * u64::from(b'\n'))) | zero_bytes(v ^ (ONES * u64::from(b'\r')));
        quote |= gather(q) << (8 * i);
        comma |= gather(c) << (8 * i);
        term |= gather(t) << (8 * i);
    }
    Masks { quote, comma, term }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_mask_marks_exactly_the_delimiters(bytes in proptest::array::uniform32(any::<u8>()), more in proptest::array::uniform32(prop_oneof![Just(b','), Just(b'\n'), Just(b'\r'), any::<u8>()])) {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&bytes);
            block[32..].copy_from_slice(&more);
            let want = block.iter().enumerate().filter(|(_, b)| matches!(b, b',' | b'\n' | b'\r')).fold(0u64, |m, (i, _)| m | 1 << i);
            prop_assert_eq!(mask64(&block), want);
        }
    }

    fn plain_masks(block: &[u8; 64]) -> Masks {
        let bits = |f: &dyn Fn(u8) -> bool| {
            block
                .iter()
                .enumerate()
                .filter(|(_, &b)| f(b))
                .fold(0u64, |m, (i, _)| m | 1 << i)
        };
        Masks {
            quote: bits(&|b| b == b'"'),
            comma: bits(&|b| b == b','),
            term: bits(&|b| b == b'\n' || b == b'\r'),
        }
    }

    proptest! {
        #[test]
        fn quotes_are_found_in_order(bytes in proptest::collection::vec(prop_oneof![Just(b'"'), any::<u8>()], 0..300)) {
            let want: Vec<usize> = bytes.iter().enumerate().filter(|(_, &b)| b == b'"').map(|(i, _)| i).collect();
            prop_assert_eq!(Quotes::new(&bytes).collect::<Vec<_>>(), want);
        }

        #[test]
        fn both_masks_mark_exactly_quotes_commas_and_terminators(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'), any::<u8>()],
                64,
            )
        ) {
            let block: [u8; 64] = bytes.try_into().expect("64 bytes");
            let want = plain_masks(&block);
            prop_assert_eq!(masks64(&block), want);
            prop_assert_eq!(masks64_swar(&block), want);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                prop_assert_eq!(unsafe { masks64_avx2(&block) }, want);
            }
        }
    }
}
