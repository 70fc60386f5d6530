//! billwatch's pure core: everything that decides, nothing that talks to AWS.
//!
//! The report engine (`report`), exact money and totals (`money`, `ledger`), budgets and their
//! evaluation (`budget`), the month-end forecast (`forecast`), alert messages (`alert`), the
//! month page (`page`) and the
//! delivery of one report object over ports the AWS crate implements (`delivery`).
//! This crate has no AWS SDK, no Lambda runtime and no async runtime in its dependency tree; the
//! `billwatch-aws` crate carries its decisions out against S3, DynamoDB and SNS.

// The delivery's model test (delivery/tests/model) names the crate as other crates do.
#[cfg(test)]
extern crate self as billwatch_core;

pub mod alert;
pub mod anomaly;
pub mod budget;
pub mod channel;
pub mod commitment;
pub mod delivery;
pub mod digest;
pub mod forecast;
pub mod health;
pub mod ledger;
pub mod money;
pub mod money_text;
pub mod page;
pub mod period;
pub mod report;
pub mod timestamp;
pub mod weekly_digest;
