//! Whether one function can read a report in the time it has left: pure arithmetic over the
//! report's compressed size, the time left, the function's memory setting and the engine's
//! measured throughput. A report that cannot be read in time fails at once, naming the memory
//! setting that would fit, instead of timing out half-way.

use std::fmt;
use std::time::Duration;

/// Lambda's CPU share: 1 vCPU at 1,769 MB, 6 vCPUs at 10,240 MB, proportional in between (and
/// below: 0.5 vCPU at 884 MB).
pub const ONE_VCPU_MB: u32 = 1_769;
pub const MAX_MEMORY_MB: u32 = 10_240;
pub const MIN_MEMORY_MB: u32 = 128;
const MAX_MILLI_VCPU: u64 = 6_000;
/// The longest a Lambda invocation may run.
const MAX_TIMEOUT: Duration = Duration::from_secs(900);

/// Reading may take this share of the time left; the rest stores the totals and sends the
/// alerts (12 of Lambda's 15 minutes, the envelope docs/scale.md states).
pub const READ_SHARE_PERCENT: u64 = 80;

/// Gzip-compressed bytes the engine reads per second on one vCPU, conservatively: measured
/// with `billwatch summarize --json` on a generated CUR (see docs/scale.md, "Reading from S3" →
/// "Time to read a report"). Update it with that measurement when the engine gets faster.
pub const GZIP_BYTES_PER_VCPU_SECOND: u64 = 30_000_000;

/// Parts of a manifest the engine reads at the same time: one per core (`Limits::threads`, every
/// core the function has), so up to Lambda's 6 vCPUs. A single gzip part is counted as one vCPU
/// (its inflate runs on one thread), which is conservative: its rows are parsed on the others.
pub const PARALLEL_PARTS: u32 = 6;

/// How fast the engine reads: the model's two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRate {
    pub gzip_bytes_per_vcpu_second: u64,
    pub parallel_parts: u32,
}

impl Default for ReadRate {
    fn default() -> Self {
        Self {
            gzip_bytes_per_vcpu_second: GZIP_BYTES_PER_VCPU_SECOND,
            parallel_parts: PARALLEL_PARTS,
        }
    }
}

/// Thousandths of a vCPU at a memory setting.
pub fn milli_vcpu(memory_mb: u32) -> u64 {
    let mb = u64::from(memory_mb.min(MAX_MEMORY_MB));
    let one = u64::from(ONE_VCPU_MB);
    if mb <= one {
        mb * 1_000 / one
    } else {
        let span = u64::from(MAX_MEMORY_MB) - one;
        (1_000 + (mb - one) * (MAX_MILLI_VCPU - 1_000) / span).min(MAX_MILLI_VCPU)
    }
}

