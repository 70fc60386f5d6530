//! Budgets on commitments: what a `kind = "savings_plans_utilization"` (and the other gauges) or
//! `kind = "commitment_expiry"` budget watches, the figure it stores with each delivery, and
//! when a gauge is below its line.
//!
//! A [`Gauge`] is a ratio (utilization: used ÷ committed; coverage: covered ÷ eligible usage)
//! with what it means in money beside it (the commitment left unused; the eligible usage that ran
//! on demand). Its [`Gauged`] figure is kept per delivery version like a budget's spend, month
//! to date and per day. [`lows`] says which of the budget's lines (`below 90%`) the month to date
//! or a complete day fell under. A gauge with nothing to divide by (no Savings Plan in the
//! report) has no figure, never a 0 %: its budget says so instead.

use super::figures::{CommitmentKind, Family, Summary};
use crate::budget::filter::{Dimension, Filter, Source};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A ratio a budget can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gauge {
    SavingsPlansUtilization,
    RiUtilization,
    SavingsPlansCoverage,
    RiCoverage,
}

/// What a commitment budget watches (`kind = …` in the budgets file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    Gauge(Gauge),
    /// `kind = "commitment_expiry"`, `days = [60, 30, 7]`: lead times before each commitment's
    /// end.
    Expiry {
        days: Vec<u32>,
    },
}

/// The kinds of commitment budget, as the budgets file spells them.
pub const KINDS: [&str; 5] = [
    "savings_plans_utilization",
    "ri_utilization",
    "savings_plans_coverage",
    "ri_coverage",
    "commitment_expiry",
];

/// The lead times an expiry budget warns at when it names none.
pub const DEFAULT_EXPIRY_DAYS: [u32; 3] = [60, 30, 7];
/// The longest lead time: a year. A warning's claim is kept 400 days (the alerts table's
/// TTL), so it outlives the whole window in which its lead time is the tightest reached.
pub const MAX_EXPIRY_DAYS: u32 = 365;

impl Gauge {
    pub const ALL: [Gauge; 4] = [
        Gauge::SavingsPlansUtilization,
        Gauge::RiUtilization,
        Gauge::SavingsPlansCoverage,
        Gauge::RiCoverage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Gauge::SavingsPlansUtilization => "savings_plans_utilization",
            Gauge::RiUtilization => "ri_utilization",
            Gauge::SavingsPlansCoverage => "savings_plans_coverage",
            Gauge::RiCoverage => "ri_coverage",
        }
    }

    /// For people: `Savings Plans utilization`.
    pub fn words(self) -> &'static str {
        match self {
            Gauge::SavingsPlansUtilization => "Savings Plans utilization",
            Gauge::RiUtilization => "Reserved Instance utilization",
            Gauge::SavingsPlansCoverage => "Savings Plans coverage",
            Gauge::RiCoverage => "Reserved Instance coverage",
        }
    }

    /// `utilization` or `coverage`.
    pub fn measure(self) -> &'static str {
        if self.is_coverage() {
            "coverage"
        } else {
            "utilization"
        }
    }

    pub fn kind(self) -> CommitmentKind {
        match self {
            Gauge::SavingsPlansUtilization | Gauge::SavingsPlansCoverage => {
                CommitmentKind::SavingsPlan
            }
            Gauge::RiUtilization | Gauge::RiCoverage => CommitmentKind::Reservation,
        }
    }

    pub fn is_coverage(self) -> bool {
        matches!(self, Gauge::SavingsPlansCoverage | Gauge::RiCoverage)
    }

    /// The filter keys this gauge can honour: accounts (the commitment's owner, or the usage
    /// account for coverage) and, except for Savings Plans utilization (a Savings Plan spans
    /// services and regions), services and regions (the reservation's, or the usage's).
    pub fn filters(self) -> &'static [Dimension] {
        match self {
            Gauge::SavingsPlansUtilization => &[Dimension::Account],
            _ => &[Dimension::Account, Dimension::Service, Dimension::Region],
        }
    }
}

