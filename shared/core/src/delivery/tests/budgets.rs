//! Budgets summed in the engine's pass, through the whole delivery on the in-memory ports: a
//! quarterly amortized budget counts October's stored figures when November is delivered, its
//! claims are the quarter's (each threshold once per quarter, not per month), a delivery
//! replaced by a later one of the same month replaces its figures, and a budget the report
//! cannot answer says so once per span.

use super::*;
use crate::budget::cost::{CostType, Measure};
use crate::budget::span::Cadence;
use crate::budget::spec::{Figures, Spend};
use crate::budget::Model;

fn october() -> Period {
    Period::new(2026, 10).unwrap()
}

/// A quarterly amortized budget of 1,000 USD at 50 % and 80 %.
fn quarterly() -> Budget {
    Budget {
        name: "team-q".into(),
        thresholds: vec![Threshold::percent(d("50")), Threshold::percent(d("80"))],
        model: Model {
            measure: Measure {
                cost: CostType::Amortized,
                ..Measure::default()
            },
            cadence: Cadence::Quarterly,
            ..Model::default()
        },
        ..budget("1000")
    }
}

/// A summary of `period` whose budget `team-q` spent `spend` USD (or cannot be answered).
fn with_figures(period: Period, spend: Result<&str, &str>) -> ReportSummary {
    let mut s = summary(period, "1");
    s.budgets = vec![Figures {
        name: "team-q".into(),
        answer: spend
            .map(|v| {
                vec![Spend {
                    currency: "USD".into(),
                    total: d(v),
                    once: d(v),
                    days: Vec::new(),
                }]
            })
            .map_err(str::to_string),
        notes: Vec::new(),
        gauge: None,
    }];
    s
}

fn sent(m: &Memory) -> Vec<(String, String)> {
    m.tables()
        .published
        .iter()
        .map(|p| (p.period.to_string(), p.key.clone()))
        .collect()
}

const OCT_KEY: &str = "cur/r/20261001-20261101/r-00001.csv.gz";
const NOV_KEY: &str = "cur/r/20261101-20261201/r-00001.csv.gz";

#[test]
fn a_quarter_counts_the_stored_months_and_alerts_each_threshold_once_per_quarter() {
    let m = Memory::new(at(0));
    m.set_budgets(vec![quarterly()]);
    // October: 450 of 1,000: nothing crossed.
    m.put_object(
        BUCKET,
        OCT_KEY,
        Ok(vec![with_figures(october(), Ok("450"))]),
    );
    run(&m, &object(OCT_KEY, "01", 0)).unwrap();
    assert!(sent(&m).is_empty(), "{:?}", sent(&m));
    // November: 100 more: the quarter is at 550, past 50 %, claimed under October (the
    // quarter's first month).
    m.put_object(BUCKET, NOV_KEY, Ok(vec![with_figures(nov(), Ok("100"))]));
    run(&m, &object(NOV_KEY, "02", 5)).unwrap();
    assert_eq!(
        sent(&m),
        [("2026-10".to_string(), "team-q#actual#50".to_string())]
    );
    let owed = &m.tables().published[0];
    assert!(owed.subject.contains("2026-Q4"), "{}", owed.subject);
    // A later November at 200: 650, still past 50 % only: nothing new.
    m.put_object(BUCKET, NOV_KEY, Ok(vec![with_figures(nov(), Ok("200"))]));
    run(&m, &object(NOV_KEY, "03", 10)).unwrap();
    assert_eq!(sent(&m).len(), 1);
    // A restated October at 700: 900 with November's 200, past 80 %, once.
    m.put_object(
        BUCKET,
        OCT_KEY,
        Ok(vec![with_figures(october(), Ok("700"))]),
    );
    run(&m, &object(OCT_KEY, "04", 15)).unwrap();
    run(&m, &object(NOV_KEY, "05", 20)).unwrap();
    assert_eq!(
        sent(&m),
        [
            ("2026-10".to_string(), "team-q#actual#50".to_string()),
            ("2026-10".to_string(), "team-q#actual#80".to_string()),
        ]
    );
}

#[test]
fn a_budget_the_report_cannot_answer_is_said_once_per_span_never_a_zero() {
    let m = Memory::new(at(0));
    m.set_budgets(vec![quarterly()]);
    let why = "a legacy-monthly report cannot answer amortized cost";
    m.put_object(BUCKET, NOV_KEY, Ok(vec![with_figures(nov(), Err(why))]));
    run(&m, &object(NOV_KEY, "01", 0)).unwrap();
    run(&m, &object(NOV_KEY, "02", 5)).unwrap();
    let t = m.tables();
    assert_eq!(t.published.len(), 1, "{:?}", t.published);
    let p = &t.published[0];
    assert_eq!(
        (p.period, p.key.as_str()),
        (october(), "team-q#unanswerable")
    );
    assert!(
        p.subject.contains("cannot be answered for 2026-Q4"),
        "{}",
        p.subject
    );
}

#[test]
fn only_the_months_a_budget_needs_are_read() {
    use crate::budget::standing::months_needed;
    use crate::budget::Auto;
    let plain = budget("100");
    assert!(months_needed(std::slice::from_ref(&plain), nov()).is_empty());
    let q = quarterly();
    assert_eq!(months_needed(std::slice::from_ref(&q), nov()), [october()]);
    let mut annual = q.clone();
    annual.model.cadence = Cadence::Annual;
    assert_eq!(months_needed(&[annual], nov()).len(), 10);
    let mut auto = plain;
    auto.model.auto = Some(Auto { months: 3 });
    assert_eq!(
        months_needed(&[auto, q], nov())
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["2026-08", "2026-09", "2026-10"]
    );
}
