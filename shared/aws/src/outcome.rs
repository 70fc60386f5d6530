//! What became of one S3 record, in the ingest record, the function's response and logs: the
//! core's (see `billwatch_core::delivery`).

pub use billwatch_core::delivery::Outcome;
