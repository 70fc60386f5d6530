//! What the ingest function measures, as EMF lines (docs/metrics.md):
//!
//! * per report object handled: `Reports` (1), `RowsRead`, `IngestDuration` and, when its
//!   totals were stored, `IngestLatency` (from the event's time to stored), by `Outcome` and
//!   without dimensions;
//! * per stored delivery of the current month: month-to-date spend per budget with the
//!   budget's amount, percent used and month-end forecast (`Budget`); per account and per
//!   service, the largest ones only (`Account` / `Service` with `Currency`); and the total with
//!   its forecast (`Currency`).
//!
//! Bounded: at most [`MAX_BUDGETS_PER_DELIVERY`] budget lines, [`MAX_ACCOUNTS_PER_DELIVERY`]
//! account and [`MAX_SERVICES_PER_DELIVERY`] service lines per delivery (the rest summed under
//! `other`), and [`MAX_ACCOUNT_LINES_PER_INVOCATION`] account lines per invocation, so an
//! organisation with thousands of accounts does not mint thousands of custom metrics.

use super::emf::{MetricLine, Unit};
use billwatch_core::budget::span::Cadence;
use billwatch_core::budget::standing::figures_in;
use billwatch_core::budget::{spent, Budget, Scope};
use billwatch_core::forecast::{forecast, project};
use billwatch_core::period::Period;
use billwatch_core::report::{ReportSummary, Total};
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Budget lines per stored delivery (budgets past it, in name order, get none).
pub const MAX_BUDGETS_PER_DELIVERY: usize = 50;
/// Account lines per stored delivery: the largest accounts by month-to-date spend; the others
/// are summed into one `Account=other` line per currency.
pub const MAX_ACCOUNTS_PER_DELIVERY: usize = 20;
/// Service lines per stored delivery, the same way.
pub const MAX_SERVICES_PER_DELIVERY: usize = 20;
/// Account lines per invocation (a FOCUS dataset can store several months in one).
pub const MAX_ACCOUNT_LINES_PER_INVOCATION: usize = 40;

/// Every metric name the function emits (docs/metrics.md; the dashboard uses only these).
pub const METRIC_NAMES: [&str; 13] = [
    "Reports",
    "RowsRead",
    "IngestDuration",
    "IngestLatency",
    "SpendMonthToDate",
    "BudgetAmount",
    "BudgetUsedPercent",
    "ForecastMonthEnd",
    "ForecastUsedPercent",
    "UtilizationPercent",
    "UnusedCommitment",
    "CoveragePercent",
    "OnDemandEligibleCost",
];
/// Every dimension key the function emits.
pub const DIMENSION_KEYS: [&str; 5] = ["Outcome", "Budget", "Currency", "Account", "Service"];

/// The name of the line that sums the accounts or services left out.
pub const OTHER: &str = "other";

/// One report object handled by the function.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled<'a> {
    pub key: &'a str,
    pub outcome: &'a str,
    pub via: &'a str,
    pub format: Option<&'a str>,
    pub rows_read: u64,
    pub duration_ms: u64,
    /// From the event's time to the totals stored; only when they were.
    pub latency_ms: Option<i64>,
}

/// The pipeline line of one handled object.
pub fn handled(namespace: &str, at: DateTime<Utc>, h: &Handled<'_>) -> MetricLine {
    let mut line = MetricLine::new(namespace, at.timestamp_millis())
        .dimension("Outcome", h.outcome)
        .also_undimensioned()
        .metric("Reports", Unit::Count, 1.0)
        .metric("RowsRead", Unit::Count, h.rows_read as f64)
        .metric("IngestDuration", Unit::Milliseconds, h.duration_ms as f64);
    if let Some(latency) = h.latency_ms {
        line = line.metric("IngestLatency", Unit::Milliseconds, latency.max(0) as f64);
    }
    line = line.property("ReportKey", h.key).property("Via", h.via);
    if let Some(format) = h.format {
        line = line.property("Format", format);
    }
    line
}