impl fmt::Display for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl Watch {
    /// The watch of `kind` (one of [`KINDS`]), with an expiry budget's lead times (`days`);
    /// `None` for a kind that is not a commitment's (`cost`, `usage`).
    pub fn of_kind(kind: &str, days: Option<Vec<u32>>) -> Option<Watch> {
        if kind == "commitment_expiry" {
            return Some(Watch::Expiry {
                days: days.unwrap_or_else(|| DEFAULT_EXPIRY_DAYS.to_vec()),
            });
        }
        Gauge::ALL
            .into_iter()
            .find(|g| g.name() == kind)
            .map(Watch::Gauge)
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Watch::Gauge(g) => g.name(),
            Watch::Expiry { .. } => "commitment_expiry",
        }
    }

    pub fn gauge(&self) -> Option<Gauge> {
        match self {
            Watch::Gauge(g) => Some(*g),
            Watch::Expiry { .. } => None,
        }
    }

    /// The lead times, sorted, each once (an expiry budget), else none.
    pub fn days(&self) -> Vec<u32> {
        match self {
            Watch::Expiry { days } => {
                let mut d = days.clone();
                d.sort_unstable();
                d.dedup();
                d
            }
            Watch::Gauge(_) => Vec::new(),
        }
    }

    /// What is wrong with it, as (field, reason).
    pub fn problems(&self, filter: &Filter) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match self {
            Watch::Expiry { days } => {
                if days.is_empty() {
                    out.push((
                        "days",
                        "needs at least one lead time, e.g. [60, 30, 7]".into(),
                    ));
                }
                if let Some(bad) = days.iter().find(|d| **d == 0 || **d > MAX_EXPIRY_DAYS) {
                    out.push((
                        "days",
                        format!("{bad} is not a lead time of 1 to {MAX_EXPIRY_DAYS} days"),
                    ));
                }
                if !filter.is_empty() {
                    out.push((
                        "filter",
                        "an expiry budget watches every commitment of the report: leave the filter out"
                            .into(),
                    ));
                }
            }
            Watch::Gauge(g) => {
                for source in filter.sources() {
                    let ok = matches!(&source, Source::Plain(d) if g.filters().contains(d));
                    if !ok {
                        let keys: Vec<&str> = g.filters().iter().map(|d| d.key()).collect();
                        let names = match keys.split_last() {
                            Some((last, rest)) if !rest.is_empty() => {
                                format!("{} and {last}", rest.join(", "))
                            }
                            _ => keys.concat(),
                        };
                        out.push((
                            "filter",
                            format!(
                                "{} can be filtered on {} only, not on {}",
                                g.words(),
                                names,
                                source_name(&source)
                            ),
                        ));
                    }
                }
            }
        }
        out
    }
}

fn source_name(source: &Source) -> String {
    match source {
        Source::Plain(d) => d.key().to_string(),
        Source::Keyed(k, name) => format!("{}.{name}", k.key()),
    }
}

/// One day's gauge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaugeDay {
    pub day: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub part: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub whole: Decimal,
}

/// A gauge's figure in one delivery: part ÷ whole, month to date and per day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gauged {
    pub gauge: Gauge,
    /// Used commitment (Savings Plans: money; reservations: hours or normalized units), or
    /// covered usage (Savings Plans: at on-demand cost; reservations: hours).
    #[serde(with = "rust_decimal::serde::str")]
    pub part: Decimal,
    /// Commitment to date, or eligible usage; never zero in a stored figure.
    #[serde(with = "rust_decimal::serde::str")]
    pub whole: Decimal,
    /// In money: the commitment left unused (utilization), or the eligible usage that ran on
    /// demand, at on-demand cost (coverage).
    #[serde(with = "rust_decimal::serde::str")]
    pub unused: Decimal,
    /// Per day with figures, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<GaugeDay>,
    /// Commitments (utilization) or (account, family) pairs (coverage) counted.
    pub counted: u32,
}

