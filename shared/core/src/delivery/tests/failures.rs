//! What a delivery does when something fails: permanent and transient failures, faults at
//! every kind of call, alerts that cannot go yet.

use super::*;
use crate::delivery::decide::CLAIM_LEASE_SECONDS;
use crate::delivery::memory::Fault;
use crate::delivery::{Class, Failure, Outcome};
use crate::report::{ErrorKind, ReportError};

#[test]
fn an_empty_report_is_skipped_noted_and_recorded_without_an_alert() {
    let m = world();
    m.put_object(
        BUCKET,
        KEY,
        Err(ReportError::new(KEY, ErrorKind::Empty(String::new()))),
    );
    let out = run(&m, &object(KEY, "0A", 0)).unwrap();
    assert_eq!(out.outcome, Outcome::Skipped);
    let t = m.tables();
    assert!(t.published.is_empty() && t.pointers.is_empty());
    assert!(t.sequencers.contains_key(&(BUCKET.into(), KEY.into())));
    let record = t.records.values().next().unwrap();
    assert_eq!(record.outcome, Outcome::Skipped);
    assert!(record.error.as_deref().unwrap().contains("no line items"));
}

#[test]
fn a_report_that_cannot_be_read_alerts_once_is_noted_and_fails_for_good() {
    let m = world();
    m.put_object(
        BUCKET,
        KEY,
        Err(ReportError::new(KEY, ErrorKind::Invalid("torn row".into()))),
    );
    let o = object(KEY, "0A", 0);
    let err = run(&m, &o).unwrap_err();
    assert_eq!(err.class(), Class::Permanent);
    let t = m.tables();
    assert_eq!(t.published.len(), 1, "the report-failed alert");
    let record = t.records.values().next().unwrap();
    assert_eq!((record.outcome, record.alerts_sent), (Outcome::Failed, 1));
    assert!(record.error.as_deref().unwrap().contains("torn row"));
    // Noted: the same event again is a duplicate, with no second alert.
    assert_eq!(run(&m, &o).unwrap().outcome, Outcome::Duplicate);
    assert_eq!(m.tables().published.len(), 1);
}

#[test]
fn a_report_without_a_billing_period_fails_for_good() {
    let m = world();
    let mut s = summary(nov(), "1");
    s.billing_period = None;
    m.put_object(BUCKET, KEY, Ok(vec![s]));
    let err = run(&m, &object(KEY, "0A", 0)).unwrap_err();
    assert_eq!(err.class(), Class::Permanent);
    assert!(err.to_string().contains("no billing period"), "{err}");
}

#[test]
fn a_transient_failure_is_recorded_and_returned_and_the_retry_stores_it() {
    for fault in [
        Fault::Throttle,
        Fault::Status500,
        Fault::Status503,
        Fault::Reset,
        Fault::Timeout,
    ] {
        let m = world();
        m.fail_at(1, fault); // summarize
        let o = object(KEY, "0A", 0);
        let err = run(&m, &o).unwrap_err();
        assert_eq!(err.class(), Class::Transient, "{fault:?}");
        let t = m.tables();
        assert!(
            t.published.is_empty() && t.sequencers.is_empty(),
            "{fault:?}"
        );
        assert_eq!(t.records.values().next().unwrap().outcome, Outcome::Failed);
        m.advance(Duration::seconds(1));
        assert_eq!(run(&m, &o).unwrap().outcome, Outcome::Stored, "{fault:?}");
    }
}

#[test]
fn a_fault_at_any_call_then_a_retry_leaves_the_same_stores_as_no_fault() {
    let clean = world();
    let o = object(KEY, "0A", 0);
    run(&clean, &o).unwrap();
    // The retry runs later: the pointer's stored_at is its time.
    let unstamped = |t: &crate::delivery::memory::Tables| {
        let mut p = t.pointers.clone();
        p.values_mut().for_each(|p| p.stored_at.clear());
        p
    };
    let expected = clean.tables();
    let calls = clean.calls();
    for k in 0..calls {
        for fault in Fault::ALL {
            let m = world();
            m.fail_at(k, fault);
            let first = run(&m, &o);
            m.revive();
            m.advance(Duration::seconds(CLAIM_LEASE_SECONDS + 1));
            let retry = run(&m, &o);
            let case = format!("call #{k} {fault:?}: {first:?} then {retry:?}");
            assert!(retry.is_ok(), "{case}");
            let t = m.tables();
            assert_eq!(unstamped(&t), unstamped(&expected), "{case}");
            assert_eq!(t.totals, expected.totals, "{case}");
            assert_eq!(t.sequencers, expected.sequencers, "{case}");
            assert!(t.outbox.is_empty(), "{case}");
            let mut keys: Vec<_> = t.published.iter().map(|p| &p.key).collect();
            let mut want: Vec<_> = expected.published.iter().map(|p| &p.key).collect();
            keys.sort();
            want.sort();
            // The publish window: a publish whose reply was lost (or whose process died right
            // after it), or that could not be marked, may be sent again once its claim's lease
            // runs out; nothing else may.
            let call = m.call_log()[k as usize];
            let window = (call == "publish" && matches!(fault, Fault::Timeout | Fault::KillAfter))
                || call == "mark_published";
            if window {
                keys.dedup();
            }
            assert_eq!(keys, want, "{case}");
        }
    }
}

