//! billwatch's AWS edges: the S3 object source, the DynamoDB stores, SNS publishing, the ingest
//! pipeline and the health check. They load data, call `billwatch_core` for every decision, and
//! carry the result out; nothing here decides what a report means or what to alert.

pub mod channels;
pub mod clients;
pub mod clock;
pub mod config;
pub mod digest;
pub mod error;
pub mod event;
pub mod health;
pub mod ingest;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod outcome;
pub mod page;
pub mod read_budget;
pub mod retry;
pub mod s3_read;
pub mod s3_source;
pub mod sent;
pub mod store;
pub mod weekly_digest;
/// The one timestamp format (see [`billwatch_core::timestamp`]).
pub use billwatch_core::timestamp::format as timestamp;
