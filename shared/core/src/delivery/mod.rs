//! The delivery of one billing report object, from the S3 event to the alerts it owes: the
//! decisions as plain functions ([`decide`], [`outbox`], [`record`]), the ports it runs over as
//! traits the core owns ([`ports`]), and the driver that takes the steps in order
//! ([`deliver`]). The AWS crate implements the ports over S3, DynamoDB and SNS; `memory` (with
//! the `memory` feature, and in this crate's tests) implements them in memory, with a fault
//! hook, for tests.
//!
//! # The steps of a delivery, in order, and the port each uses
//!
//! 1. **Seen before?** The key's newest sequencer ([`ReportsStore::latest_sequencer`]); the
//!    same sequencer is a duplicate, an older one stale ([`decide::seen_before`]): done, to
//!    step 11.
//! 2. **Read** the object: one summary per billing period ([`ReportReader::summarize`]).
//!
//!    For each period of the report:
//! 3. **Mark** the version (an id from the object's identity, [`decide::version_of`]) before
//!    its first item ([`ReportsStore::mark_version`]).
//! 4. **Write** its totals ([`TotalsStore::write_version`]) and note it complete
//!    ([`ReportsStore::version_complete`]).
//! 5. **Anomalies** the period calls for ([`ReportReader::anomalies`]).
//! 6. **Flip with outbox**: read the live pointer ([`ReportsStore::pointer`]); decide
//!    ([`decide::replace`]): already live, outranked, or replace; plan the alerts against the
//!    live totals ([`TotalsStore::lines`], [`BudgetsStore::budgets`]), fit them to one
//!    transaction ([`outbox::fit_outbox`], [`AlertsStore::outbox_fits`]), and flip the pointer
//!    with the outbox on condition ([`ReportsStore::flip`]); on a conflict, again, at most
//!    [`decide::MAX_FLIP_ATTEMPTS`] times.
//! 7. **Sweep** the versions that can never be live again ([`ReportsStore::pointer`],
//!    [`ReportsStore::versions`], [`decide::sweeps`], [`TotalsStore::delete_version`],
//!    [`ReportsStore::forget_version`]).
//! 8. **Drain** the period's outbox ([`AlertsStore::outbox`]): each alert sent once
//!    ([`Publisher::send`]: claim, publish, mark, in [`AlertsStore`]); an item whose alerts all
//!    went is deleted ([`AlertsStore::delete_outbox`]).
//!
//!    Then:
//! 9. **Note** the sequencer as the key's newest ([`ReportsStore::note_sequencer`]), last, so a
//!    retry of an attempt that died redoes what was left.
//! 10. On a **failure** ([`decide::on_failure`]): an empty report is skipped (note, record); a
//!     permanent one alerts once per object version ([`Publisher::send`]), notes and records;
//!     a transient one records and is returned, so the event is retried.
//! 11. **Record** the ingest, once per period, whatever the outcome ([`ReportsStore::record`]),
//!     and merge the periods into one outcome ([`decide::merge`]).
//!
//! Every "now" comes from the [`Clock`]; what the host logs and measures goes to the
//! [`Watcher`].

pub mod decide;
mod driver;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod outbox;
pub mod ports;
pub mod record;
mod types;

#[cfg(test)]
mod tests;

pub use driver::deliver;
pub use ports::{
    AlertsStore, BudgetsStore, Class, Clock, Failure, Port, Ports, Publisher, ReportReader,
    ReportsStore, TotalsStore, Watcher,
};
pub use types::{
    order_key, padded_sequencer, version_tag, Claim, Flip, IngestRecord, Object, Order, OutboxItem,
    Outcome, Owed, Pointer, RecordOutcome, Sent, VersionMark,
};