#[test]
fn an_alert_another_attempt_holds_fails_the_delivery_until_its_lease_runs_out() {
    let m = world();
    let o = object(KEY, "0A", 0);
    // The first attempt dies between claiming an alert and publishing it.
    let log = {
        let probe = world();
        run(&probe, &o).unwrap();
        probe.call_log()
    };
    m.fail_at(nth_call(&log, "publish", 0), Fault::KillBefore);
    assert!(run(&m, &o).is_err());
    m.revive();
    let err = run(&m, &o).unwrap_err();
    assert!(matches!(err, MemoryError::AlertPending(_)), "{err}");
    assert_eq!(err.class(), Class::Transient);
    assert!(!m.tables().outbox.is_empty(), "kept for the retry");
    m.advance(Duration::seconds(CLAIM_LEASE_SECONDS + 1));
    run(&m, &o).unwrap();
    let t = m.tables();
    assert!(t.outbox.is_empty());
    assert_eq!(
        t.published.len(),
        log.iter().filter(|c| **c == "publish").count()
    );
}

#[test]
fn a_publish_that_fails_gives_its_claim_back_and_the_retry_sends_it() {
    let probe = world();
    let o = object(KEY, "0A", 0);
    run(&probe, &o).unwrap();
    let publish = nth_call(&probe.call_log(), "publish", 0);
    let m = world();
    m.fail_at(publish, Fault::Status503);
    let err = run(&m, &o).unwrap_err();
    assert_eq!(err.class(), Class::Transient);
    let t = m.tables();
    assert_eq!(t.published.len(), probe.tables().published.len() - 1);
    assert!(!t.outbox.is_empty());
    let released = &m.call_log()[publish as usize + 1];
    assert_eq!(*released, "release");
    // At once: the claim was given back, no lease to wait for.
    run(&m, &o).unwrap();
    assert_eq!(m.tables().published.len(), probe.tables().published.len());
    assert!(m.tables().outbox.is_empty());
}

#[test]
fn an_alert_the_channel_refuses_is_kept_as_failed_and_not_retried() {
    let m = world();
    m.refuse_topic("alerts");
    let out = run(&m, &object(KEY, "0A", 0)).unwrap();
    assert_eq!((out.outcome, out.alerts_sent), (Outcome::Stored, 0));
    let t = m.tables();
    assert!(t.outbox.is_empty() && t.published.is_empty());
    assert!(!t.claims.is_empty());
    assert!(t.claims.values().all(|c| c.failed_at.is_some()));
}

#[test]
fn without_a_topic_alerts_are_evaluated_not_sent() {
    let m = world();
    m.set_topic(None);
    let out = run(&m, &object(KEY, "0A", 0)).unwrap();
    assert_eq!(out.alerts_sent, 0);
    let t = m.tables();
    assert!(t.outbox.is_empty() && t.claims.is_empty() && t.published.is_empty());
}

#[test]
fn a_report_failed_alert_that_cannot_be_sent_is_retried_until_it_goes_once() {
    let m = world();
    m.put_object(
        BUCKET,
        KEY,
        Err(ReportError::new(KEY, ErrorKind::Invalid("torn row".into()))),
    );
    let o = object(KEY, "0A", 0);
    let log = {
        let probe = world();
        probe.put_object(
            BUCKET,
            KEY,
            Err(ReportError::new(KEY, ErrorKind::Invalid("torn row".into()))),
        );
        let _ = run(&probe, &o);
        probe.call_log()
    };
    m.fail_at(nth_call(&log, "publish", 0), Fault::Status500);
    let err = run(&m, &o).unwrap_err();
    // The send's failure is returned (a retry can help), not the report's (which cannot).
    assert_eq!(err.class(), Class::Transient, "{err}");
    let t = m.tables();
    assert!(t.published.is_empty());
    assert!(
        t.sequencers.is_empty(),
        "not noted: the retry must not be a duplicate"
    );
    let record = t.records.values().next().unwrap();
    assert_eq!((record.outcome, record.alerts_sent), (Outcome::Failed, 0));
    assert!(record.error.as_deref().unwrap().contains("torn row"));
    // The retry reads the report again, fails for good, and sends the alert, once.
    m.advance(Duration::minutes(2));
    let err = run(&m, &o).unwrap_err();
    assert_eq!(err.class(), Class::Permanent);
    assert_eq!(m.tables().published.len(), 1);
    assert!(m
        .tables()
        .sequencers
        .contains_key(&(BUCKET.into(), KEY.into())));
    assert_eq!(run(&m, &o).unwrap().outcome, Outcome::Duplicate);
    assert_eq!(m.tables().published.len(), 1);
}