/// Money as CloudWatch stores it (a double), to the cent: only at this boundary.
fn money(d: Decimal) -> f64 {
    d.round_dp(2).to_f64().unwrap_or_default()
}

fn percent(value: Decimal, amount: Decimal) -> Option<f64> {
    if amount <= Decimal::ZERO {
        return None;
    }
    value
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(amount)?
        .round_dp(1)
        .to_f64()
}

/// The month-end forecast of `totals` as the alerts compute it.
fn projected(summary: &ReportSummary, period: Period, totals: &[&Total]) -> Decimal {
    forecast(totals, period, summary.as_of.as_deref(), summary.status).projected
}

/// The line of a commitment gauge budget: utilization or coverage as a percentage, and what it
/// means in money (the commitment unused, or the eligible usage that ran on demand). None for
/// an expiry budget, or a report that cannot give the gauge (the alerts say why).
fn gauge_line(
    namespace: &str,
    ts: i64,
    summary: &ReportSummary,
    budget: &Budget,
    watch: &billwatch_core::commitment::Watch,
) -> Option<MetricLine> {
    let gauge = watch.gauge()?;
    let g = figures_in(budget, summary).gauge?;
    let p = g.percent()?.to_f64()?;
    let (percent_name, money_name) = if gauge.is_coverage() {
        ("CoveragePercent", "OnDemandEligibleCost")
    } else {
        ("UtilizationPercent", "UnusedCommitment")
    };
    Some(
        MetricLine::new(namespace, ts)
            .dimension("Budget", &budget.name)
            .metric(percent_name, Unit::Percent, p)
            .metric(money_name, Unit::None, money(g.unused))
            .property("Kind", gauge.name())
            .property("Currency", budget.currency.as_str()),
    )
}

/// The line of a budget the engine summed in its pass: its own figure for the month and its
/// month-end projection (what it counts in the `Counts` property); the share of the amount only
/// for a monthly budget with a set amount (a quarter's amount is not a month's). None when the
/// report cannot answer the budget (the alerts say why).
fn pass_budget_line(
    namespace: &str,
    ts: i64,
    period: Period,
    summary: &ReportSummary,
    budget: &Budget,
) -> Option<MetricLine> {
    let spend = figures_in(budget, summary)
        .spend_in(&budget.currency)
        .ok()?;
    let days = (!spend.days.is_empty()).then_some(spend.days.as_slice());
    let month_end = project(
        spend.total,
        spend.once,
        days,
        period,
        summary.as_of.as_deref(),
        summary.status,
    )
    .projected;
    let mut line = MetricLine::new(namespace, ts)
        .dimension("Budget", &budget.name)
        .metric("SpendMonthToDate", Unit::None, money(spend.total))
        .metric("ForecastMonthEnd", Unit::None, money(month_end));
    let monthly = budget.model.cadence == Cadence::Monthly && budget.model.auto.is_none();
    if monthly {
        line = line.metric("BudgetAmount", Unit::None, money(budget.amount));
        if let Some(p) = percent(spend.total, budget.amount) {
            line = line.metric("BudgetUsedPercent", Unit::Percent, p);
        }
        if let Some(p) = percent(month_end, budget.amount) {
            line = line.metric("ForecastUsedPercent", Unit::Percent, p);
        }
    }
    Some(
        line.property("Currency", budget.currency.as_str())
            .property("Counts", budget.model_text()),
    )
}

