//! Each decision of a delivery, as a plain function.

use super::*;
use crate::alert::notices;
use crate::delivery::decide::{
    merge, on_failure, replace, seen_before, sweeps, sweeps_own, version_of, Done, OnFailure,
    Replace, ABANDONED_SECONDS,
};
use crate::delivery::outbox::{fit_outbox, outbox_items, OUTBOX_ITEM_BYTES};
use crate::delivery::record::{checks_text, received, MAX_RECORD_CHECKS};
use crate::delivery::{padded_sequencer, Class, Order, Outcome, Owed, Pointer, VersionMark};
use crate::report::Check;

fn pointer(version: &str, rank: u8, key: &str, minutes: i64, seq: &str) -> Pointer {
    Pointer {
        payer: PAYER.into(),
        period: nov(),
        version: version.into(),
        report_key: key.into(),
        order_key: crate::delivery::order_key(at(minutes), Some(seq)),
        rank,
        format: Format::Cur2,
        status: Status::Estimated,
        as_of: None,
        delivery_id: None,
        stored_at: "2026-11-20T08:00:00.000Z".into(),
        rows_summed: 1,
        sequencer: Some(padded_sequencer(seq)),
    }
}

fn mark(p: &Pointer, written_epoch: i64, complete: bool) -> VersionMark {
    VersionMark {
        version: p.version.clone(),
        written_epoch,
        order: p.order(),
        complete,
    }
}

#[test]
fn a_version_is_the_same_for_every_attempt_at_one_event_and_differs_between_events() {
    let a = object(KEY, "0A", 0);
    assert_eq!(version_of(&a), version_of(&a.clone()));
    assert!(version_of(&a).starts_with('v') && version_of(&a).len() == 27);
    for other in [
        object(KEY, "0B", 0),
        object("cur/other.csv", "0A", 0),
        Object {
            etag: Some("another".into()),
            ..a.clone()
        },
        Object {
            version_id: Some("3".into()),
            ..a.clone()
        },
        Object {
            bucket: "elsewhere".into(),
            ..a.clone()
        },
    ] {
        assert_ne!(version_of(&a), version_of(&other), "{other:?}");
    }
    // Versions sort by event time.
    assert!(version_of(&object(KEY, "FF", 0)) < version_of(&object(KEY, "00", 1)));
}

#[test]
fn an_event_is_new_a_duplicate_or_stale_by_its_sequencer() {
    let (s1, s2) = (padded_sequencer("0A"), padded_sequencer("0B"));
    assert_eq!(seen_before(Some(&s2), Some(&s1)), None);
    assert_eq!(seen_before(Some(&s1), None), None);
    assert_eq!(seen_before(None, Some(&s1)), None);
    let dup = seen_before(Some(&s1), Some(&s1)).unwrap();
    assert_eq!(dup.outcome, Outcome::Duplicate);
    assert!(dup.reason.unwrap().contains(&s1));
    assert_eq!(
        seen_before(Some(&s1), Some(&s2)).unwrap().outcome,
        Outcome::Stale
    );
    // Padding makes sequencers of different lengths compare as S3 means them.
    assert!(padded_sequencer("0A1") > padded_sequencer("0A"));
}

