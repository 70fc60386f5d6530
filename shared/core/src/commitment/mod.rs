//! Commitments: Reserved Instances and Savings Plans, as a CUR's lines describe them.
//!
//! - [`figures`]: per commitment (reservation or Savings Plan ARN) its commitment to date, what
//!   was used, utilization and unused cost, its dates and terms; and coverage, per service family
//!   a commitment can cover. Exact decimals, summed from lines ([`Line`]), per day where the
//!   report is daily or hourly.
//! - [`watch`]: what a commitment budget watches (a utilization or coverage gauge, expiry), the
//!   figure it keeps per delivery and when a gauge is under its line.
//! - [`expiry`]: which commitments are near their end, a warning once per commitment and lead
//!   time.
//!
//! Definitions (`finops-costs.md`, "Commitments"): Savings Plans utilization = Σ
//! `UsedCommitment` ÷ Σ `TotalCommitmentToDate` over the `SavingsPlanRecurringFee` lines; RI
//! utilization = 1 − Σ `UnusedQuantity` ÷ Σ `TotalReservedUnits` over the `RIFee` lines (in
//! normalized units when the reservation is size-flexible), unused RI cost = unused amortized
//! upfront + unused recurring fee; coverage = covered usage ÷ eligible usage, at on-demand cost
//! for Savings Plans and in hours for reservations.

pub mod digest_line;
pub mod expiry;
pub mod figures;
pub mod watch;

pub use figures::{Commitment, CommitmentKind, Commitments, Coverage, Family, Line, Summary};
pub use watch::{Gauge, Gauged, Watch};
