//! The positions of `,`, LF and CR in 64 bytes, as a bit mask (bit `i` for byte `i`), with the
//! vector instructions every x86-64 machine has (SSE2); other machines use the portable search
//! in [`super::scan`].

/// The delimiter mask of `block`.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn mask64(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut mask = 0u64;
    for (i, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; the
        // unaligned load reads exactly the 16 bytes of `lane`.
        let bits = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let hit = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8)),
                    _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                ),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
            );
            _mm_movemask_epi8(hit) as u16
        };
        mask |= u64::from(bits) << (16 * i);
    }
    mask
}

/// Never called: the scanner only asks for a mask on x86-64.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(super) fn mask64(block: &[u8; 64]) -> u64 {
    block
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b',' | b'\n' | b'\r'))
        .fold(0, |m, (i, _)| m | 1 << i)
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
}
