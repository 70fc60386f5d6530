//! The driver on the in-memory ports: what a delivery leaves in the stores.

use super::*;
use crate::delivery::decide::{version_of, MAX_FLIP_ATTEMPTS};
use crate::delivery::memory::Fault;
use crate::delivery::{padded_sequencer, Outcome};

#[test]
fn a_new_delivery_is_stored_made_live_alerted_and_recorded() {
    let m = world();
    let o = object(KEY, "0A", 0);
    let out = run(&m, &o).unwrap();
    assert_eq!(out.outcome, Outcome::Stored);
    assert_eq!((out.totals_written, out.period), (1, Some(nov())));
    assert!(out.alerts_sent >= 1, "60 of 100 USD crosses 50 %");
    let t = m.tables();
    let version = version_of(&o);
    let live = &t.pointers[&(nov(), PAYER.to_string())];
    assert_eq!(live.version, version);
    assert_eq!(live.sequencer, Some(padded_sequencer("0A")));
    assert_eq!(t.totals.len(), 1);
    assert_eq!(
        t.totals[&(PAYER.into(), nov(), version.clone())][0].cost,
        d("60")
    );
    let mark = &t.marks[&(nov(), PAYER.into(), version)];
    assert!(mark.complete && mark.mark.order.rank > 0);
    assert!(t.outbox.is_empty(), "the outbox is drained");
    assert_eq!(t.published.len() as u64, out.alerts_sent);
    assert!(t.claims.values().all(|c| c.published_at.is_some()));
    assert_eq!(
        t.sequencers[&(BUCKET.into(), KEY.into())].0,
        padded_sequencer("0A")
    );
    let records: Vec<_> = t.records.values().collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Stored);
    assert_eq!(records[0].format, Some(Format::Cur2));
    assert_eq!(
        m.call_log(),
        [
            "latest_sequencer",
            "budgets",
            "summarize",
            "mark_version",
            "write_version",
            "version_complete",
            "anomalies",
            "pointer",
            "flip",
            "pointer",
            "versions",
            "outbox",
        ]
        .into_iter()
        .chain(
            std::iter::repeat_n(["claim", "publish", "mark_published"], t.published.len())
                .flatten()
        )
        .chain(["delete_outbox", "note_sequencer", "record"])
        .collect::<Vec<_>>()
    );
}

#[test]
fn a_duplicate_event_reads_nothing_and_an_older_one_is_stale() {
    let m = world();
    run(&m, &object(KEY, "0B", 0)).unwrap();
    let before = m.tables();
    let calls = m.calls();
    m.advance(Duration::minutes(1));
    let dup = run(&m, &object(KEY, "0B", 0)).unwrap();
    assert_eq!(dup.outcome, Outcome::Duplicate);
    assert_eq!(
        &m.call_log()[calls as usize..],
        ["latest_sequencer", "record"]
    );
    m.advance(Duration::minutes(1));
    let stale = run(&m, &object(KEY, "0A", 0)).unwrap();
    assert_eq!(stale.outcome, Outcome::Stale);
    let after = m.tables();
    assert_eq!(after.records.len(), 3, "every event is recorded");
    assert_eq!(
        (after.pointers, after.totals, after.published),
        (before.pointers, before.totals, before.published)
    );
}

#[test]
fn a_retry_of_a_delivery_already_live_is_a_duplicate_that_finishes_the_work() {
    let m = world();
    let o = object(KEY, "0A", 0);
    // Killed after the flip took effect: live, but nothing sent, nothing noted.
    m.fail_at(8, Fault::KillAfter);
    assert!(matches!(run(&m, &o), Err(MemoryError::Killed { .. })));
    assert_eq!(m.call_log()[8], "flip");
    let t = m.tables();
    assert!(t.pointers.contains_key(&(nov(), PAYER.to_string())));
    assert!(!t.outbox.is_empty() && t.published.is_empty() && t.records.is_empty());
    m.revive();
    let out = run(&m, &o).unwrap();
    assert_eq!(out.outcome, Outcome::Duplicate);
    assert_eq!(out.reason.as_deref(), Some("this delivery is already live"));
    assert_eq!(out.totals_written, 0);
    assert!(out.alerts_sent >= 1, "the retry drains what the flip owed");
    let t = m.tables();
    assert!(t.outbox.is_empty());
    assert!(t.sequencers.contains_key(&(BUCKET.into(), KEY.into())));
}

#[test]
fn an_outranked_delivery_is_stale_and_its_version_swept() {
    let m = world();
    let later = "cur/r/20261101-20261201/r-00002.csv.gz";
    m.put_object(BUCKET, later, Ok(vec![summary(nov(), "70")]));
    let newer = object(later, "0A", 5);
    let older = object(KEY, "0A", 0);
    assert_eq!(run(&m, &newer).unwrap().outcome, Outcome::Stored);
    let out = run(&m, &older).unwrap();
    assert_eq!(out.outcome, Outcome::Stale);
    assert!(out.reason.unwrap().contains(later));
    let t = m.tables();
    assert_eq!(
        t.pointers[&(nov(), PAYER.to_string())].version,
        version_of(&newer)
    );
    assert_eq!(
        t.totals.len(),
        1,
        "the outranked version's totals are removed"
    );
    assert_eq!(t.marks.len(), 1);
}

