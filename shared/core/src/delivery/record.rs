//! What the ingest record keeps of an object and of one period of its report.

use super::types::{stamp, IngestRecord, Object, Outcome};
use crate::alert::report_text;
use crate::period::Period;
use crate::report::{key_info, Check, ReportSummary};
use chrono::{DateTime, Utc};

/// The record of an object received at `now`, before it is read: failed until it says more.
/// Its period is the key's, else the event's month.
pub fn received(object: &Object, now: DateTime<Utc>) -> IngestRecord {
    IngestRecord {
        period: key_info(&object.key)
            .period
            .unwrap_or_else(|| Period::of(object.event_time)),
        received_at: stamp(now),
        bucket: object.bucket.clone(),
        key: object.key.clone(),
        etag: object.etag.clone(),
        sequencer: object.sequencer.clone(),
        version_id: object.version_id.clone(),
        delivery_id: None,
        format: None,
        payer: None,
        status: None,
        as_of: None,
        rows_read: 0,
        rows_summed: 0,
        checks: Vec::new(),
        outcome: Outcome::Failed,
        error: None,
        duration_ms: 0,
        totals_written: 0,
        alerts_sent: 0,
    }
}

/// What the report said of one period, for the ingest record.
pub fn describe(record: &mut IngestRecord, summary: &ReportSummary, period: Period) {
    record.period = period;
    record.format = Some(summary.format);
    record.payer = summary.payer_account_id.clone();
    record.status = Some(summary.status);
    record.as_of = summary.as_of.clone();
    record.delivery_id = summary.delivery_id.clone();
    record.rows_read = summary.rows_read;
    record.rows_summed = summary.rows_summed;
    record.checks = checks_text(&summary.checks);
}

/// At most this many checks are kept in an ingest record (DynamoDB items are at most 400 KB).
pub const MAX_RECORD_CHECKS: usize = 100;

/// The checks as the ingest record keeps them: failed ones first, at most
/// [`MAX_RECORD_CHECKS`], then one line counting all of them when some were left out.
pub fn checks_text(checks: &[Check]) -> Vec<String> {
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
