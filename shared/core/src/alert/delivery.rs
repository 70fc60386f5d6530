//! What the alert plan is given about one stored delivery and the one it replaced.

use crate::budget::Budget;
use crate::period::Period;
use crate::report::{ReportSummary, Status};
use rust_decimal::Decimal;

/// One stored total of the delivery a new one replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: String,
    pub service: String,
    pub currency: String,
    pub cost: Decimal,
}

/// The live delivery a new one replaced, as the alerts need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    pub status: Status,
    pub lines: Vec<Line>,
}

/// A billing month's live delivery as budgets across months need it: each budget's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    pub period: Period,
    pub figures: Vec<crate::budget::spec::Figures>,
    pub as_of: Option<String>,
    pub status: Status,
}

/// Everything the decision needs about one stored delivery.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub report_key: &'a str,
    /// The object's version for once-per-version alerts: its sequencer, else its ETag.
    pub object_version: &'a str,
    pub summary: &'a ReportSummary,
    pub period: Period,
    /// The delivery it replaced, if one was live.
    pub previous: Option<&'a Previous>,
    pub budgets: &'a [Budget],
    /// The other billing months' live figures that the budgets summed in the pass need
    /// (quarterly and annual spans, automatic amounts): see
    /// [`crate::budget::standing::months_needed`].
    pub history: &'a [MonthFigures],
    /// The anomaly alerts the delivery calls for, found and explained beforehand (the
    /// explanation needs a second read of the report; see `crate::anomaly`).
    pub anomalies: &'a [super::owed::Alert],
}
