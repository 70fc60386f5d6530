//! Commitment budgets in a delivery's plan: a gauge under its line, the month or a day, a report
//! with nothing to gauge (said, never 0 %), a legacy report, expiry lead times.

use super::super::plan::plan_delivery;
use super::super::{Alert, AlertKind};
use crate::alert::delivery::Delivery;
use crate::budget::cost::LineType;
use crate::budget::{Budget, Model, Scope, Threshold};
use crate::commitment::{Commitments, Line, Watch};
use crate::period::Period;
use crate::report::{Format, ReportSummary, Status};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn nov() -> Period {
    "2026-11".parse().unwrap()
}

/// A CUR summary of November, data as of `as_of`, with the commitments of `lines`.
fn cur(as_of: &str, lines: &[Line<'_>]) -> ReportSummary {
    let mut c = Commitments::default();
    lines.iter().for_each(|l| c.add(l));
    ReportSummary {
        source: "s".into(),
        format: Format::Cur2,
        payer_account_id: Some("111111111111".into()),
        billing_period: Some(nov()),
        status: Status::Estimated,
        as_of: Some(as_of.into()),
        rows_read: 1,
        rows_summed: 1,
        totals: vec![],
        grand_totals: vec![],
        checks: vec![],
        skipped: Default::default(),
        warnings: vec![],
        tag_totals: vec![],
        budgets: vec![],
        objects_read: 1,
        delivery_id: None,
        commitments: Some(c.finish()),
    }
}

fn sp(day: u32, total: &str, used: &str) -> Line<'static> {
    Line {
        line_type: Some(LineType::SavingsPlanRecurringFee),
        account: "111111111111",
        sp_arn: "arn:aws:savingsplans::111111111111:savingsplan/aaaa",
        sp_total_commitment: d(total),
        sp_used_commitment: d(used),
        sp_end: "2026-12-20T23:59:59Z",
        sp_term: "1yr",
        sp_payment_option: "No Upfront",
        sp_offering_type: "ComputeSavingsPlans",
        cost: d(total),
        day,
        ..Line::default()
    }
}

fn watching(name: &str, kind: &str, lines: &[&str]) -> Budget {
    Budget {
        name: name.into(),
        scope: Scope::All,
        amount: Decimal::ONE_HUNDRED,
        currency: "USD".into(),
        thresholds: lines.iter().map(|l| Threshold::percent(d(l))).collect(),
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: Vec::new(),
        digest_every: Default::default(),
        model: Model {
            watch: Watch::of_kind(kind, None),
            ..Model::default()
        },
    }
}

fn plan(s: &ReportSummary, budgets: &[Budget]) -> Vec<Alert> {
    plan_delivery(&Delivery {
        report_key: "cur/111111111111/2026-11/part.csv.gz",
        object_version: "0055AED6DCD90281E5",
        summary: s,
        period: nov(),
        previous: None,
        budgets,
        history: &[],
        anomalies: &[],
    })
}

#[test]
fn utilization_under_its_line_alerts_once_per_month_and_line_and_says_it_in_money() {
    // Day 1 fully used, day 2 used 40 %: month to date 70 %, data as of day 3.
    let s = cur(
        "2026-11-03T00:00:00Z",
        &[sp(1, "10", "10"), sp(2, "10", "4")],
    );
    let budgets = [watching("sp", "savings_plans_utilization", &["90", "50"])];
    let alerts = plan(&s, &budgets);
    // Under 90 by the month; under 50 only by day 2 (40 %), a complete day.
    let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, vec!["sp#below#50", "sp#below#90"]);
    let a = &alerts[1];
    assert_eq!((a.kind, a.period), (AlertKind::Commitment, nov()));
    assert!(
        a.message
            .text
            .contains("utilization 70.0 %: 6.00 USD of commitment unused so far this month"),
        "{}",
        a.message.text
    );
    assert!(
        alerts[0].reason.contains("on day 2 was 40.0 %"),
        "{}",
        alerts[0].reason
    );
    assert!(
        a.message.sns_problems().is_empty(),
        "{:?}",
        a.message.sns_problems()
    );
    assert_eq!(a.message.payload["percent"], "70");
    // A later delivery of the month with the same lines plans the same keys: its claim is
    // the first one's, so nothing is sent again this month.
    let later = cur(
        "2026-11-04T00:00:00Z",
        &[sp(1, "10", "10"), sp(2, "10", "4"), sp(3, "10", "10")],
    );
    let again: Vec<String> = plan(&later, &budgets).into_iter().map(|a| a.key).collect();
    assert_eq!(again, vec!["sp#below#50", "sp#below#90"]);
}

