//! Commitment budgets through the whole delivery on the in-memory ports: the gauge is stored
//! with the version; a fault at any call, then a retry, leaves the stores a clean run leaves and
//! sends each commitment alert once (the publish window aside, as for every alert); an expiry
//! warning claimed in the month its commitment ends is not sent again by next month's delivery.

use super::*;
use crate::budget::cost::LineType;
use crate::budget::Model;
use crate::commitment::{Commitments, Line, Watch};
use crate::delivery::decide::CLAIM_LEASE_SECONDS;
use crate::delivery::memory::Fault;

fn sp(day: u32, total: &str, used: &str) -> Line<'static> {
    Line {
        line_type: Some(LineType::SavingsPlanRecurringFee),
        account: "222222222222",
        sp_arn: "arn:aws:savingsplans::222222222222:savingsplan/a",
        sp_total_commitment: d(total),
        sp_used_commitment: d(used),
        sp_end: "2027-01-10T00:00:00Z",
        cost: d(total),
        day,
        ..Line::default()
    }
}

/// A CUR summary of `period`, data as of `as_of`, with a Savings Plan 70 % used.
fn with_commitments(period: Period, as_of: &str) -> ReportSummary {
    let mut c = Commitments::default();
    for l in [sp(1, "10", "10"), sp(2, "10", "4")] {
        c.add(&l);
    }
    ReportSummary {
        as_of: Some(as_of.into()),
        commitments: Some(c.finish()),
        ..summary(period, "60")
    }
}

fn watching(name: &str, kind: &str, lines: &[&str]) -> Budget {
    Budget {
        name: name.into(),
        amount: Decimal::ONE_HUNDRED,
        thresholds: lines.iter().map(|l| Threshold::percent(d(l))).collect(),
        model: Model {
            watch: Watch::of_kind(kind, Some(vec![60, 30])),
            ..Model::default()
        },
        ..budget("100")
    }
}

fn commitment_world() -> Memory {
    let m = Memory::new(at(0));
    m.set_budgets(vec![
        watching("sp", "savings_plans_utilization", &["90"]),
        watching("ends", "commitment_expiry", &[]),
    ]);
    m.put_object(
        BUCKET,
        KEY,
        Ok(vec![with_commitments(nov(), "2026-11-20T00:00:00Z")]),
    );
    m
}

fn keys(m: &Memory) -> Vec<(String, String)> {
    let mut k: Vec<_> = m
        .tables()
        .published
        .iter()
        .map(|p| (p.period.to_string(), p.key.clone()))
        .collect();
    k.sort();
    k
}

#[test]
fn the_gauge_is_stored_and_each_alert_goes_once() {
    let m = commitment_world();
    run(&m, &object(KEY, "0A", 0)).unwrap();
    assert_eq!(
        keys(&m),
        [
            ("2026-11".to_string(), "sp#below#90".to_string()),
            (
                "2027-01".to_string(),
                "ends#expiry#arn:aws:savingsplans::222222222222:savingsplan/a#60".to_string()
            ),
        ]
    );
    let t = m.tables();
    let figures: Vec<_> = t.budget_figures.values().flatten().collect();
    assert_eq!(figures.len(), 1);
    assert_eq!(figures[0].gauge.as_ref().unwrap().percent(), Some(d("70")));
    // December's delivery sees the commitment 40 days from its end: still the 60-day warning,
    // claimed in January: nothing new.
    let dec = Period::new(2026, 12).unwrap();
    let dec_key = "cur/r/20261201-20270101/r-00001.csv.gz";
    m.put_object(
        BUCKET,
        dec_key,
        Ok(vec![with_commitments(dec, "2026-12-01T00:00:00Z")]),
    );
    run(&m, &object(dec_key, "0B", 5)).unwrap();
    let after: Vec<_> = keys(&m)
        .into_iter()
        .filter(|(_, k)| k.starts_with("ends#"))
        .collect();
    assert_eq!(after.len(), 1, "{after:?}");
}

#[test]
fn a_fault_at_any_call_then_a_retry_sends_each_commitment_alert_once() {
    let clean = commitment_world();
    let o = object(KEY, "0A", 0);
    run(&clean, &o).unwrap();
    let expected = clean.tables();
    let want = keys(&clean);
    for k in 0..clean.calls() {
        for fault in Fault::ALL {
            let m = commitment_world();
            m.fail_at(k, fault);
            let first = run(&m, &o);
            m.revive();
            m.advance(Duration::seconds(CLAIM_LEASE_SECONDS + 1));
            let retry = run(&m, &o);
            let case = format!("call #{k} {fault:?}: {first:?} then {retry:?}");
            assert!(retry.is_ok(), "{case}");
            let t = m.tables();
            assert_eq!(t.budget_figures, expected.budget_figures, "{case}");
            assert!(t.outbox.is_empty(), "{case}");
            let mut got = keys(&m);
            let call = m.call_log()[k as usize];
            if (call == "publish" && matches!(fault, Fault::Timeout | Fault::KillAfter))
                || call == "mark_published"
            {
                got.dedup();
            }
            assert_eq!(got, want, "{case}");
        }
    }
}
