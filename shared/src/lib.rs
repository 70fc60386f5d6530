//! billwatch's domain: the billing report engine and its AWS adapters.
//!
//! `report` is pure and streaming (no AWS, nothing beyond a `Read`); `s3_source` adapts it to
//! objects read through the S3 API.

pub mod ledger;
pub mod money;
pub mod report;
pub mod s3_source;
