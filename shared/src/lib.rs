//! billwatch's domain: the billing report engine, budgets and alerts, and their AWS adapters.
//!
//! `report`, `ledger`, `money`, `budget` and `alert` are pure; `s3_source`, `store` and
//! `ingest` adapt them to S3, DynamoDB and SNS.

pub mod alert;
pub mod budget;
pub mod clients;
pub mod config;
pub mod event;
pub mod forecast;
pub mod health;
pub mod ingest;
pub mod ledger;
pub mod money;
pub mod notify;
pub mod report;
pub mod s3_source;
pub mod store;
