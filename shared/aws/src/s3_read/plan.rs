//! Which objects are read in byte ranges, and which ranges: pure planning, no I/O.
//!
//! The defaults weigh S3's guidance for large GETs (ranges of 8–16 MB, one concurrent request
//! per ~85–90 MB/s wanted) against the memory a stream may hold (16 MiB); docs/scale.md
//! ("Reading from S3") has the arithmetic and the local measurement.

/// How large objects are read: byte ranges of `range_size`, at most `in_flight` of them held at
/// once (downloading, or downloaded and waiting for the reader, or being read), so a stream
/// buffers at most `range_size × in_flight` bytes. Objects of at most `threshold` bytes are
/// read with one plain GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangedReads {
    pub threshold: u64,
    pub range_size: u64,
    pub in_flight: usize,
}

impl Default for RangedReads {
    /// 4 × 4 MiB: 16 MiB of buffers per stream. With the buffers fixed, a stream reads about
    /// `16 MiB / (first-byte latency + range / 85 MB/s)`, so four ranges of 4 MiB outrun two of
    /// 8 MiB (S3's lower bound) by a third to a half at S3's first-byte latencies; see
    /// docs/scale.md. An object of up to 16 MiB takes one plain GET: one stream reads it in a
    /// fraction of a second, and splitting it would only add requests.
    fn default() -> Self {
        Self {
            threshold: 16 << 20,
            range_size: 4 << 20,
            in_flight: 4,
        }
    }
}

/// One range of an object: `len` bytes from `start` (never empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub len: u64,
}

impl ByteRange {
    /// The HTTP `Range` header value (`bytes=first-last`, inclusive).
    pub fn header(&self) -> String {
        format!("bytes={}-{}", self.start, self.start + self.len - 1)
    }
}

impl RangedReads {
    /// Ranges of this size, at most this many held at once, for objects over `threshold`.
    /// Zero sizes are raised to 1 (a range of 0 bytes is not a range).
    pub fn new(threshold: u64, range_size: u64, in_flight: usize) -> Self {
        Self {
            threshold,
            range_size: range_size.max(1),
            in_flight: in_flight.max(1),
        }
    }

    /// Whether an object of `len` bytes is read in ranges (rather than with one GET).
    pub fn is_ranged(&self, len: u64) -> bool {
        len > self.threshold
    }

    /// The ranges that cover `len` bytes, in order: every one `range_size` long but the last.
    pub fn ranges(&self, len: u64) -> Ranges {
        Ranges {
            next: 0,
            len,
            size: self.range_size.max(1),
        }
    }

    /// The most bytes one stream holds in buffers.
    pub fn max_buffered(&self) -> u64 {
        self.range_size * self.in_flight as u64
    }
}

/// The ranges of one object, in order.
#[derive(Debug, Clone)]
pub struct Ranges {
    next: u64,
    len: u64,
    size: u64,
}

impl Iterator for Ranges {
    type Item = ByteRange;

    fn next(&mut self) -> Option<ByteRange> {
        if self.next >= self.len {
            return None;
        }
        let start = self.next;
        let len = self.size.min(self.len - start);
        self.next = start + len;
        Some(ByteRange { start, len })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.len - self.next).div_ceil(self.size) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Ranges {}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(len: u64, size: u64) -> Vec<(u64, u64)> {
        RangedReads::new(0, size, 2)
            .ranges(len)
            .map(|r| (r.start, r.len))
            .collect()
    }

    #[test]
    fn ranges_cover_the_object_exactly_once_in_order() {
        assert_eq!(plan(0, 4), []);
        assert_eq!(plan(1, 4), [(0, 1)]);
        assert_eq!(plan(3, 4), [(0, 3)]);
        assert_eq!(plan(4, 4), [(0, 4)]);
        assert_eq!(plan(5, 4), [(0, 4), (4, 1)]);
        assert_eq!(plan(12, 4), [(0, 4), (4, 4), (8, 4)]);
        for len in 0..200 {
            for size in 1..20 {
                let ranges = plan(len, size);
                assert_eq!(ranges.len() as u64, len.div_ceil(size));
                assert_eq!(RangedReads::new(0, size, 1).ranges(len).len(), ranges.len());
                let mut at = 0;
                for (start, n) in ranges {
                    assert_eq!(start, at);
                    assert!(n >= 1 && n <= size);
                    at += n;
                }
                assert_eq!(at, len);
            }
        }
    }

    #[test]
    fn range_headers_are_inclusive() {
        assert_eq!(ByteRange { start: 0, len: 1 }.header(), "bytes=0-0");
        assert_eq!(
            ByteRange {
                start: 8 << 20,
                len: 8 << 20
            }
            .header(),
            "bytes=8388608-16777215"
        );
    }

    #[test]
    fn only_objects_over_the_threshold_are_ranged() {
        let reads = RangedReads::default();
        assert!(!reads.is_ranged(0));
        assert!(!reads.is_ranged(16 << 20));
        assert!(reads.is_ranged((16 << 20) + 1));
        assert!(reads.max_buffered() <= 16 << 20);
        let tiny = RangedReads::new(0, 0, 0);
        assert_eq!((tiny.range_size, tiny.in_flight), (1, 1));
        assert!(!tiny.is_ranged(0) && tiny.is_ranged(1));
    }

    #[test]
    fn huge_objects_plan_lazily() {
        let mut ranges = RangedReads::new(0, 8 << 20, 2).ranges(5 << 40);
        assert_eq!(ranges.len(), 5 << 40 >> 23);
        assert_eq!(
            ranges.next(),
            Some(ByteRange {
                start: 0,
                len: 8 << 20
            })
        );
    }
}