#[test]
fn a_delivery_replaces_the_live_one_when_it_outranks_it() {
    let live = pointer("v1", 3, KEY, 0, "0A");
    assert_eq!(replace(&live, None), Replace::Flip);
    assert_eq!(replace(&live, Some(&live)), Replace::Already);
    // Same key: the sequencer alone orders, even against the event time.
    let newer = pointer("v2", 3, KEY, -5, "0B");
    assert_eq!(replace(&newer, Some(&live)), Replace::Flip);
    match replace(&live, Some(&newer)) {
        Replace::Outranked(reason) => assert!(reason.contains(KEY), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Another key: the event time.
    let later = pointer("v3", 3, "cur/other.csv", 1, "00");
    assert_eq!(replace(&later, Some(&live)), Replace::Flip);
    // A better format wins whatever the time.
    let better = pointer("v4", 4, "cur/other.csv", -60, "00");
    assert_eq!(replace(&better, Some(&later)), Replace::Flip);
    assert!(matches!(
        replace(&later, Some(&better)),
        Replace::Outranked(_)
    ));
    assert!(!Order::outranks(&live.order(), &live.order()));
}

#[test]
fn the_sweep_removes_outranked_settled_versions_and_abandoned_ones() {
    let now = at(0);
    let live = pointer("v2", 3, KEY, 0, "0B");
    let older = pointer("v1", 3, KEY, 0, "0A");
    let newer = pointer("v3", 3, KEY, 0, "0C");
    let fresh = now.timestamp();
    // Never the live version, even abandoned.
    assert!(!sweeps(&live, &mark(&live, 0, true), now));
    // Outranked and complete: at once.
    assert!(sweeps(&live, &mark(&older, fresh, true), now));
    // Outranked and still being written by another: kept...
    assert!(!sweeps(&live, &mark(&older, fresh, false), now));
    // (This delivery's own version is sweeps_own's: see the test below.)
    // Not outranked (a newer delivery on its way to the flip): kept, complete or not.
    assert!(!sweeps(&live, &mark(&newer, fresh, true), now));
    // Abandoned: any version, after ABANDONED_SECONDS and not one second before.
    let old = fresh - ABANDONED_SECONDS;
    assert!(!sweeps(&live, &mark(&newer, old, false), now));
    assert!(sweeps(&live, &mark(&newer, old - 1, false), now));
}

#[test]
fn a_delivery_removes_its_own_version_when_another_outranks_it_whatever_its_mark() {
    let live = pointer("v2", 3, KEY, 0, "0B");
    // Outranked by the live delivery: its own version goes (its mark may have been swept by a
    // concurrent delivery of the same event while it was still writing).
    assert!(sweeps_own(&live, &pointer("v1", 3, KEY, 0, "0A")));
    // Its own version is the live one: kept.
    assert!(!sweeps_own(&live, &live));
    // Newer than the live one (on its way to the flip, or lost a race to it): kept.
    assert!(!sweeps_own(&live, &pointer("v3", 3, KEY, 0, "0C")));
    // A better format outranks a later event of a worse one.
    assert!(sweeps_own(
        &pointer("v4", 4, "cur/other.csv", -60, "00"),
        &pointer("v5", 3, KEY, 0, "0D")
    ));
}

fn done(outcome: Outcome, totals: u64, alerts: u64) -> Done {
    Done {
        outcome,
        reason: Some(outcome.as_str().into()),
        totals_written: totals,
        alerts_sent: alerts,
    }
}

#[test]
fn the_periods_of_one_object_merge_into_one_outcome() {
    let o = object(KEY, "0A", 0);
    let mut oct = received(&o, at(0));
    oct.period = nov().prev();
    oct.format = Some(Format::Focus);
    oct.rows_read = 10;
    let mut nov_rec = received(&o, at(0));
    nov_rec.format = Some(Format::Focus);
    nov_rec.status = Some(Status::Final);
    nov_rec.rows_read = 5;
    // A stored period wins over the first one.
    let (out, rows) = merge(
        KEY,
        &[
            (oct.clone(), done(Outcome::Stale, 0, 1)),
            (nov_rec.clone(), done(Outcome::Stored, 7, 2)),
        ],
    );
    assert_eq!(out.outcome, Outcome::Stored);
    assert_eq!(out.reason.as_deref(), Some("stored"));
    assert_eq!((out.totals_written, out.alerts_sent, rows), (7, 3, 15));
    assert_eq!(out.period, Some(nov().prev()), "the first period read");
    assert_eq!(out.status, Some(Status::Final), "the last period's status");
    // Else the first period's outcome.
    let (out, _) = merge(
        KEY,
        &[
            (oct.clone(), done(Outcome::Duplicate, 0, 0)),
            (nov_rec, done(Outcome::Stale, 0, 0)),
        ],
    );
    assert_eq!(out.outcome, Outcome::Duplicate);
    // A record without a format (seen before) names no period.
    let (out, _) = merge(
        KEY,
        &[(received(&o, at(0)), done(Outcome::Duplicate, 0, 0))],
    );
    assert_eq!((out.outcome, out.period), (Outcome::Duplicate, None));
    // Nothing read: stale.
    assert_eq!(merge(KEY, &[]).0.outcome, Outcome::Stale);
}

#[test]
fn a_failure_is_skipped_alerted_or_retried_by_its_class() {
    assert_eq!(on_failure(Class::Permanent, true), OnFailure::Skip);
    assert_eq!(on_failure(Class::Transient, true), OnFailure::Skip);
    assert_eq!(on_failure(Class::Permanent, false), OnFailure::AlertAndNote);
    assert_eq!(on_failure(Class::Transient, false), OnFailure::Retry);
}

#[test]
fn the_outbox_is_cut_into_items_and_to_what_one_flip_carries() {
    let o = object(KEY, "0A", 0);
    let big = |i: usize| {
        let mut a = notices::report_failed(nov(), BUCKET, &format!("k{i}"), "0A", "x");
        a.key = format!("alert-{i}");
        a.message.text = "x".repeat(40_000);
        a
    };
    let alerts: Vec<_> = (0..30).map(big).collect();
    let owed: Vec<Owed> = alerts.iter().map(Owed::from).collect();
    let items = outbox_items("v1", &owed);
    assert!(items.len() > 1);
    assert!(items
        .iter()
        .all(|i| i.alerts.iter().map(Owed::size).sum::<usize>() <= OUTBOX_ITEM_BYTES));
    assert_eq!(items[0].sk, "O#v1#0000");
    assert_eq!(items.iter().flat_map(|i| &i.alerts).count(), 30);
    // All fit: all kept.
    let overflow = |rest: &[crate::alert::Alert]| notices::overflow(nov(), &o.key, "0A", rest);
    let (all, left) = fit_outbox("v1", &alerts, overflow, |_| true);
    assert_eq!((all, left), (items, 0));
    // At most 10 alerts fit: 9 kept and one message for the other 21.
    let fits = |items: &[crate::delivery::OutboxItem]| {
        items.iter().map(|i| i.alerts.len()).sum::<usize>() <= 10
    };
    let (cut, left) = fit_outbox("v1", &alerts, overflow, fits);
    assert_eq!(left, 21);
    let kept: Vec<_> = cut.iter().flat_map(|i| &i.alerts).collect();
    assert_eq!(kept.len(), 10);
    assert_eq!(kept[8].key, "alert-8");
    assert!(
        kept[9].subject.contains("21 more alerts"),
        "{}",
        kept[9].subject
    );
    assert_eq!(fit_outbox("v1", &[], overflow, |_| false).0, vec![]);
}

#[test]
fn the_record_keeps_failed_checks_first_and_at_most_a_hundred() {
    let checks: Vec<Check> = (0..150)
        .map(|i| {
            Check::new(
                format!("c{i}"),
                d("1"),
                if i == 120 { d("2") } else { d("1") },
            )
        })
        .collect();
    let text = checks_text(&checks);
    assert_eq!(text.len(), MAX_RECORD_CHECKS + 1);
    assert!(
        text[0].starts_with("c120:") && text[0].ends_with("FAILED"),
        "{}",
        text[0]
    );
    assert!(text[MAX_RECORD_CHECKS].contains("150 checks in all, 1 failed"));
    let r = received(&object("no-period.csv", "0A", 0), at(3));
    assert_eq!(r.period, nov(), "the event's month when the key names none");
    assert_eq!(r.received_at, "2026-11-20T08:03:00.000Z");
    assert_eq!(r.outcome, Outcome::Failed);
}
