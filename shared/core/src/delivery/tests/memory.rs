//! The in-memory ports behave as the DynamoDB adapters do, and the fault hook as documented.

use super::*;
use crate::delivery::decide::CLAIM_LEASE_SECONDS;
use crate::delivery::memory::Fault;
use crate::delivery::{
    padded_sequencer, AlertsStore, Claim, Clock, Flip, Owed, ReportReader, ReportsStore,
};
use futures_executor::block_on;

fn pointer(m: &Memory, seq: &str) -> crate::delivery::Pointer {
    let o = object(KEY, seq, 0);
    crate::delivery::Pointer {
        payer: PAYER.into(),
        period: nov(),
        version: crate::delivery::decide::version_of(&o),
        report_key: KEY.into(),
        order_key: o.order_key(),
        rank: 4,
        format: Format::Cur2,
        status: Status::Estimated,
        as_of: None,
        delivery_id: None,
        stored_at: m.now().to_rfc3339(),
        rows_summed: 1,
        sequencer: o.padded_sequencer(),
    }
}

#[test]
fn the_flip_is_conditional_on_the_pointer_read() {
    let m = world();
    let (a, b) = (pointer(&m, "0A"), pointer(&m, "0B"));
    let now = m.now();
    assert_eq!(block_on(m.flip(&a, None, &[], now)).unwrap(), Flip::Flipped);
    assert_eq!(
        block_on(m.flip(&b, None, &[], now)).unwrap(),
        Flip::Conflict
    );
    assert_eq!(
        block_on(m.flip(&b, Some(&b), &[], now)).unwrap(),
        Flip::Conflict
    );
    assert_eq!(
        block_on(m.flip(&b, Some(&a), &[], now)).unwrap(),
        Flip::Flipped
    );
    assert_eq!(block_on(m.pointer(nov(), PAYER)).unwrap(), Some(b));
}

#[test]
fn an_older_sequencer_never_overwrites_a_newer_one() {
    let m = world();
    let (a, b) = (padded_sequencer("0A"), padded_sequencer("0B"));
    block_on(m.note_sequencer(BUCKET, KEY, &b, None)).unwrap();
    block_on(m.note_sequencer(BUCKET, KEY, &a, None)).unwrap();
    assert_eq!(block_on(m.latest_sequencer(BUCKET, KEY)).unwrap(), Some(b));
}

#[test]
fn a_claim_is_taken_once_until_published_or_its_lease_runs_out() {
    let m = world();
    let alert = Owed::from(&crate::alert::notices::report_failed(
        nov(),
        BUCKET,
        KEY,
        "0A",
        "x",
    ));
    let now = m.now();
    assert_eq!(block_on(m.claim(&alert, now)).unwrap(), Claim::Claimed);
    assert_eq!(block_on(m.claim(&alert, now)).unwrap(), Claim::Leased);
    let lapsed = now + Duration::seconds(CLAIM_LEASE_SECONDS + 1);
    assert_eq!(block_on(m.claim(&alert, lapsed)).unwrap(), Claim::Claimed);
    block_on(m.mark_published(alert.period, &alert.key, "m1", lapsed)).unwrap();
    assert!(block_on(m.is_done(alert.period, &alert.key)).unwrap());
    // A published claim is never given back nor taken again.
    block_on(m.release(alert.period, &alert.key)).unwrap();
    let much_later = lapsed + Duration::days(1);
    assert_eq!(block_on(m.claim(&alert, much_later)).unwrap(), Claim::Done);
}

#[test]
fn completing_a_version_whose_mark_was_forgotten_leaves_no_item() {
    let m = world();
    let p = pointer(&m, "0A");
    block_on(m.version_complete(nov(), PAYER, &p.version)).unwrap();
    assert!(block_on(m.versions(nov(), PAYER)).unwrap().is_empty());
    assert!(
        m.tables().marks.is_empty(),
        "no bare item: the update is conditional"
    );
    block_on(m.mark_version(&p, m.now())).unwrap();
    let listed = block_on(m.versions(nov(), PAYER)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].complete, "a put of the mark clears complete");
    block_on(m.version_complete(nov(), PAYER, &p.version)).unwrap();
    assert!(block_on(m.versions(nov(), PAYER)).unwrap()[0].complete);
}

#[test]
fn every_call_is_counted_and_named_and_faults_hit_the_call_asked() {
    let m = world();
    let o = object(KEY, "0A", 0);
    m.fail_at(1, Fault::Status500);
    assert!(block_on(m.latest_sequencer(BUCKET, KEY)).is_ok());
    let err = block_on(m.summarize(&o, &Default::default(), false)).unwrap_err();
    assert!(matches!(
        err,
        MemoryError::Fault {
            call: 1,
            name: "summarize",
            fault: Fault::Status500
        }
    ));
    assert!(
        block_on(m.summarize(&o, &Default::default(), false)).is_ok(),
        "a fault hits once"
    );
    assert_eq!(m.calls(), 3);
    assert_eq!(m.call_log(), ["latest_sequencer", "summarize", "summarize"]);
}

#[test]
fn a_timeout_takes_effect_and_a_reset_does_not() {
    let m = world();
    let seq = padded_sequencer("0A");
    m.fail_at(0, Fault::Reset);
    m.fail_at(1, Fault::Timeout);
    assert!(block_on(m.note_sequencer(BUCKET, KEY, &seq, None)).is_err());
    assert!(m.tables().sequencers.is_empty());
    assert!(block_on(m.note_sequencer(BUCKET, KEY, &seq, None)).is_err());
    assert_eq!(m.tables().sequencers.len(), 1);
}

#[test]
fn a_kill_stops_every_later_call_until_revived() {
    for (fault, took_effect) in [(Fault::KillBefore, false), (Fault::KillAfter, true)] {
        let m = world();
        let seq = padded_sequencer("0A");
        m.fail_at(0, fault);
        assert!(block_on(m.note_sequencer(BUCKET, KEY, &seq, None)).is_err());
        assert_eq!(m.tables().sequencers.len() == 1, took_effect, "{fault:?}");
        assert!(m.is_dead());
        let err = block_on(m.latest_sequencer(BUCKET, KEY)).unwrap_err();
        assert!(matches!(err, MemoryError::Killed { .. }));
        assert_eq!(m.calls(), 1, "a dead process makes no call");
        m.revive();
        assert!(block_on(m.latest_sequencer(BUCKET, KEY)).is_ok());
    }
}