/// What one function reads in `available` at `memory_mb`, in compressed bytes.
fn capacity(parts: u32, available: Duration, memory_mb: u32, rate: ReadRate) -> u64 {
    let streams = u64::from(parts.min(rate.parallel_parts).max(1));
    let vcpu = milli_vcpu(memory_mb).min(streams * 1_000);
    let bytes =
        u128::from(rate.gzip_bytes_per_vcpu_second) * u128::from(vcpu) * available.as_millis()
            / 1_000_000;
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// The part of `remaining` that reading may take.
pub fn read_share(remaining: Duration) -> Duration {
    let ms = remaining.as_millis() * u128::from(READ_SHARE_PERCENT) / 100;
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// Whether `bytes` of compressed report in `parts` parts can be read by a function of
/// `memory_mb` with `remaining` time left. Exactly at capacity fits.
pub fn check(
    bytes: u64,
    parts: u32,
    remaining: Duration,
    memory_mb: u32,
    rate: ReadRate,
) -> Result<(), TooLarge> {
    let available = read_share(remaining);
    if bytes <= capacity(parts, available, memory_mb, rate) {
        return Ok(());
    }
    let at_max = capacity(parts, available, MAX_MEMORY_MB, rate);
    let needs = if bytes > at_max {
        Needs::MoreThanOneFunction { max_bytes: at_max }
    } else {
        // The smallest setting that fits (capacity grows with memory).
        let (mut low, mut high) = (memory_mb.clamp(MIN_MEMORY_MB, MAX_MEMORY_MB), MAX_MEMORY_MB);
        while low < high {
            let mid = low + (high - low) / 2;
            if bytes <= capacity(parts, available, mid, rate) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        Needs::Memory(high)
    };
    Err(TooLarge {
        bytes,
        parts,
        remaining,
        available,
        memory_mb,
        rate: bytes_per_second(parts, memory_mb, rate),
        needs,
    })
}

fn bytes_per_second(parts: u32, memory_mb: u32, rate: ReadRate) -> u64 {
    capacity(parts, Duration::from_secs(1), memory_mb, rate)
}

/// The least reading time worth starting the anomaly pass's second read with: with less, its
/// alerts go without the breakdown of what moved.
pub const MIN_SECOND_READ: Duration = Duration::from_secs(1);

/// How the anomaly pass's second read of a report (what moved) may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondRead {
    /// No deadline (tests, local runs): read without a limit.
    Unlimited,
    /// Read, and give up at this time: the same share of the time left as the first read had
    /// ([`read_share`]), so storing the totals and sending the alerts keep theirs.
    Until(std::time::SystemTime),
    /// Too little time is left: the alerts go without the breakdown.
    NoTime,
}

impl SecondRead {
    /// When the read gives up, if it has a limit.
    pub fn stop(self) -> Option<std::time::SystemTime> {
        match self {
            SecondRead::Until(stop) => Some(stop),
            SecondRead::Unlimited | SecondRead::NoTime => None,
        }
    }
}

/// The second read's budget, at `now`, in an invocation that ends at `deadline` (if any).
pub fn second_read(
    deadline: Option<std::time::SystemTime>,
    now: std::time::SystemTime,
) -> SecondRead {
    let Some(deadline) = deadline else {
        return SecondRead::Unlimited;
    };
    let remaining = deadline.duration_since(now).unwrap_or(Duration::ZERO);
    match read_share(remaining) {
        share if share < MIN_SECOND_READ => SecondRead::NoTime,
        share => SecondRead::Until(now + share),
    }
}

/// What would let the report be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// This memory setting (MB), the smallest that reads it in time.
    Memory(u32),
    /// Even the largest function reads only `max_bytes` in the time: the report must be split
    /// across functions.
    MoreThanOneFunction { max_bytes: u64 },
}

/// A report too large for the time one function has left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    pub bytes: u64,
    pub parts: u32,
    pub remaining: Duration,
    /// The share of `remaining` reading may take.
    pub available: Duration,
    pub memory_mb: u32,
    /// Compressed bytes per second this function reads.
    pub rate: u64,
    pub needs: Needs,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vcpu = milli_vcpu(self.memory_mb);
        write!(
            f,
            "the report is {} of compressed data in {} part{}: at {} MB of memory ({}.{:02} vCPU) \
             the function reads about {}/s, which takes {} s, but it has {} s for reading ({}% \
             of the {} s left in this invocation); it was not read",
            size(self.bytes),
            self.parts,
            if self.parts == 1 { "" } else { "s" },
            self.memory_mb,
            vcpu / 1_000,
            vcpu % 1_000 / 10,
            size(self.rate),
            self.bytes.div_ceil(self.rate.max(1)),
            self.available.as_secs(),
            READ_SHARE_PERCENT,
            self.remaining.as_secs(),
        )?;
        match self.needs {
            Needs::Memory(mb) => write!(
                f,
                ". Set the function's memory (MemorySize) to at least {mb} MB and deliver the \
                 report again"
            )?,
            Needs::MoreThanOneFunction { max_bytes } => write!(
                f,
                ". Even at {MAX_MEMORY_MB} MB one function reads only {} in that time: a report \
                 this large does not fit in one function (see docs/scale.md for reading it \
                 across several)",
                size(max_bytes)
            )?,
        }
        if self.remaining < MAX_TIMEOUT {
            write!(
                f,
                "; a longer timeout (Lambda allows {} s) also gives it more time",
                MAX_TIMEOUT.as_secs()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for TooLarge {}

/// `1.23 GB` (decimal units, as S3 and the console show sizes), from integers.
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "kB"),
    ];
    for (unit, name) in UNITS {
        if bytes >= unit {
            let hundredths = u128::from(bytes) * 100 / u128::from(unit);
            return format!("{}.{:02} {name}", hundredths / 100, hundredths % 100);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: ReadRate = ReadRate {
        gzip_bytes_per_vcpu_second: 1_000_000,
        parallel_parts: 6,
    };
    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn vcpus_follow_memory() {
        assert_eq!(milli_vcpu(ONE_VCPU_MB), 1_000);
        assert_eq!(milli_vcpu(MAX_MEMORY_MB), 6_000);
        assert_eq!(milli_vcpu(20_000), 6_000);
        assert_eq!(milli_vcpu(884), 499);
        assert_eq!(milli_vcpu(128), 72);
        let mut last = 0;
        for mb in MIN_MEMORY_MB..=MAX_MEMORY_MB {
            let v = milli_vcpu(mb);
            assert!(v >= last, "{mb}");
            last = v;
        }
    }

    #[test]
    fn reading_gets_four_fifths_of_the_time_left() {
        assert_eq!(
            read_share(Duration::from_secs(900)),
            Duration::from_secs(720)
        );
        assert_eq!(read_share(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn exactly_at_capacity_fits_one_byte_more_does_not() {
        // 1 vCPU × 1 MB/s × 48 s (80% of a minute) = 48 MB.
        let at = 48_000_000;
        assert_eq!(check(at, 6, MINUTE, ONE_VCPU_MB, RATE), Ok(()));
        let err = check(at + 1, 6, MINUTE, ONE_VCPU_MB, RATE).unwrap_err();
        assert_eq!(err.available, Duration::from_secs(48));
        assert_eq!(err.rate, 1_000_000);
        let Needs::Memory(mb) = err.needs else {
            panic!("{err}")
        };
        assert!(mb > ONE_VCPU_MB && mb < ONE_VCPU_MB + 10, "{mb}");
        assert_eq!(check(at + 1, 6, MINUTE, mb, RATE), Ok(()));
        assert!(check(at + 1, 6, MINUTE, mb - 1, RATE).is_err());
    }

    #[test]
    fn the_suggested_memory_is_the_smallest_that_fits() {
        for bytes in [10_000_000u64, 48_000_001, 100_000_000, 250_000_000] {
            let Err(e) = check(bytes, 6, MINUTE, 512, RATE) else {
                continue;
            };
            let Needs::Memory(mb) = e.needs else {
                panic!("{e}")
            };
            assert_eq!(check(bytes, 6, MINUTE, mb, RATE), Ok(()), "{bytes}");
            assert!(check(bytes, 6, MINUTE, mb - 1, RATE).is_err(), "{bytes}");
        }
    }

    #[test]
    fn more_than_the_largest_function_points_past_one_function() {
        // 6 vCPU × 1 MB/s × 48 s = 288 MB at most.
        let err = check(288_000_001, 6, MINUTE, 512, RATE).unwrap_err();
        assert_eq!(
            err.needs,
            Needs::MoreThanOneFunction {
                max_bytes: 288_000_000
            }
        );
        let text = err.to_string();
        assert!(text.contains("does not fit in one function"), "{text}");
        assert!(text.contains("docs/scale.md"), "{text}");
        assert_eq!(check(288_000_000, 6, MINUTE, MAX_MEMORY_MB, RATE), Ok(()));
    }

    #[test]
    fn parts_read_one_after_another_use_one_vcpu() {
        let serial = ReadRate {
            parallel_parts: 1,
            ..RATE
        };
        // More memory than 1 vCPU's does not help a serial reader.
        assert!(check(48_000_001, 6, MINUTE, MAX_MEMORY_MB, serial).is_err());
        assert_eq!(
            check(48_000_001, 6, MINUTE, 512, serial).unwrap_err().needs,
            Needs::MoreThanOneFunction {
                max_bytes: 48_000_000
            }
        );
        // …and neither does parallelism beyond the parts there are.
        assert!(check(48_000_001, 1, MINUTE, MAX_MEMORY_MB, RATE).is_err());
        assert_eq!(check(96_000_000, 2, MINUTE, MAX_MEMORY_MB, RATE), Ok(()));
    }

    #[test]
    fn the_error_names_size_time_and_memory() {
        let err = check(
            12_345_678_901,
            3,
            Duration::from_secs(300),
            512,
            ReadRate::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        for part in [
            "a longer timeout (Lambda allows 900 s)",
            "12.34 GB of compressed data in 3 parts",
            "at 512 MB of memory (0.28 vCPU)",
            "240 s for reading",
            "300 s left",
        ] {
            assert!(text.contains(part), "{part} not in: {text}");
        }
    }

    #[test]
    fn the_second_read_gets_the_read_share_of_what_is_left_or_nothing() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(second_read(None, now), SecondRead::Unlimited);
        // 80% of the 100 s left: the rest stores the totals and sends the alerts.
        assert_eq!(
            second_read(Some(now + Duration::from_secs(100)), now),
            SecondRead::Until(now + Duration::from_secs(80))
        );
        // 1.25 s left: exactly the least worth starting (80% of it is 1 s).
        assert_eq!(
            second_read(Some(now + Duration::from_millis(1_250)), now),
            SecondRead::Until(now + MIN_SECOND_READ)
        );
        // Less, none, or past: the alert goes without the breakdown.
        for left in [1_249, 1, 0] {
            let deadline = now + Duration::from_millis(left);
            assert_eq!(
                second_read(Some(deadline), now),
                SecondRead::NoTime,
                "{left}"
            );
        }
        assert_eq!(
            second_read(Some(now - Duration::from_secs(5)), now),
            SecondRead::NoTime
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(1_000), "1.00 kB");
        assert_eq!(size(12_345_678_901), "12.34 GB");
        assert_eq!(size(u64::MAX), "18446744.07 TB");
    }
}

/// The invocation's deadline when it is one Lambda could have set: at least
/// [`MIN_INVOCATION`] after the invocation started. Lambda's shortest timeout is 1 s and the
/// handler starts as the invocation does, so a deadline already (nearly) past is a local
/// emulator's placeholder (`cargo lambda watch` sends one), not a budget to read in: reading
/// is then not limited, as in tests.
pub fn usable_deadline(
    deadline: std::time::SystemTime,
    now: std::time::SystemTime,
) -> Option<std::time::SystemTime> {
    match deadline.duration_since(now) {
        Ok(left) if left >= MIN_INVOCATION => Some(deadline),
        _ => {
            tracing::warn!(
                "the invocation's deadline is already past when it starts: not Lambda's; \
                 reading without a time budget"
            );
            None
        }
    }
}

/// Lambda's shortest function timeout.
pub const MIN_INVOCATION: std::time::Duration = std::time::Duration::from_secs(1);

#[cfg(test)]
mod deadline_tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn a_deadline_already_past_at_the_start_is_not_a_budget() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            usable_deadline(now + Duration::from_secs(300), now),
            Some(now + Duration::from_secs(300))
        );
        assert_eq!(
            usable_deadline(now + Duration::from_secs(1), now),
            Some(now + Duration::from_secs(1))
        );
        assert_eq!(usable_deadline(now + Duration::from_millis(200), now), None);
        assert_eq!(usable_deadline(now - Duration::from_secs(5), now), None);
    }
}