/// `part ÷ whole` as a percentage, exact to 28 digits; `None` when `whole` is zero.
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    part.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(whole)
}

impl Gauged {
    /// The month to date, as a percentage.
    pub fn percent(&self) -> Option<Decimal> {
        percent(self.part, self.whole)
    }

    /// Adds another payer's figure of the same gauge (one month, several payers).
    pub fn merge(&mut self, other: &Gauged) {
        self.part += other.part;
        self.whole += other.whole;
        self.unused += other.unused;
        self.counted += other.counted;
        let mut days: BTreeMap<u32, (Decimal, Decimal)> = BTreeMap::new();
        for d in self.days.iter().chain(&other.days) {
            let e = days.entry(d.day).or_default();
            e.0 += d.part;
            e.1 += d.whole;
        }
        self.days = days
            .into_iter()
            .map(|(day, (part, whole))| GaugeDay { day, part, whole })
            .collect();
    }
}

/// Whether `filter` lets `value` of `dimension` through (no rule on it: yes).
fn passes(filter: &Filter, dimension: Dimension, value: &str) -> bool {
    let (include, exclude) = filter.judge(&Source::Plain(dimension), value);
    include && !exclude
}

/// Whether a family's usage passes the filter's services: one of its product codes does.
fn family_passes(filter: &Filter, family: Family) -> bool {
    family
        .product_codes()
        .iter()
        .any(|code| passes(filter, Dimension::Service, code))
}

/// The figure of `gauge` over what `filter` selects of `summary`, or why there is none (nothing
/// committed, no eligible usage): said in words, never a 0 %.
pub fn gauge(gauge: Gauge, filter: &Filter, summary: &Summary) -> Result<Gauged, String> {
    let mut out = Gauged {
        gauge,
        part: Decimal::ZERO,
        whole: Decimal::ZERO,
        unused: Decimal::ZERO,
        days: Vec::new(),
        counted: 0,
    };
    let mut days: BTreeMap<u32, (Decimal, Decimal)> = BTreeMap::new();
    if gauge.is_coverage() {
        for ((account, family), c) in &summary.coverage {
            let eligible = match gauge.kind() {
                CommitmentKind::SavingsPlan => family.savings_plans(),
                CommitmentKind::Reservation => family.reservations(),
            };
            if !eligible
                || !passes(filter, Dimension::Account, account)
                || !family_passes(filter, *family)
            {
                continue;
            }
            let split = |c: &super::Coverage| match gauge.kind() {
                CommitmentKind::SavingsPlan => (c.sp_covered, c.sp_covered + c.on_demand_cost),
                CommitmentKind::Reservation => {
                    (c.ri_covered_hours, c.ri_covered_hours + c.on_demand_hours)
                }
            };
            // With a regions rule, the regions it lets through; else the whole.
            let regional = filter.sources().contains(&Source::Plain(Dimension::Region));
            let parts: Vec<&super::Coverage> = if regional {
                c.regions
                    .iter()
                    .filter(|(region, _)| passes(filter, Dimension::Region, region))
                    .map(|(_, c)| c)
                    .collect()
            } else {
                vec![c]
            };
            if parts.is_empty() {
                continue;
            }
            out.counted += 1;
            for c in parts {
                let (part, whole) = split(c);
                out.part += part;
                out.whole += whole;
                out.unused += c.on_demand_cost;
                for (day, dc) in &c.days {
                    let (p, w) = split(dc);
                    let e = days.entry(*day).or_default();
                    e.0 += p;
                    e.1 += w;
                }
            }
        }
    } else {
        for c in summary
            .commitments
            .iter()
            .filter(|c| c.kind == gauge.kind())
        {
            let service_ok = match c.kind {
                CommitmentKind::Reservation => {
                    passes(filter, Dimension::Service, &c.offering)
                        && passes(filter, Dimension::Region, &c.region)
                }
                CommitmentKind::SavingsPlan => true,
            };
            if !passes(filter, Dimension::Account, &c.account) || !service_ok {
                continue;
            }
            out.part += c.used;
            out.whole += c.committed;
            out.unused += c.unused_cost;
            out.counted += 1;
            for (day, (committed, used, _)) in &c.days {
                let e = days.entry(*day).or_default();
                e.0 += *used;
                e.1 += *committed;
            }
        }
    }
    if out.whole.is_zero() {
        return Err(nothing_to_gauge(gauge, filter));
    }
    out.days = days
        .into_iter()
        .map(|(day, (part, whole))| GaugeDay { day, part, whole })
        .collect();
    Ok(out)
}