/// The spend lines of one stored delivery of `period`. Nothing for a period other than `at`'s
/// month: a late report for a closed month would read as this month's spend. `account_lines`
/// is how many per-account lines this invocation may still emit.
pub fn spend(
    namespace: &str,
    at: DateTime<Utc>,
    period: Period,
    summary: &ReportSummary,
    budgets: &[Budget],
    account_lines: usize,
) -> Vec<MetricLine> {
    if period != Period::of(at) {
        return Vec::new();
    }
    let ts = at.timestamp_millis();
    let payer = summary.payer_account_id.as_deref().unwrap_or("unknown");
    let base = |line: MetricLine| {
        line.property("Period", period.to_string())
            .property("Payer", payer)
    };
    let mut out = Vec::new();

    let mut names: Vec<&Budget> = budgets.iter().collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    for budget in names.into_iter().take(MAX_BUDGETS_PER_DELIVERY) {
        if let Some(w) = budget.watch() {
            out.extend(gauge_line(namespace, ts, summary, budget, w).map(base));
            continue;
        }
        if budget.summed_in_pass() {
            out.extend(pass_budget_line(namespace, ts, period, summary, budget).map(base));
            continue;
        }
        let actual = spent(budget, summary);
        let mut line = MetricLine::new(namespace, ts)
            .dimension("Budget", &budget.name)
            .metric("SpendMonthToDate", Unit::None, money(actual))
            .metric("BudgetAmount", Unit::None, money(budget.amount));
        if let Some(p) = percent(actual, budget.amount) {
            line = line.metric("BudgetUsedPercent", Unit::Percent, p);
        }
        if !matches!(budget.scope, Scope::Tag { .. }) {
            let in_scope: Vec<&Total> =
                summary.totals.iter().filter(|t| budget.covers(t)).collect();
            let month_end = projected(summary, period, &in_scope);
            line = line.metric("ForecastMonthEnd", Unit::None, money(month_end));
            if let Some(p) = percent(month_end, budget.amount) {
                line = line.metric("ForecastUsedPercent", Unit::Percent, p);
            }
        }
        out.push(base(line.property("Currency", budget.currency.as_str())));
    }

    // Totals per currency, with the month-end forecast.
    let mut by_currency: BTreeMap<&str, Vec<&Total>> = BTreeMap::new();
    for t in &summary.totals {
        by_currency.entry(t.currency.as_str()).or_default().push(t);
    }
    for (currency, totals) in &by_currency {
        let actual: Decimal = totals.iter().map(|t| t.cost).sum();
        let month_end = projected(summary, period, totals);
        out.push(base(
            MetricLine::new(namespace, ts)
                .dimension("Currency", currency)
                .metric("SpendMonthToDate", Unit::None, money(actual))
                .metric("ForecastMonthEnd", Unit::None, money(month_end)),
        ));
    }

    let accounts = largest(summary, |t| t.account_id.as_str());
    out.extend(
        top_lines(
            namespace,
            ts,
            "Account",
            &accounts,
            MAX_ACCOUNTS_PER_DELIVERY.min(account_lines),
        )
        .into_iter()
        .map(base),
    );
    let services = largest(summary, |t| t.service.as_str());
    out.extend(
        top_lines(
            namespace,
            ts,
            "Service",
            &services,
            MAX_SERVICES_PER_DELIVERY,
        )
        .into_iter()
        .map(base),
    );
    out
}

