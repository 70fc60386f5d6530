//! Budgets against local reports, with no AWS call: the reports read in one pass each with every
//! budget's filter and measure ([`billwatch_core::budget::spec`]), each billing month's live
//! report (a later report of a month replaces an earlier one, as a delivery does), and where each
//! budget stands in its span. Shared by `budgets status` and `budgets replay`.

use super::*;
use billwatch_core::budget::spec::{Figures, Specs};
use billwatch_core::budget::standing::{figures_in, standing, Month, Standing};
use billwatch_core::period::Period;
use billwatch_core::report::{summarize_path_asking, Limits, ReportSummary};
use std::collections::BTreeMap;

/// One report read: the path as given and its summaries (one per billing period).
pub(super) struct Read {
    pub path: String,
    pub summaries: Vec<ReportSummary>,
}

/// Reads each report once, with every budget of the pass (and a CUR's commitments in the same
/// pass when a commitment budget is among `budgets`).
pub(super) fn read_reports(
    paths: &[PathBuf],
    specs: &Specs,
    budgets: &[Budget],
) -> Result<Vec<Read>, CliError> {
    let commitments = budgets.iter().any(|b| b.watch().is_some());
    paths
        .iter()
        .map(|path| {
            let summaries =
                summarize_path_asking(path, None, &Limits::default(), specs, commitments)
                    .map_err(|e| CliError::input(e.to_string()))?;
            Ok(Read {
                path: path.display().to_string(),
                summaries,
            })
        })
        .collect()
}

/// Each billing month's live summary among `reads` (the last read of a month wins).
pub(super) fn live<'a>(
    reads: impl IntoIterator<Item = &'a Read>,
) -> BTreeMap<Period, &'a ReportSummary> {
    let mut out = BTreeMap::new();
    for read in reads {
        for s in &read.summaries {
            if let Some(p) = s.billing_period {
                out.insert(p, s);
            }
        }
    }
    out
}

/// Where `budget` stands given the live summaries.
pub(super) fn stand(budget: &Budget, live: &BTreeMap<Period, &ReportSummary>) -> Option<Standing> {
    let figures: Vec<(Period, Figures, &ReportSummary)> = live
        .iter()
        .map(|(p, s)| (*p, figures_in(budget, s), *s))
        .collect();
    let months: Vec<Month<'_>> = figures
        .iter()
        .map(|(p, f, s)| Month {
            period: *p,
            figures: f,
            as_of: s.as_of.clone(),
            status: s.status,
        })
        .collect();
    standing(budget, &months)
}

/// What a budget counts, short: `amortized`, `usage GB-Mo`.
pub(super) fn cost_word(b: &Budget) -> String {
    match &b.model.unit {
        Some(unit) => format!("usage {unit}"),
        None => b.model.measure.cost.name().to_string(),
    }
}

/// A crossing as the budget spells its threshold: `80%`, `100% forecast`, `500 USD`.
pub(super) fn crossing_text(b: &Budget, c: &billwatch_core::budget::Crossing) -> String {
    match c.threshold() {
        Some(t) => t.describe(&b.currency),
        None => Threshold {
            level: Level::Percent(c.level_percent),
            basis: c.basis,
        }
        .describe(&b.currency),
    }
}

/// A standing as JSON: the fields of `budgets status --json`.
pub(super) fn standing_json(b: &Budget, s: &Standing) -> Value {
    let text = |d: Decimal| d.normalize().to_string();
    json!({
        "name": b.name,
        "period": s.span.to_string(),
        "cadence": b.model.cadence.name(),
        "cost": cost_word(b),
        "counts": b.model_text(),
        "filter": b.model.filter,
        "scope": b.scope.to_text(),
        "currency": b.currency,
        "amount": s.amount.map(text),
        "spend": s.spend.as_ref().ok().map(|d| text(*d)),
        "forecast": s.forecast.map(text),
        "crossed": s.crossings.iter().map(|c| crossing_text(b, c)).collect::<Vec<_>>(),
        "error": s.spend.as_ref().err(),
        "notes": s.notes,
    })
}
