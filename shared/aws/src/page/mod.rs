//! The month page from the stack (`billwatch_core::page`): built from the live deliveries'
//! totals and figures, the stack's budgets and the anomalies it alerted ([`stored_page`]), and
//! written by the functions to the stack's pages bucket with a presigned link that alerts and
//! digests carry ([`links`]).

pub mod links;

use crate::store::{
    core_totals, live_figures, live_totals, AlertsStore, ReportsStore, StoreError, TotalsStore,
};
use billwatch_core::alert::AlertKind;
use billwatch_core::budget::{Budget, Scope};
use billwatch_core::digest::OpenAnomaly;
use billwatch_core::page::{sections, Flag, Page};
use billwatch_core::period::Period;
use billwatch_core::report::{ReportSummary, Status};

/// The page of `period` from what the stack holds, None when no delivery of it is live.
pub async fn stored_page(
    reports: &ReportsStore,
    totals: &TotalsStore,
    alerts: &AlertsStore,
    budgets: Vec<Budget>,
    period: Period,
) -> Result<Option<Page>, StoreError> {
    let pointers = reports.pointers(period).await?;
    let Some(first) = pointers.first() else {
        return Ok(None);
    };
    let stored = live_totals(reports, totals, period, None).await?;
    let figures = live_figures(reports, totals, period)
        .await?
        .map(|m| m.figures)
        .unwrap_or_default();
    // A plain tag budget's spend comes from the report's tag totals, which are not stored.
    let budgets: Vec<Budget> = budgets
        .into_iter()
        .filter(|b| b.summed_in_pass() || !matches!(b.scope, Scope::Tag { .. }))
        .collect();
    let flags: Vec<Flag> = alerts
        .list(period)
        .await?
        .into_iter()
        .filter(|a| a.kind == AlertKind::Anomaly)
        .filter_map(|a| OpenAnomaly::from_key(&a.key, &a.reason))
        .filter_map(|a| {
            Some(Flag {
                day: chrono::NaiveDate::parse_from_str(&a.day, "%Y-%m-%d").ok()?,
                account: a.account,
                service: a.service,
                currency: a.currency,
                impact: None,
            })
        })
        .collect();
    let status = if pointers.iter().all(|p| p.status == Status::Final) {
        Status::Final
    } else {
        Status::Estimated
    };
    let as_of = pointers.iter().filter_map(|p| p.as_of.clone()).max();
    let summary = ReportSummary {
        source: "stack".into(),
        format: first.format,
        payer_account_id: (pointers.len() == 1).then(|| first.payer.clone()),
        billing_period: Some(period),
        status,
        as_of: as_of.clone(),
        rows_read: 0,
        rows_summed: 0,
        totals: core_totals(&stored, period),
        grand_totals: Vec::new(),
        checks: Vec::new(),
        skipped: Default::default(),
        warnings: Vec::new(),
        tag_totals: Vec::new(),
        budgets: figures,
        objects_read: 0,
        delivery_id: None,
        commitments: None,
    };
    let keys: Vec<&str> = pointers.iter().map(|p| p.report_key.as_str()).collect();
    Ok(Some(Page {
        period,
        status,
        as_of,
        report_key: keys.join(", "),
        sections: sections(&summary, &budgets, &flags),
    }))
}
