//! Cost anomalies: days on which one (account, service) spends far above its own recent past,
//! found from the daily series every CUR and FOCUS delivery carries, explained by the usage
//! types, operations and regions that moved, and alerted once per (account, service, currency,
//! day). Pure: the caller brings the series (this month's from the report, last month's from
//! the store) and, for the days flagged, the driver table of a second pass over the report.
//! See docs/anomalies.md.

mod alert;
mod detect;
mod explain;
pub mod feedback;
mod series;
mod settings;

pub use alert::{anomaly_alert, claim_key, claim_key_of, driver_of_reason, explained, watch_keys};
pub use detect::{
    detect, judge, median_mad, Finding, Series, BASELINE_DAYS, LOOKBACK_DAYS, MIN_HISTORY_DAYS,
};
pub use explain::{movers, Mover, TOP_MOVERS};
pub use feedback::{Feedback, Verdict};
pub use series::{find, find_every_day, last_complete_day, series_of, Prior, MAX_FINDINGS};
pub use settings::{Config, Overrides, Scoped, Settings};