/// Month-to-date spend per (name, currency), largest first (ties by name).
fn largest<'a>(
    summary: &'a ReportSummary,
    name: impl Fn(&'a Total) -> &'a str,
) -> Vec<((&'a str, &'a str), Decimal)> {
    let mut sums: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
    for t in &summary.totals {
        *sums.entry((name(t), t.currency.as_str())).or_default() += t.cost;
    }
    let mut out: Vec<_> = sums.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The first `keep` as lines of their own, the rest summed per currency into `other`.
fn top_lines(
    namespace: &str,
    ts: i64,
    dimension: &str,
    ranked: &[((&str, &str), Decimal)],
    keep: usize,
) -> Vec<MetricLine> {
    let line = |name: &str, currency: &str, cost: Decimal| {
        MetricLine::new(namespace, ts)
            .dimension(dimension, name)
            .dimension("Currency", currency)
            .metric("SpendMonthToDate", Unit::None, money(cost))
    };
    let mut out: Vec<MetricLine> = ranked
        .iter()
        .take(keep)
        .map(|((name, currency), cost)| line(name, currency, *cost))
        .collect();
    let mut rest: BTreeMap<&str, Decimal> = BTreeMap::new();
    for ((_, currency), cost) in ranked.iter().skip(keep) {
        *rest.entry(currency).or_default() += *cost;
    }
    out.extend(
        rest.into_iter()
            .map(|(currency, cost)| line(OTHER, currency, cost)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::report::{Format, Status};
    use serde_json::Value;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn at() -> DateTime<Utc> {
        "2026-11-20T08:00:00.000Z".parse().unwrap()
    }

    fn total(account: &str, service: &str, cost: &str) -> Total {
        Total {
            account_id: account.into(),
            service: service.into(),
            service_name: service.into(),
            currency: "USD".into(),
            cost: d(cost),
            breakdown: Default::default(),
            daily_usage: None,
        }
    }

    fn summary(totals: Vec<Total>) -> ReportSummary {
        ReportSummary {
            source: "test".into(),
            format: Format::LegacyMonthly,
            payer_account_id: Some("123456789012".into()),
            billing_period: Some("2026-11".parse().unwrap()),
            status: Status::Estimated,
            as_of: Some("2026-11-20T00:00:00Z".into()),
            rows_read: 3,
            rows_summed: 3,
            totals,
            grand_totals: Vec::new(),
            checks: Vec::new(),
            skipped: Default::default(),
            warnings: Vec::new(),
            tag_totals: Vec::new(),
            budgets: Vec::new(),
            objects_read: 1,
            delivery_id: None,
            commitments: None,
        }
    }

    fn budget(name: &str, amount: &str) -> Budget {
        Budget {
            name: name.into(),
            scope: Scope::All,
            amount: d(amount),
            currency: "USD".into(),
            thresholds: vec![billwatch_core::budget::Threshold::percent(d("80"))],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        }
    }

    fn docs(lines: &[MetricLine]) -> Vec<Value> {
        lines
            .iter()
            .map(|l| {
                let text = l.render().unwrap();
                let doc: Value = serde_json::from_str(&text).unwrap();
                let directive = &doc["_aws"]["CloudWatchMetrics"][0];
                for m in directive["Metrics"].as_array().unwrap() {
                    assert!(METRIC_NAMES.contains(&m["Name"].as_str().unwrap()), "{m}");
                }
                for set in directive["Dimensions"].as_array().unwrap() {
                    for key in set.as_array().unwrap() {
                        assert!(DIMENSION_KEYS.contains(&key.as_str().unwrap()), "{key}");
                    }
                }
                doc
            })
            .collect()
    }

    /// template.yaml's dashboard reads only metrics and dimensions the function emits.
    #[test]
    fn the_dashboard_reads_what_the_function_emits() {
        let path = format!("{}/../../template.yaml", env!("CARGO_MANIFEST_DIR"));
        let template = std::fs::read_to_string(&path).unwrap();
        let start = template.find("  BillwatchDashboard:").expect("a dashboard");
        let end = template[start..].find("\nOutputs:").unwrap() + start;
        let body = &template[start..end];
        let namespace = "billwatch/${AWS::StackName}";
        let mut names = Vec::new();
        for part in body.split("MetricName=\\\"").skip(1) {
            names.push(part.split('\\').next().unwrap());
        }
        for part in body.split(&format!("\"{namespace}\", \"")).skip(1) {
            names.push(part.split('"').next().unwrap());
        }
        assert!(names.len() >= 10, "{names:?}");
        for name in &names {
            assert!(
                METRIC_NAMES.contains(name),
                "the dashboard reads {name}, which is never emitted"
            );
        }
        let mut schemas = 0;
        for part in body.split(&format!("{{{namespace},")).skip(1) {
            schemas += 1;
            for key in part.split('}').next().unwrap().split(',') {
                assert!(
                    DIMENSION_KEYS.contains(&key),
                    "the dashboard searches dimension {key}"
                );
            }
        }
        assert!(schemas >= 8, "{schemas}");
    }

    fn with<'a>(docs: &'a [Value], key: &str, value: &str) -> Vec<&'a Value> {
        docs.iter().filter(|d| d[key] == value).collect()
    }

    #[test]
    fn a_stored_report_line_carries_latency_and_rows() {
        let line = handled(
            "billwatch/test",
            at(),
            &Handled {
                key: "cur/x-Manifest.json",
                outcome: "stored",
                via: "eventbridge",
                format: Some("cur1"),
                rows_read: 1234,
                duration_ms: 850,
                latency_ms: Some(61_000),
            },
        );
        let doc = &docs(&[line])[0];
        assert_eq!(doc["Outcome"], "stored");
        assert_eq!(doc["Reports"], 1.0);
        assert_eq!(doc["RowsRead"], 1234.0);
        assert_eq!(doc["IngestLatency"], 61000.0);
        assert_eq!(doc["IngestDuration"], 850.0);
        assert_eq!(doc["Via"], "eventbridge");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Outcome"], []])
        );
        assert_eq!(doc["_aws"]["Timestamp"], at().timestamp_millis());
        let skipped = handled(
            "ns",
            at(),
            &Handled {
                key: "notes.txt",
                outcome: "skipped",
                via: "s3",
                format: None,
                rows_read: 0,
                duration_ms: 3,
                latency_ms: None,
            },
        );
        assert!(!skipped.metric_names().any(|n| n == "IngestLatency"));
        docs(&[skipped]);
    }

    #[test]
    fn spend_per_budget_account_service_and_total() {
        let s = summary(vec![
            total("111111111111", "AmazonEC2", "600.004"),
            total("111111111111", "AmazonS3", "100"),
            total("222222222222", "AmazonEC2", "112.5"),
        ]);
        let mut team = budget("team-a", "1000");
        team.scope = Scope::Account("111111111111".into());
        let lines = spend(
            "ns",
            at(),
            s.billing_period.unwrap(),
            &s,
            &[budget("all", "1000"), team],
            40,
        );
        let docs = docs(&lines);
        let all = with(&docs, "Budget", "all")[0];
        assert_eq!(all["SpendMonthToDate"], 812.5);
        assert_eq!(all["BudgetAmount"], 1000.0);
        assert_eq!(all["BudgetUsedPercent"], 81.3);
        assert!(all["ForecastMonthEnd"].as_f64().unwrap() > 812.5);
        assert_eq!(all["Period"], "2026-11");
        assert_eq!(all["Currency"], "USD");
        let team = with(&docs, "Budget", "team-a")[0];
        assert_eq!(team["SpendMonthToDate"], 700.0);
        assert_eq!(team["BudgetUsedPercent"], 70.0);
        let account = with(&docs, "Account", "111111111111")[0];
        assert_eq!(account["SpendMonthToDate"], 700.0);
        assert_eq!(account["Currency"], "USD");
        assert_eq!(
            account["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Account", "Currency"]])
        );
        assert_eq!(
            with(&docs, "Service", "AmazonEC2")[0]["SpendMonthToDate"],
            712.5
        );
        let total = docs
            .iter()
            .find(|d| {
                d.get("Budget").is_none()
                    && d.get("Account").is_none()
                    && d.get("Service").is_none()
            })
            .unwrap();
        assert_eq!(total["SpendMonthToDate"], 812.5);
        assert!(with(&docs, "Account", OTHER).is_empty());
    }

    #[test]
    fn a_gauge_budget_emits_its_percentage_and_money_and_an_unanswerable_one_nothing() {
        use billwatch_core::commitment::{Gauge, Gauged, Watch};
        let mut s = summary(vec![total("111111111111", "AmazonEC2", "10")]);
        s.budgets.push(billwatch_core::budget::spec::Figures {
            name: "sp".into(),
            answer: Ok(Vec::new()),
            notes: Vec::new(),
            gauge: Some(Gauged {
                gauge: Gauge::SavingsPlansUtilization,
                part: d("71.4"),
                whole: d("100"),
                unused: d("28.6"),
                days: Vec::new(),
                counted: 1,
            }),
        });
        let mut sp = budget("sp", "100");
        sp.model.watch = Some(Watch::Gauge(Gauge::SavingsPlansUtilization));
        let mut cover = budget("cover", "100");
        cover.model.watch = Some(Watch::Gauge(Gauge::RiCoverage));
        let lines = spend("ns", at(), s.billing_period.unwrap(), &s, &[sp, cover], 40);
        let docs = docs(&lines);
        let sp = with(&docs, "Budget", "sp")[0];
        assert_eq!(sp["UtilizationPercent"], 71.4);
        assert_eq!(sp["UnusedCommitment"], 28.6);
        assert_eq!(sp["Kind"], "savings_plans_utilization");
        assert!(sp.get("SpendMonthToDate").is_none());
        // A legacy report has no commitments: no line rather than a 0 %.
        assert!(with(&docs, "Budget", "cover").is_empty());
    }

    #[test]
    fn accounts_and_services_are_capped_and_the_rest_summed() {
        let totals: Vec<Total> = (0..30)
            .map(|i| {
                total(
                    &format!("{:012}", i + 1),
                    &format!("Service{i:02}"),
                    &format!("{}", i + 1),
                )
            })
            .collect();
        let s = summary(totals);
        let period = s.billing_period.unwrap();
        let docs = docs(&spend("ns", at(), period, &s, &[], 40));
        let accounts: Vec<_> = docs.iter().filter(|d| d.get("Account").is_some()).collect();
        assert_eq!(accounts.len(), MAX_ACCOUNTS_PER_DELIVERY + 1);
        // The largest first: accounts 30..=11 have lines of their own, 1..=10 are `other`.
        assert_eq!(
            with(&docs, "Account", "000000000030")[0]["SpendMonthToDate"],
            30.0
        );
        assert!(with(&docs, "Account", "000000000010").is_empty());
        assert_eq!(with(&docs, "Account", OTHER)[0]["SpendMonthToDate"], 55.0);
        let services: Vec<_> = docs.iter().filter(|d| d.get("Service").is_some()).collect();
        assert_eq!(services.len(), MAX_SERVICES_PER_DELIVERY + 1);
        assert_eq!(with(&docs, "Service", OTHER)[0]["SpendMonthToDate"], 55.0);
        // What the invocation has left bounds the account lines too.
        let docs = self::docs(&spend("ns", at(), period, &s, &[], 5));
        assert_eq!(
            docs.iter().filter(|d| d.get("Account").is_some()).count(),
            6
        );
        assert_eq!(
            with(&docs, "Account", OTHER)[0]["SpendMonthToDate"],
            465.0 - 140.0
        );
        let budgets: Vec<Budget> = (0..60).map(|i| budget(&format!("b{i:02}"), "10")).collect();
        let docs = self::docs(&spend("ns", at(), period, &s, &budgets, 0));
        assert_eq!(
            docs.iter().filter(|d| d.get("Budget").is_some()).count(),
            MAX_BUDGETS_PER_DELIVERY
        );
    }

    #[test]
    fn a_late_report_for_a_closed_month_emits_no_spend() {
        let s = summary(vec![total("111111111111", "AmazonEC2", "1")]);
        let december: DateTime<Utc> = "2026-12-02T08:00:00Z".parse().unwrap();
        assert!(spend(
            "ns",
            december,
            s.billing_period.unwrap(),
            &s,
            &[budget("all", "1")],
            40
        )
        .is_empty());
    }
}