#[test]
fn a_day_not_complete_yet_does_not_count() {
    // Day 2 is the day the data reaches: not complete, so its 40 % does not cross 50.
    let s = cur(
        "2026-11-02T12:00:00Z",
        &[sp(1, "10", "10"), sp(2, "10", "4")],
    );
    let alerts = plan(&s, &[watching("sp", "savings_plans_utilization", &["50"])]);
    assert!(alerts.is_empty(), "{alerts:?}");
}

#[test]
fn a_report_without_commitments_says_so_once_and_never_alerts_zero_percent() {
    let s = cur("2026-11-03T00:00:00Z", &[]);
    for kind in [
        "savings_plans_utilization",
        "ri_utilization",
        "savings_plans_coverage",
        "ri_coverage",
    ] {
        let alerts = plan(&s, &[watching("c", kind, &["90"])]);
        assert_eq!(alerts.len(), 1, "{kind}");
        let a = &alerts[0];
        assert_eq!(a.key, "c#unanswerable");
        assert_eq!(a.kind, AlertKind::Health);
        assert!(!a.message.text.contains(" 0 %") && !a.message.text.contains("0.0 %"));
        assert!(a.message.text.contains("there is no"), "{}", a.message.text);
    }
    let mut legacy = cur("2026-11-03T00:00:00Z", &[]);
    legacy.format = Format::LegacyMonthly;
    legacy.commitments = None;
    let alerts = plan(&legacy, &[watching("c", "ri_coverage", &["90"])]);
    assert!(
        alerts[0].message.text.contains("Cost and Usage Reports"),
        "{}",
        alerts[0].message.text
    );
    let alerts = plan(&legacy, &[watching("e", "commitment_expiry", &[])]);
    assert_eq!(alerts[0].key, "e#unanswerable");
}

#[test]
fn expiry_warns_at_the_tightest_lead_reached_claimed_in_the_month_it_ends() {
    let budgets = [watching("ends", "commitment_expiry", &[])];
    // Ends 2026-12-20: 47 days after 2026-11-03 (inside 60), 17 days after 2026-12-03.
    let s = cur("2026-11-03T00:00:00Z", &[sp(1, "10", "10")]);
    let alerts = plan(&s, &budgets);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.period, "2026-12".parse().unwrap());
    assert_eq!(
        a.key,
        "ends#expiry#arn:aws:savingsplans::111111111111:savingsplan/aaaa#60"
    );
    let text = &a.message.text;
    assert!(text.contains("ends on 2026-12-20 (in 47 days)"), "{text}");
    assert!(
        text.contains("ComputeSavingsPlans") && text.contains("1yr, No Upfront"),
        "{text}"
    );
    assert!(text.contains("Monthly value:       10.00 USD"), "{text}");
    assert!(
        a.message.sns_problems().is_empty(),
        "{:?}",
        a.message.sns_problems()
    );
    // December's delivery, 17 days before: the 30-day key, in the same claim month.
    let mut dec = cur("2026-12-03T00:00:00Z", &[sp(1, "10", "10")]);
    dec.billing_period = Some("2026-12".parse().unwrap());
    let later = plan_delivery(&Delivery {
        report_key: "k",
        object_version: "v",
        summary: &dec,
        period: "2026-12".parse().unwrap(),
        previous: None,
        budgets: &budgets,
        history: &[],
        anomalies: &[],
    });
    assert_eq!(later.len(), 1);
    assert!(later[0].key.ends_with("#30"));
    assert_eq!(later[0].period, a.period);
}
