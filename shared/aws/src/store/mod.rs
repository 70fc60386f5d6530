//! DynamoDB adapters: totals (versioned per delivery), reports (ingest state and history),
//! budgets and alert claims. See docs/tables.md for the keys and the questions each answers.

pub mod alerts;
mod attr;
pub mod batch;
pub mod budgets;
pub mod item_size;
#[cfg(test)]
mod limits_tests;
pub mod owed;
pub mod reports;
pub mod totals;

pub use alerts::{AlertsStore, Claim};
pub use budgets::BudgetsStore;
pub use owed::Owed;
pub use reports::{Flip, IngestRecord, Pointer, ReportsStore};
pub use totals::{StoredTotal, TotalsStore, VersionWrite};

use crate::error::{CallError, ErrorClass};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use billwatch_core::period::Period;
use std::str::FromStr;

/// The result of a conditional write whose failed condition means "nothing to do" (a newer
/// value is there already, the item is gone, the claim was published): `Ok(())` then too.
pub(crate) fn unless_condition_failed<T, E: ProvideErrorMetadata>(
    operation: &'static str,
    table: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<(), StoreError> {
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::dynamo(operation, table, e)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB {operation} on {table}: {error}")]
    Dynamo {
        operation: &'static str,
        table: String,
        error: CallError,
    },
    /// A call that succeeded but left work undone (unprocessed items, a cancelled
    /// transaction): retrying later can finish it.
    #[error("DynamoDB {operation} on {table}: {message}")]
    Incomplete {
        operation: &'static str,
        table: String,
        message: String,
    },
    #[error("item in {table} is malformed: {message}")]
    Malformed { table: String, message: String },
}

impl StoreError {
    pub fn dynamo<E: ProvideErrorMetadata>(
        operation: &'static str,
        table: &str,
        err: SdkError<E, HttpResponse>,
    ) -> Self {
        StoreError::Dynamo {
            operation,
            table: table.to_string(),
            error: CallError::of(&err),
        }
    }

    /// DynamoDB asked to slow down (the request may succeed after a wait).
    pub fn is_throttling(&self) -> bool {
        matches!(self, StoreError::Dynamo { error, .. } if error.is_throttling())
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::Dynamo { error, .. } => error.class,
            StoreError::Incomplete { .. } => ErrorClass::Transient,
            StoreError::Malformed { .. } => ErrorClass::Permanent,
        }
    }
}

/// Every item a Query returns, following its pages.
pub(crate) async fn query_all(
    request: QueryFluentBuilder,
    table: &str,
) -> Result<Vec<attr::Item>, StoreError> {
    request
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| StoreError::dynamo("Query", table, e))
}

/// Table names, from the environment (defaults match a stack named `billwatch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub totals: String,
    pub reports: String,
    pub budgets: String,
    pub alerts: String,
}

impl TableNames {
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        Self {
            totals: var("BILLWATCH_TOTALS_TABLE", "billwatch-totals"),
            reports: var("BILLWATCH_REPORTS_TABLE", "billwatch-reports"),
            budgets: var("BILLWATCH_BUDGETS_TABLE", "billwatch-budgets"),
            alerts: var("BILLWATCH_ALERTS_TABLE", "billwatch-alerts"),
        }
    }
}

/// The live totals of a period for every payer (each payer's pointer names its version),
/// optionally of one account: one Query for the pointers, one per payer for the totals.
pub async fn live_totals(
    reports: &ReportsStore,
    totals: &TotalsStore,
    period: Period,
    account: Option<&str>,
) -> Result<Vec<StoredTotal>, StoreError> {
    let mut out = Vec::new();
    for pointer in reports.pointers(period).await? {
        out.extend(
            totals
                .query(&pointer.payer, period, &pointer.version, account)
                .await?,
        );
    }
    Ok(out)
}

/// The budgets' figures of `period`'s live deliveries, every payer's summed per budget (the
/// latest "as of" and the least final status stand for the month); None when nothing is live.
pub async fn live_figures(
    reports: &ReportsStore,
    totals: &TotalsStore,
    period: Period,
) -> Result<Option<billwatch_core::alert::plan::MonthFigures>, StoreError> {
    use billwatch_core::budget::spec::Figures;
    use billwatch_core::report::Status;
    let mut figures: Vec<Figures> = Vec::new();
    let (mut as_of, mut all_final, mut any) = (None::<String>, true, false);
    for live in reports.pointers(period).await? {
        any = true;
        all_final &= live.status == Status::Final;
        as_of = as_of.max(live.as_of.clone());
        for f in totals
            .budget_figures(&live.payer, period, &live.version)
            .await?
        {
            match figures.iter_mut().find(|m| m.name == f.name) {
                Some(m) => m.merge(&f),
                None => figures.push(f),
            }
        }
    }
    Ok(any.then_some(billwatch_core::alert::plan::MonthFigures {
        period,
        figures,
        as_of,
        status: if all_final {
            Status::Final
        } else {
            Status::Estimated
        },
    }))
}

/// A stored total as the core's `Total` (its breakdown and daily series included).
pub fn as_total(t: &StoredTotal) -> billwatch_core::report::Total {
    let parts = t
        .breakdown
        .iter()
        .filter_map(|(name, v)| {
            let part = billwatch_core::ledger::Part::ALL
                .into_iter()
                .find(|p| p.name() == name)?;
            Some((part, rust_decimal::Decimal::from_str(v).ok()?))
        })
        .collect();
    billwatch_core::report::Total {
        account_id: t.account.clone(),
        service: t.service.clone(),
        service_name: t.service_name.clone(),
        currency: t.currency.clone(),
        cost: t.cost,
        breakdown: billwatch_core::report::summary::Breakdown(parts),
        daily_usage: t.daily.clone(),
    }
}

/// Stored totals of `period` as the core's, each payer's delivery with its all-zero daily series
/// given back ([`billwatch_core::report::summary::fill_daily`]: storage keeps such a series as
/// nothing), so that a forecast or a chart sees a daily report as daily.
pub fn core_totals(stored: &[StoredTotal], period: Period) -> Vec<billwatch_core::report::Total> {
    let mut payers: Vec<&str> = stored.iter().map(|t| t.payer.as_str()).collect();
    payers.sort_unstable();
    payers.dedup();
    let mut out = Vec::with_capacity(stored.len());
    for payer in payers {
        let mut mine: Vec<_> = stored
            .iter()
            .filter(|t| t.payer == payer)
            .map(as_total)
            .collect();
        billwatch_core::report::summary::fill_daily(&mut mine, period);
        out.extend(mine);
    }
    out
}

/// The live figures of `period` and of the months before it that the budgets summed in the pass
/// need (quarters, years, automatic amounts), every payer's summed ([`live_figures`]). None
/// when no budget is summed in the pass.
pub async fn pass_months(
    reports: &ReportsStore,
    totals: &TotalsStore,
    budgets: &[billwatch_core::budget::Budget],
    period: Period,
) -> Result<Vec<billwatch_core::alert::plan::MonthFigures>, StoreError> {
    if !budgets
        .iter()
        .any(|b| b.summed_in_pass() || b.watch().is_some())
    {
        return Ok(Vec::new());
    }
    let mut wanted = billwatch_core::budget::standing::months_needed(budgets, period);
    wanted.push(period);
    let mut out = Vec::new();
    for month in wanted {
        out.extend(live_figures(reports, totals, month).await?);
    }
    Ok(out)
}

impl crate::error::Classified for StoreError {
    fn class(&self) -> ErrorClass {
        StoreError::class(self)
    }
}
