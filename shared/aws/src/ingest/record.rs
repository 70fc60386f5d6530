//! What the ingest record keeps of a report, and the alert for a report that cannot be read.

use super::{Ingest, IngestError};
use crate::event::ReportObject;
use crate::notify::{send_once, Sent};
use crate::store::{IngestRecord, Owed};
use billwatch_core::alert::notices::report_failed;
use billwatch_core::alert::report_text;
use billwatch_core::period::Period;
use billwatch_core::report::{Check, ReportSummary};
use chrono::{DateTime, Utc};

impl Ingest {
    /// A report that cannot be read alerts once per object version. Returns how many were sent;
    /// a failure to alert is logged (the ingest record keeps the report's error).
    pub(super) async fn report_failed(
        &self,
        object: &ReportObject,
        period: Period,
        error: &IngestError,
        now: DateTime<Utc>,
    ) -> u64 {
        let alert = report_failed(
            period,
            &object.bucket,
            &object.key,
            &object.version_tag(),
            &error.to_string(),
        );
        let topics = self.config.topics();
        match send_once(&self.alerts, &self.sns, topics, &Owed::from(&alert), now).await {
            Ok(Sent::Now) => 1,
            Ok(_) => 0,
            Err(e) => {
                tracing::error!(key = %object.key, error = %e, "report-failed alert not sent");
                0
            }
        }
    }
}

/// What the report said, for the ingest record.
pub(super) fn describe(record: &mut IngestRecord, summary: &ReportSummary, period: Period) {
    record.period = period;
    record.format = Some(summary.format);
    record.payer = summary.payer_account_id.clone();
    record.status = Some(summary.status);
    record.as_of = summary.as_of.clone();
    record.delivery_id = summary.delivery_id.clone();
    record.rows_read = summary.rows_read;
    record.rows_summed = summary.rows_summed;
    record.checks = checks_text(&summary.checks);
    // A record or line item type never seen: the rows were not summed (legacy, DBR) or summed
    // under a guessed part (CUR, FOCUS). Named in the log, never dropped without a word.
    for warning in &summary.warnings {
        tracing::warn!(payer = ?summary.payer_account_id, period = %period, warning = %warning, "report warning");
    }
}

/// At most this many checks are kept in an ingest record (DynamoDB items are at most 400 KB).
const MAX_RECORD_CHECKS: usize = 100;

/// The checks as the ingest record keeps them: failed ones first, at most
/// [`MAX_RECORD_CHECKS`], then one line counting all of them when some were left out.
fn checks_text(checks: &[Check]) -> Vec<String> {
    let failed = checks.iter().filter(|c| !c.ok).count();
    let mut ordered: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    ordered.extend(checks.iter().filter(|c| c.ok));
    let mut out: Vec<String> = ordered
        .iter()
        .take(MAX_RECORD_CHECKS)
        .map(|c| {
            format!(
                "{}: expected {} actual {} {}",
                report_text(&c.name),
                c.expected,
                c.actual,
                if c.ok { "ok" } else { "FAILED" }
            )
        })
        .collect();
    if checks.len() > MAX_RECORD_CHECKS {
        out.push(format!(
            "… {} checks in all, {failed} failed; the first {MAX_RECORD_CHECKS} are listed",
            checks.len()
        ));
    }
    out
}
