//! The daily digest's edge (on the health-check function's daily schedule): the budgets with
//! `digest = true`, the live totals of the period holding yesterday, the anomalies alerted in
//! it; the core composes each digest and it is sent once per budget and day. Weekly digests
//! (`digest = "weekly"`) go from the same run: `crate::weekly_digest`.

use crate::health::{HealthConfig, HealthError};
use crate::notify::{send_once, Sent, Topics};
use crate::store::{
    core_totals, live_totals, pass_months, AlertsStore, BudgetsStore, Owed, ReportsStore,
    TotalsStore,
};
use billwatch_core::alert::plan::AlertKind;
use billwatch_core::digest::{compose, supported, DigestInput, OpenAnomaly};
use billwatch_core::period::Period;
use billwatch_core::report::{Status, Total};
use chrono::{DateTime, Utc};

/// What one digest run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DigestOutcome {
    pub budgets: usize,
    pub sent: u64,
}

/// Sends today's digest to every budget that asked for one (each once per day).
pub async fn digest(
    config: &HealthConfig,
    stores: (&BudgetsStore, &ReportsStore, &TotalsStore, &AlertsStore),
    senders: crate::notify::Senders<'_>,
    now: DateTime<Utc>,
) -> Result<DigestOutcome, HealthError> {
    let (budgets, reports, totals, alerts) = stores;
    let (weekly, wanted): (Vec<_>, Vec<_>) = budgets
        .list()
        .await?
        .into_iter()
        .filter(|b| b.digest && supported(b))
        .partition(|b| b.digest_every == billwatch_core::budget::Every::Week);
    let weekly_sent = crate::weekly_digest::weekly(config, stores, senders, now, &weekly).await?;
    if wanted.is_empty() {
        return Ok(DigestOutcome {
            budgets: weekly.len(),
            sent: weekly_sent,
        });
    }
    let today = now.date_naive();
    let period = Period::of_date(today.pred_opt().unwrap_or(today));
    let stored = live_totals(reports, totals, period, None).await?;
    let lines: Vec<Total> = core_totals(&stored, period);
    // One live delivery per payer: the latest "as of" and the least final status stand for all.
    let as_of = stored.iter().filter_map(|t| t.as_of.clone()).max();
    let status = if !stored.is_empty() && stored.iter().all(|t| t.status == Status::Final) {
        Status::Final
    } else {
        Status::Estimated
    };
    let feedback = budgets.feedback().await?;
    let anomalies: Vec<OpenAnomaly> = alerts
        .list(period)
        .await?
        .into_iter()
        .filter(|a| a.kind == AlertKind::Anomaly)
        .filter_map(|a| OpenAnomaly::from_key(&a.key, &a.reason))
        .map(|a| a.answered(&feedback))
        .collect();
    let topics = Topics {
        alerts: config.topic_arn.as_deref(),
        chat: config.chat_topic_arn.as_deref(),
        channels: senders.channels,
        pages: senders.pages,
    };
    let months = pass_months(reports, totals, &wanted, period).await?;
    let mut sent = 0;
    for b in &wanted {
        let alert = compose(&DigestInput {
            budget: b,
            today,
            totals: &lines,
            as_of: as_of.as_deref(),
            status,
            anomalies: &anomalies,
            months: &months,
        });
        if send_once(alerts, senders.sns, topics, &Owed::from(&alert), now).await? == Sent::Now {
            sent += 1;
        }
    }
    Ok(DigestOutcome {
        budgets: wanted.len() + weekly.len(),
        sent: sent + weekly_sent,
    })
}
