//! The default of every `--period` flag.

use billwatch_core::period::Period;

/// This month, in UTC.
pub fn this_month() -> Period {
    Period::of(chrono::Utc::now())
}
