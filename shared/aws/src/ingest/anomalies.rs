//! The anomaly alerts of one delivery: the daily series of the report joined to last month's
//! stored series, judged by the core, and explained by a second read of the report (only for
//! anomalies not sent yet, so a flagged day re-read by later deliveries costs one GetItem),
//! within the invocation's read-time budget (see `read_budget::second_read`).

use super::{Ingest, IngestError};
use crate::event::ReportObject;
use crate::read_budget::{self, SecondRead};
use billwatch_core::alert::plan::Alert;
use billwatch_core::anomaly::{self, claim_key, Prior};
use billwatch_core::period::Period;
use billwatch_core::report::drivers::{DriverTable, Key};
use billwatch_core::report::{drivers, ReportSummary};
use chrono::Datelike;
use std::time::SystemTime;

impl Ingest {
    /// The anomaly alerts `summary` (one period of `object`) calls for, each with its movers
    /// when they can be read before `deadline` (the invocation's, if any).
    pub(super) async fn anomalies(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        period: Period,
        payer: &str,
        deadline: Option<SystemTime>,
    ) -> Result<Vec<Alert>, IngestError> {
        let Some(last) =
            anomaly::last_complete_day(period, summary.as_of.as_deref(), summary.status)
        else {
            return Ok(Vec::new());
        };
        if summary.totals.iter().all(|t| t.daily_usage.is_none()) {
            return Ok(Vec::new());
        }
        let config = self.budgets.anomaly_config().await?;
        let feedback = self.budgets.feedback().await?;
        // Baselines reach into last month while the judged days are in the first weeks.
        let reach = (anomaly::BASELINE_DAYS + anomaly::LOOKBACK_DAYS) as u32;
        let prior = if last.day() <= reach {
            self.prior_daily(payer, period.prev()).await?
        } else {
            Vec::new()
        };
        let mut open = Vec::new();
        for f in anomaly::find(summary, period, &prior, &config, &feedback) {
            if !self.alerts.is_done(period, &claim_key(&f)).await? {
                open.push(f);
            }
        }
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let keys = anomaly::watch_keys(&open);
        // The alert goes in any case; without the breakdown if it cannot be read in time.
        let table = match read_budget::second_read(deadline, SystemTime::now()) {
            SecondRead::NoTime => {
                tracing::warn!(key = %object.key, "no time left to read what moved");
                DriverTable::default()
            }
            budget => match self.drivers(object, period, keys, deadline, budget).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(key = %object.key, error = %e, "could not read what moved");
                    DriverTable::default()
                }
            },
        };
        let (alerts, silenced) = anomaly::explained(period, &open, &table, &object.key, &feedback);
        for (f, answer) in &silenced {
            tracing::info!(
                account = %f.account, service = %f.service, day = %f.day,
                verdict = answer.verdict.name(), answered = %answer.day,
                "anomaly not alerted: answered as {} until {}", answer.verdict.name(), answer.until()
            );
        }
        Ok(alerts)
    }

    /// Last month's live daily series of `payer`.
    async fn prior_daily(&self, payer: &str, period: Period) -> Result<Vec<Prior>, IngestError> {
        let Some(live) = self.reports.pointer(period, payer).await? else {
            return Ok(Vec::new());
        };
        Ok(self
            .totals
            .query(payer, period, &live.version, None)
            .await?
            .into_iter()
            .filter_map(|t| {
                Some(Prior {
                    days: t.daily?,
                    account: t.account,
                    service: t.service,
                    currency: t.currency,
                    period,
                })
            })
            .collect())
    }

    /// The second pass: the object read again at its version, under the same budget as the
    /// first read (a manifest too large for the time left is not read), given up when `budget`
    /// runs out.
    async fn drivers(
        &self,
        object: &ReportObject,
        period: Period,
        keys: Vec<Key>,
        deadline: Option<SystemTime>,
        budget: SecondRead,
    ) -> Result<DriverTable, IngestError> {
        let (key, limits) = (object.key.clone(), self.config.limits);
        self.read(object, deadline, budget.stop(), move |opened, parts| {
            drivers(opened, &key, &key, parts, &limits, period, &keys)
        })
        .await
    }
}