/// Why a gauge has no figure, in words.
fn nothing_to_gauge(gauge: Gauge, filter: &Filter) -> String {
    let within = if filter.is_empty() {
        String::new()
    } else {
        " within this budget's filter".to_string()
    };
    match gauge {
        Gauge::SavingsPlansUtilization => format!(
            "the report has no Savings Plan with a commitment to date{within} (no SavingsPlanRecurringFee line): there is no utilization to watch"
        ),
        Gauge::RiUtilization => format!(
            "the report has no Reserved Instance with reserved hours{within} (no RIFee line): there is no utilization to watch"
        ),
        Gauge::SavingsPlansCoverage => format!(
            "the report has no usage a Savings Plan could cover{within} (EC2 compute, Fargate, Lambda, with its on-demand cost): there is no coverage to watch"
        ),
        Gauge::RiCoverage => format!(
            "the report has no usage a reservation could cover{within} (EC2, RDS, ElastiCache, OpenSearch, Redshift instance hours): there is no coverage to watch"
        ),
    }
}

/// A line (`below 90%`) the gauge fell under this month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Low {
    /// The line, a percentage.
    pub line: Decimal,
    /// The month to date, as a percentage.
    pub month: Decimal,
    /// The lowest complete day under the line, if one is: (day of the month, percentage).
    pub worst_day: Option<(u32, Decimal)>,
}

impl Low {
    /// Whether the month to date itself is under the line (else only a day was).
    pub fn month_below(&self) -> bool {
        self.month < self.line
    }
}

/// The lines of `levels` (percentages) that the month to date, or a complete day (up to
/// `last_complete`, a day of the month), is under.
pub fn lows(levels: &[Decimal], g: &Gauged, last_complete: Option<u32>) -> Vec<Low> {
    let Some(month) = g.percent() else {
        return Vec::new();
    };
    let worst = g
        .days
        .iter()
        .filter(|d| last_complete.is_some_and(|last| d.day <= last))
        .filter_map(|d| percent(d.part, d.whole).map(|p| (d.day, p)))
        .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut levels = levels.to_vec();
    levels.sort();
    levels.dedup();
    levels
        .into_iter()
        .filter_map(|line| {
            let worst_day = worst.filter(|(_, p)| *p < line);
            (month < line || worst_day.is_some()).then_some(Low {
                line,
                month,
                worst_day,
            })
        })
        .collect()
}

/// A gauge budget's figures in one delivery's `summary`: its gauge, or why the report cannot
/// give one (not a CUR; nothing committed or eligible within its filter).
pub fn figures_of(
    name: &str,
    gauge_of: Gauge,
    filter: &Filter,
    summary: &crate::report::ReportSummary,
) -> crate::budget::spec::Figures {
    let read = match &summary.commitments {
        None => Err(not_read(summary.format)),
        Some(s) => gauge(gauge_of, filter, s),
    };
    let (answer, gauged) = match read {
        Ok(g) => (Ok(Vec::new()), Some(g)),
        Err(why) => (Err(why), None),
    };
    crate::budget::spec::Figures {
        name: name.to_string(),
        answer,
        notes: Vec::new(),
        gauge: gauged,
    }
}

/// Why a report has no commitments to read.
pub fn not_read(format: crate::report::Format) -> String {
    format!(
        "commitments are read from Cost and Usage Reports (CUR 1.0 or 2.0) and FOCUS exports only, and this is a {} report",
        format.name()
    )
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
