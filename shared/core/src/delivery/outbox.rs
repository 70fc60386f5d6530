//! The outbox a flip carries: the alerts a delivery owes, cut into items of a bounded size, and
//! cut short (with one message naming the rest) when they do not all fit one transaction.

use super::types::{OutboxItem, Owed};
use crate::alert::Alert;

/// An outbox item holds owed alerts up to this many bytes (DynamoDB items are at most 400 KB).
pub const OUTBOX_ITEM_BYTES: usize = 300_000;

/// The sort key of the `n`th outbox item of `version`.
pub fn outbox_sk(version: &str, n: usize) -> String {
    format!("O#{version}#{n:04}")
}

/// `owed` cut into outbox items of at most [`OUTBOX_ITEM_BYTES`] (as [`Owed::size`] counts),
/// in order; an alert larger than that is an item of its own.
pub fn outbox_items(version: &str, owed: &[Owed]) -> Vec<OutboxItem> {
    let mut items = Vec::new();
    let mut chunk: Vec<Owed> = Vec::new();
    let mut size = 0;
    for o in owed {
        let len = o.size();
        if size + len > OUTBOX_ITEM_BYTES && !chunk.is_empty() {
            items.push(OutboxItem {
                sk: outbox_sk(version, items.len()),
                alerts: std::mem::take(&mut chunk),
            });
            size = 0;
        }
        chunk.push(o.clone());
        size += len;
    }
    if !chunk.is_empty() {
        items.push(OutboxItem {
            sk: outbox_sk(version, items.len()),
            alerts: chunk,
        });
    }
    items
}

/// The outbox items of a delivery's `alerts` for the flip that makes it live: every alert when
/// `fits` takes them all; else the longest run of the first ones that fits together with
/// `overflow(rest)`, one message naming the alerts left out. Returns the items and how many
/// alerts went into that one message (0 when all fit).
pub fn fit_outbox(
    version: &str,
    alerts: &[Alert],
    overflow: impl Fn(&[Alert]) -> Alert,
    fits: impl Fn(&[OutboxItem]) -> bool,
) -> (Vec<OutboxItem>, usize) {
    let items_for = |kept: usize| {
        let mut owed: Vec<Owed> = alerts[..kept].iter().map(Owed::from).collect();
        if kept < alerts.len() {
            owed.push(Owed::from(&overflow(&alerts[kept..])));
        }
        outbox_items(version, &owed)
    };
    let all = items_for(alerts.len());
    if alerts.is_empty() || fits(&all) {
        return (all, 0);
    }
    // The most alerts kept that still fit with the overflow message (binary search: keeping
    // fewer never makes the items bigger).
    let (mut lo, mut hi) = (0, alerts.len() - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(&items_for(mid)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (items_for(lo), alerts.len() - lo)
}