#[test]
fn a_newer_delivery_replaces_the_live_one_and_sweeps_it() {
    let m = world();
    let first = object(KEY, "0A", 0);
    let second = object(KEY, "0B", 0);
    run(&m, &first).unwrap();
    m.put_object(BUCKET, KEY, Ok(vec![summary(nov(), "110")]));
    let out = run(&m, &second).unwrap();
    assert_eq!(out.outcome, Outcome::Stored);
    let t = m.tables();
    assert_eq!(
        t.pointers[&(nov(), PAYER.to_string())].version,
        version_of(&second)
    );
    assert_eq!(t.totals.len(), 1);
    assert!(t
        .totals
        .contains_key(&(PAYER.into(), nov(), version_of(&second))));
    // 60 then 110 of 100 USD: 50 % once, then 100 %: each alert once.
    let mut keys: Vec<_> = t.published.iter().map(|p| p.key.clone()).collect();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "{keys:?}");
}

#[test]
fn the_flip_is_tried_again_on_a_conflict_up_to_its_limit() {
    let flip_index = 8;
    // Each conflict reads the pointer again: 2 calls per attempt (the budgets were read once,
    // before the report).
    let conflicts = |m: &Memory, n: usize| {
        for i in 0..n {
            m.fail_at(flip_index + 2 * i as u64, Fault::Conflict);
        }
    };
    let m = world();
    conflicts(&m, MAX_FLIP_ATTEMPTS - 1);
    assert_eq!(
        run(&m, &object(KEY, "0A", 0)).unwrap().outcome,
        Outcome::Stored
    );
    assert_eq!(
        m.call_log().iter().filter(|c| **c == "flip").count(),
        MAX_FLIP_ATTEMPTS
    );

    let m = world();
    conflicts(&m, MAX_FLIP_ATTEMPTS);
    let err = run(&m, &object(KEY, "0A", 0)).unwrap_err();
    assert!(matches!(
        err,
        MemoryError::FlipContended {
            attempts: MAX_FLIP_ATTEMPTS,
            ..
        }
    ));
    let t = m.tables();
    assert!(t.pointers.is_empty());
    assert!(t.sequencers.is_empty(), "not noted: the retry does it all");
    assert_eq!(t.records.values().next().unwrap().outcome, Outcome::Failed);
    assert!(t.published.is_empty());
}

#[test]
fn a_version_left_by_a_dead_attempt_is_swept_once_abandoned() {
    let m = world();
    let later = "cur/r/20261101-20261201/r-00002.csv.gz";
    m.put_object(BUCKET, later, Ok(vec![summary(nov(), "70")]));
    // The later delivery dies after writing its totals, before noting them complete.
    m.fail_at(4, Fault::KillAfter);
    assert!(run(&m, &object(later, "0A", 5)).is_err());
    m.revive();
    // An earlier delivery goes live meanwhile; the dead one's version is not outranked.
    run(&m, &object(KEY, "0A", 0)).unwrap();
    assert_eq!(m.tables().totals.len(), 2);
    // Twenty minutes on, the next delivery sweeps it.
    m.advance(Duration::seconds(
        crate::delivery::decide::ABANDONED_SECONDS + 1,
    ));
    run(&m, &object(KEY, "0B", 0)).unwrap();
    let t = m.tables();
    assert_eq!(t.totals.len(), 1);
    assert_eq!(t.marks.len(), 1);
}

#[test]
fn an_object_of_several_periods_delivers_each_and_records_each() {
    let m = world();
    let key = "focus/data/export.parquet";
    m.put_object(
        BUCKET,
        key,
        Ok(vec![summary(nov().prev(), "10"), summary(nov(), "60")]),
    );
    let out = run(&m, &object(key, "0A", 0)).unwrap();
    assert_eq!(out.outcome, Outcome::Stored);
    assert_eq!(out.totals_written, 2);
    let t = m.tables();
    assert_eq!(t.pointers.len(), 2);
    let periods: Vec<_> = t.records.values().map(|r| r.period).collect();
    assert_eq!(periods, [nov().prev(), nov()]);
}

#[test]
fn anomaly_alerts_go_with_the_flip_and_only_once() {
    let m = world();
    m.set_budgets(Vec::new());
    let anomaly = crate::alert::notices::report_failed(nov(), BUCKET, KEY, "x", "stand-in anomaly");
    m.set_anomalies(KEY, vec![anomaly.clone()]);
    assert_eq!(run(&m, &object(KEY, "0A", 0)).unwrap().alerts_sent, 1);
    m.put_object(BUCKET, KEY, Ok(vec![summary(nov(), "61")]));
    assert_eq!(run(&m, &object(KEY, "0B", 0)).unwrap().alerts_sent, 0);
    assert_eq!(m.tables().published.len(), 1);
    assert_eq!(m.tables().published[0].key, anomaly.key);
}
