//! The model tests' oracle: what a sequence of deliveries owes, restated from the written rules
//! (README "Budgets and alerts", docs/reliability.md) over a table of the fixtures' figures,
//! without calling `plan_delivery`, `evaluate`, `forecast` or any other planning code of the
//! core. A bug in the plan is then a difference between the two, not a shared blind spot.
//!
//! Shared by the in-memory model test (`shared/core/src/delivery/tests/model.rs`) and the emulator's contract
//! run (`tests/model.rs`), which include this file by path.
//!
//! The rules restated:
//!
//! * **Which delivery is live** per (payer, period): the better format rank wins; at the same
//!   rank the later event wins (for one key: its S3 sequencer; events here are created in
//!   order, so sequencer and event time both follow creation order). An event older than or
//!   equal to the newest one processed for its key does nothing (stale or duplicate).
//! * **What a delivery owes when it becomes live**, given the one it replaces (if any):
//!   - each threshold of each budget whose basis value reaches the threshold's amount: the actual
//!     spend (Σ of the totals in the budget's currency; the budget here covers all accounts) or
//!     the month-end forecast (final reports: the actual; estimated: the actual × the month's
//!     length ÷ the time elapsed up to `as_of`, the fixtures having no one-off charges), one
//!     claim `<budget>#<basis>#<percent>`, id `<budget>:<period>:<basis>:<percent>`;
//!   - the month close `<budget>#close#final` (id `<budget>:<period>:close`) when the delivery
//!     is final and the one it replaces is not (or there is none);
//!   - a failed reconciliation check: one claim per object version,
//!     `health#checks#<report key>#<sequencer>`;
//!   - every (account, service) the replaced delivery did not have:
//!     `health#new-service#<account>#<service>` (the first delivery of a period flags none);
//! * **A report that cannot be read** changes no totals and owes `health#failed#<key>#<sequencer>`
//!   in the period its key names.
//! * **Once**: an alert is owed at most once per (period, claim key), whichever payer or delivery
//!   owes it first; health ids are `<period>:<claim key>` with bytes outside printable ASCII
//!   (and `%`) percent-encoded.

#![allow(dead_code)]

use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

/// What an object version holds, for the store under test.
#[derive(Debug, Clone, Copy)]
pub enum Content {
    /// A file under `tests/fixtures/synthetic`.
    Fixture(&'static str),
    /// A fixture without its lines that contain a text (a restatement that drops a service).
    Without(&'static str, &'static str),
    /// Bytes that are no billing report.
    Bytes(&'static str),
}

impl Content {
    /// The object's bytes; `fixtures` is the repository's `tests/fixtures`.
    pub fn bytes(&self, fixtures: &Path) -> Vec<u8> {
        let read = |rel: &str| {
            std::fs::read(fixtures.join("synthetic").join(rel))
                .unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
        };
        match self {
            Content::Fixture(rel) => read(rel),
            Content::Without(rel, text) => String::from_utf8(read(rel))
                .expect("a text fixture")
                .lines()
                .filter(|l| !l.contains(text))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
                .into_bytes(),
            Content::Bytes(text) => text.as_bytes().to_vec(),
        }
    }
}

/// One content a key can be uploaded with, and what the oracle knows of it: its figures as
/// written in the fixture (checked against the engine once per run by the test).
#[derive(Debug)]
pub struct Variant {
    pub name: &'static str,
    pub content: Content,
    /// `None`: the report cannot be read.
    pub report: Option<Figures>,
}

#[derive(Debug)]
pub struct Figures {
    pub payer: &'static str,
    pub period: &'static str,
    /// Format rank: CUR/FOCUS 3, DBR 2, legacy monthly 1, legacy cost allocation 0.
    pub rank: u8,
    pub final_bill: bool,
    /// Seconds from the period's start to `as_of`, and the month's length in seconds
    /// (estimated bills only).
    pub elapsed: Option<(i64, i64)>,
    /// (account, service, currency, cost).
    pub totals: &'static [(&'static str, &'static str, &'static str, &'static str)],
    /// Whether a reconciliation check of the report fails.
    pub checks_fail: bool,
}

const NOV_ESTIMATED: &[(&str, &str, &str, &str)] = &[
    ("013328811177", "AWSDataTransfer", "USD", "0.058889"),
    ("013328811177", "AmazonCloudWatch", "USD", "3.000000"),
    ("013328811177", "AmazonS3", "USD", "24.250000"),
    ("123456789012", "AWSDataTransfer", "USD", "1.111111"),
    ("123456789012", "AmazonEC2", "USD", "69.120000"),
    ("123456789012", "AmazonS3", "USD", "3.461500"),
    ("123456789012", "CBRounding", "USD", "-0.000489"),
    ("210987654321", "AWSDataTransfer", "USD", "0.288989"),
    ("210987654321", "AmazonEC2", "USD", "5.200000"),
    ("210987654321", "AmazonRDS", "USD", "8.500000"),
];

const NOV_WITHOUT_CLOUDWATCH: &[(&str, &str, &str, &str)] = &[
    ("013328811177", "AWSDataTransfer", "USD", "0.058889"),
    ("013328811177", "AmazonS3", "USD", "24.250000"),
    ("123456789012", "AWSDataTransfer", "USD", "1.111111"),
    ("123456789012", "AmazonEC2", "USD", "69.120000"),
    ("123456789012", "AmazonS3", "USD", "3.461500"),
    ("123456789012", "CBRounding", "USD", "-0.000489"),
    ("210987654321", "AWSDataTransfer", "USD", "0.288989"),
    ("210987654321", "AmazonEC2", "USD", "5.200000"),
    ("210987654321", "AmazonRDS", "USD", "8.500000"),
];

const NOV_FINAL: &[(&str, &str, &str, &str)] = &[
    ("013328811177", "AWSDataTransfer", "USD", "0.067500"),
    ("013328811177", "AmazonCloudWatch", "USD", "3.000000"),
    ("013328811177", "AmazonS3", "USD", "25.052000"),
    ("123456789012", "AWSDataTransfer", "USD", "1.215000"),
    ("123456789012", "AmazonEC2", "USD", "71.424000"),
    ("123456789012", "AmazonS3", "USD", "3.685750"),
    ("123456789012", "CBRounding", "USD", "-0.004250"),
    ("210987654321", "AWSDataTransfer", "USD", "0.360000"),
    ("210987654321", "AmazonEC2", "USD", "0.000000"),
    ("210987654321", "AmazonRDS", "USD", "10.000000"),
];

const NOV_DBR: &[(&str, &str, &str, &str)] = &[
    ("123456789012", "AWSDataTransfer", "USD", "0.11111111"),
    (
        "123456789012",
        "Amazon Imaginary Service",
        "USD",
        "0.20000000",
    ),
    ("123456789012", "AmazonCloudWatch", "USD", "0.00013889"),
    ("123456789012", "AmazonDynamoDB", "USD", "0.01300000"),
    ("210987654321", "AmazonEC2", "USD", "0.19200000"),
    ("210987654321", "AmazonS3", "USD", "0.01150000"),
];

const OCT_COST_ALLOCATION: &[(&str, &str, &str, &str)] = &[
    ("013328811177", "AWSDataTransfer", "USD", "0.450000"),
    ("013328811177", "AmazonRDS", "USD", "14.246914"),
    ("123456789012", "AmazonEC2", "USD", "99.999999"),
    ("123456789012", "AmazonS3", "USD", "2.500000"),
    ("123456789012", "CBRounding", "USD", "0.003087"),
];

const NOV_TWO_CURRENCIES: &[(&str, &str, &str, &str)] = &[
    ("555566667777", "AWSDataTransfer", "EUR", "10.71"),
    ("555566667777", "AmazonEC2", "EUR", "68.70"),
    ("555566667777", "AmazonRoute53", "EUR", "1.19"),
    ("555566667777", "AmazonRoute53", "USD", "15.00"),
    ("555566667777", "AmazonS3", "EUR", "5.83"),
    ("555566667777", "b3k1q9zx7m2rw0cv8e5u4t6yl", "USD", "37.20"),
];

const DAY: i64 = 86_400;
/// 2026-11-20T08:00Z, 19 days and 8 hours into a 30-day month.
const NOV_20_0800: Option<(i64, i64)> = Some((19 * DAY + 8 * 3600, 30 * DAY));
/// 2026-10-21T18:30Z, 20 days, 18 hours and a half into a 31-day month.
const OCT_21_1830: Option<(i64, i64)> = Some((20 * DAY + 18 * 3600 + 1800, 31 * DAY));

/// Every content the sequences upload.
pub static VARIANTS: &[Variant] = &[
    Variant {
        name: "Nov estimated",
        content: Content::Fixture("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        report: Some(Figures {
            payer: "123456789012",
            period: "2026-11",
            rank: 1,
            final_bill: false,
            elapsed: NOV_20_0800,
            totals: NOV_ESTIMATED,
            checks_fail: false,
        }),
    },
    Variant {
        name: "Nov final",
        content: Content::Fixture("monthly-final/123456789012-aws-billing-csv-2026-11.csv"),
        report: Some(Figures {
            payer: "123456789012",
            period: "2026-11",
            rank: 1,
            final_bill: true,
            elapsed: None,
            totals: NOV_FINAL,
            checks_fail: false,
        }),
    },
    Variant {
        name: "Nov estimated without CloudWatch",
        content: Content::Without(
            "monthly-estimated/123456789012-aws-billing-csv-2026-11.csv",
            "AmazonCloudWatch",
        ),
        report: Some(Figures {
            payer: "123456789012",
            period: "2026-11",
            rank: 1,
            final_bill: false,
            elapsed: NOV_20_0800,
            totals: NOV_WITHOUT_CLOUDWATCH,
            checks_fail: true,
        }),
    },
    Variant {
        name: "Nov DBR",
        content: Content::Fixture(
            "dbr/123456789012-aws-billing-detailed-line-items-2026-11.csv.zip",
        ),
        report: Some(Figures {
            payer: "123456789012",
            period: "2026-11",
            rank: 2,
            final_bill: false,
            elapsed: NOV_20_0800,
            totals: NOV_DBR,
            checks_fail: false,
        }),
    },
    Variant {
        name: "Oct cost allocation",
        content: Content::Fixture("cost-allocation/123456789012-aws-cost-allocation-2026-10.csv"),
        report: Some(Figures {
            payer: "123456789012",
            period: "2026-10",
            rank: 0,
            final_bill: false,
            elapsed: OCT_21_1830,
            totals: OCT_COST_ALLOCATION,
            checks_fail: false,
        }),
    },
    Variant {
        name: "Nov two currencies",
        content: Content::Fixture("two-currencies/555566667777-aws-billing-csv-2026-11.csv"),
        report: Some(Figures {
            payer: "555566667777",
            period: "2026-11",
            rank: 1,
            final_bill: true,
            elapsed: None,
            totals: NOV_TWO_CURRENCIES,
            checks_fail: false,
        }),
    },
    Variant {
        name: "not a report",
        content: Content::Bytes("hello,world\n1,2\n"),
        report: None,
    },
];

/// A report key, the period its name says, and the variants (indexes in [`VARIANTS`]) it can be
/// uploaded with.
#[derive(Debug)]
pub struct KeyDef {
    pub key: &'static str,
    pub period: &'static str,
    pub variants: &'static [usize],
}

pub static KEYS: &[KeyDef] = &[
    KeyDef {
        key: "billing/123456789012-aws-billing-csv-2026-11.csv",
        period: "2026-11",
        variants: &[0, 1, 2],
    },
    // Same payer and period, a better format: it wins over the monthly CSV.
    KeyDef {
        key: "billing/123456789012-aws-billing-detailed-line-items-2026-11.csv.zip",
        period: "2026-11",
        variants: &[3],
    },
    KeyDef {
        key: "billing/123456789012-aws-cost-allocation-2026-10.csv",
        period: "2026-10",
        variants: &[4],
    },
    // Another payer in the same period (its alerts share the period's claims); sometimes a
    // version that cannot be read.
    KeyDef {
        key: "billing/555566667777-aws-billing-csv-2026-11.csv",
        period: "2026-11",
        variants: &[5, 5, 6],
    },
];

/// A threshold's basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Actual,
    Forecast,
}

impl Basis {
    pub fn name(self) -> &'static str {
        match self {
            Basis::Actual => "actual",
            Basis::Forecast => "forecast",
        }
    }
}

/// The one budget of the sequences: name, amount, currency (all accounts), thresholds in percent.
pub struct BudgetDef {
    pub name: &'static str,
    pub amount: &'static str,
    pub currency: &'static str,
    pub thresholds: &'static [(Basis, &'static str)],
}

pub static BUDGET: BudgetDef = BudgetDef {
    name: "team",
    amount: "150",
    currency: "USD",
    thresholds: &[
        (Basis::Actual, "50"),
        (Basis::Actual, "75"),
        (Basis::Forecast, "100"),
    ],
};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `<period>:<key>` as an alert id: bytes outside printable ASCII, and `%`, percent-encoded.
pub fn health_id(period: &str, key: &str) -> String {
    let mut out = String::new();
    for b in format!("{period}:{key}").bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Figures {
    fn actual(&self, currency: &str) -> Decimal {
        self.totals
            .iter()
            .filter(|t| t.2 == currency)
            .map(|t| dec(t.3))
            .sum()
    }

    fn forecast(&self, currency: &str) -> Decimal {
        let actual = self.actual(currency);
        match (self.final_bill, self.elapsed) {
            (false, Some((elapsed, month))) => {
                actual * Decimal::from(month) / Decimal::from(elapsed)
            }
            _ => actual,
        }
    }

    fn pairs(&self) -> BTreeSet<(&'static str, &'static str)> {
        self.totals.iter().map(|t| (t.0, t.1)).collect()
    }

    /// (account, service, currency) → cost.
    pub fn lines(&self) -> BTreeMap<(String, String, String), Decimal> {
        self.totals
            .iter()
            .map(|t| ((t.0.into(), t.1.into(), t.2.into()), dec(t.3)))
            .collect()
    }
}

/// The alerts a delivery of `now` becoming live owes, given the live one it replaces:
/// (claim key, alert id).
pub fn owed_by(
    now: &Figures,
    replaced: Option<&Figures>,
    report_key: &str,
    sequencer: &str,
) -> Vec<(String, String)> {
    let b = &BUDGET;
    let period = now.period;
    let mut out = Vec::new();
    for (basis, percent) in b.thresholds {
        let value = match basis {
            Basis::Actual => now.actual(b.currency),
            Basis::Forecast => now.forecast(b.currency),
        };
        if value * Decimal::ONE_HUNDRED >= dec(b.amount) * dec(percent) {
            out.push((
                format!("{}#{}#{percent}", b.name, basis.name()),
                format!("{}:{period}:{}:{percent}", b.name, basis.name()),
            ));
        }
    }
    if now.final_bill && replaced.is_none_or(|r| !r.final_bill) {
        out.push((
            format!("{}#close#final", b.name),
            format!("{}:{period}:close", b.name),
        ));
    }
    if now.checks_fail {
        let key = format!("health#checks#{report_key}#{sequencer}");
        out.push((key.clone(), health_id(period, &key)));
    }
    if let Some(r) = replaced {
        let before = r.pairs();
        for (account, service) in now.pairs() {
            if !before.contains(&(account, service)) {
                let key = format!("health#new-service#{account}#{service}");
                out.push((key.clone(), health_id(period, &key)));
            }
        }
    }
    out
}

/// One S3 event of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ev {
    /// Index in [`KEYS`].
    pub key: usize,
    /// Creation order within the sequence.
    pub order: usize,
    /// Index in [`VARIANTS`].
    pub variant: usize,
    /// The event's sequencer, as S3 (or the in-memory store) gave it.
    pub sequencer: String,
}

/// What one delivery of an event comes to, as the ingest record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Stale,
    Failed,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Duplicate => "duplicate",
            Outcome::Stale => "stale",
            Outcome::Failed => "failed",
        }
    }
}

/// What the stores should hold after the deliveries applied so far.
#[derive(Debug, Clone, Default)]
pub struct Oracle {
    /// Per key: the newest event processed.
    pub seen: BTreeMap<usize, Ev>,
    /// Per (payer, period): the live event.
    pub live: BTreeMap<(String, String), Ev>,
    /// (period, claim key) → alert id.
    pub owed: BTreeMap<(String, String), String>,
}

/// Whether `a` should replace `b` as the live delivery: better rank, or same rank and later.
pub fn outranks(a: &Ev, b: &Ev) -> bool {
    let rank = |e: &Ev| VARIANTS[e.variant].report.as_ref().map_or(0, |f| f.rank);
    (rank(a), a.order) > (rank(b), b.order)
}

impl Oracle {
    /// One delivery of `ev` taking effect.
    pub fn apply(&mut self, ev: &Ev) -> Outcome {
        if let Some(seen) = self.seen.get(&ev.key) {
            if seen.order == ev.order {
                return Outcome::Duplicate;
            }
            if seen.order > ev.order {
                return Outcome::Stale;
            }
        }
        self.seen.insert(ev.key, ev.clone());
        let key = &KEYS[ev.key];
        let Some(figures) = &VARIANTS[ev.variant].report else {
            let claim = format!("health#failed#{}#{}", key.key, ev.sequencer);
            let id = health_id(key.period, &claim);
            self.owed
                .entry((key.period.to_string(), claim))
                .or_insert(id);
            return Outcome::Failed;
        };
        let slot = (figures.payer.to_string(), figures.period.to_string());
        let replaced = match self.live.get(&slot) {
            Some(live) if !outranks(ev, live) => return Outcome::Stale,
            Some(live) => VARIANTS[live.variant].report.as_ref(),
            None => None,
        };
        for (claim, id) in owed_by(figures, replaced, key.key, &ev.sequencer) {
            self.owed
                .entry((figures.period.to_string(), claim))
                .or_insert(id);
        }
        self.live.insert(slot, ev.clone());
        Outcome::Stored
    }

    pub fn owed_ids(&self) -> BTreeSet<String> {
        self.owed.values().cloned().collect()
    }

    /// The live totals: (payer, period) → (account, service, currency) → cost.
    pub fn live_totals(&self) -> SlotTotals {
        self.live
            .iter()
            .map(|(slot, ev)| {
                let f = VARIANTS[ev.variant]
                    .report
                    .as_ref()
                    .expect("live reports read");
                (slot.clone(), f.lines())
            })
            .collect()
    }
}

/// Totals per (payer, period): (account, service, currency) → cost.
pub type SlotTotals = BTreeMap<(String, String), BTreeMap<(String, String, String), Decimal>>;

/// What a store holds after a step, read the way each runner can (scans are fine in a test).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// (payer, period) → (report key, sequencer of the live version).
    pub pointers: BTreeMap<(String, String), (String, Option<String>)>,
    /// Totals under the pointers' versions: (payer, period) → (account, service, currency) → cost.
    pub live_totals: SlotTotals,
    /// Totals items under a version no pointer names: version → items.
    pub orphan_totals: BTreeMap<String, usize>,
    /// Version notes per (payer, period): (version, is the pointer's).
    pub version_notes: BTreeMap<(String, String), Vec<(String, bool)>>,
    /// Outbox items left: `<period> <sk>`.
    pub outbox: Vec<String>,
    /// Claims: (period, claim key) → (alert id, marked published).
    pub claims: BTreeMap<(String, String), (String, bool)>,
    /// The newest sequencer noted per report key (as stored: padded).
    pub sequencers: BTreeMap<String, String>,
}

/// S3 sequencers compare once right-padded with zeros to one length (as the ingest stores them).
pub fn padded(sequencer: &str) -> String {
    format!("{:0<32}", sequencer.to_ascii_uppercase())
}

/// Everything that differs between `seen` after a converged step and `oracle`, one line each.
/// `received`: how often each alert id reached the topic so far; `excused`: the one alert id
/// a death in the publish window (SNS accepted, the mark never written) may have sent twice.
pub fn differences(
    oracle: &Oracle,
    seen: &Observed,
    received: &BTreeMap<String, usize>,
    excused: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let expected = oracle.live_totals();
    if seen.live_totals != expected {
        out.push(format!(
            "live totals differ from the oracle: expected {}, found {}",
            brief(&expected),
            brief(&seen.live_totals)
        ));
    }
    let pointers: BTreeMap<_, _> = oracle
        .live
        .iter()
        .map(|(slot, ev)| {
            (
                slot.clone(),
                (KEYS[ev.key].key.to_string(), Some(padded(&ev.sequencer))),
            )
        })
        .collect();
    let found: BTreeMap<_, _> = seen
        .pointers
        .iter()
        .map(|(slot, (key, seq))| (slot.clone(), (key.clone(), seq.as_deref().map(padded))))
        .collect();
    if found != pointers {
        out.push(format!(
            "pointers differ: expected {pointers:?}, found {found:?}"
        ));
    }
    if !seen.orphan_totals.is_empty() {
        out.push(format!(
            "totals items outside the live versions: {:?}",
            seen.orphan_totals
        ));
    }
    for (slot, notes) in &seen.version_notes {
        let live = notes.iter().filter(|(_, live)| *live).count();
        if notes.len() != live || (live != 1 && !notes.is_empty()) {
            out.push(format!(
                "version notes of {slot:?} after convergence: {notes:?} (only the live one may stay)"
            ));
        }
    }
    for slot in oracle.live.keys() {
        if !seen
            .version_notes
            .get(slot)
            .is_some_and(|n| n.iter().any(|(_, live)| *live))
        {
            out.push(format!("the live version of {slot:?} has no note"));
        }
    }
    if !seen.outbox.is_empty() {
        out.push(format!(
            "outbox items left after a converged retry: {:?}",
            seen.outbox
        ));
    }
    let claims: BTreeMap<_, _> = seen
        .claims
        .iter()
        .map(|(k, (id, _))| (k.clone(), id.clone()))
        .collect();
    if claims != oracle.owed {
        let missing: Vec<_> = oracle
            .owed
            .iter()
            .filter(|(k, _)| !claims.contains_key(*k))
            .collect();
        let extra: Vec<_> = claims
            .iter()
            .filter(|(k, _)| !oracle.owed.contains_key(*k))
            .collect();
        out.push(format!(
            "claims differ from the alerts owed: owed but not claimed {missing:?}; claimed but not owed {extra:?}"
        ));
    }
    let unmarked: Vec<_> = seen
        .claims
        .iter()
        .filter(|(_, (_, published))| !published)
        .map(|(k, _)| k)
        .collect();
    if !unmarked.is_empty() {
        out.push(format!("claims not marked published: {unmarked:?}"));
    }
    let sequencers: BTreeMap<String, String> = oracle
        .seen
        .iter()
        .map(|(key, ev)| (KEYS[*key].key.to_string(), padded(&ev.sequencer)))
        .collect();
    if seen.sequencers != sequencers {
        out.push(format!(
            "sequencer notes differ: expected {sequencers:?}, found {:?}",
            seen.sequencers
        ));
    }
    out.extend(alert_differences(oracle, received, excused));
    out
}

/// Lost, duplicated (beyond the one excused) and unexpected alerts, one line each kind.
pub fn alert_differences(
    oracle: &Oracle,
    received: &BTreeMap<String, usize>,
    excused: &BTreeSet<String>,
) -> Vec<String> {
    let owed = oracle.owed_ids();
    let mut out = Vec::new();
    let lost: Vec<_> = owed
        .iter()
        .filter(|id| !received.contains_key(*id))
        .collect();
    if !lost.is_empty() {
        out.push(format!("alerts lost: {lost:?}"));
    }
    let twice: Vec<_> = received
        .iter()
        .filter(|(id, n)| **n > 1 + usize::from(excused.contains(*id)))
        .map(|(id, n)| format!("{id} x{n}"))
        .collect();
    if !twice.is_empty() {
        out.push(format!("alerts received more than once: {twice:?}"));
    }
    let unexpected: Vec<_> = received.keys().filter(|id| !owed.contains(*id)).collect();
    if !unexpected.is_empty() {
        out.push(format!("alerts the oracle does not owe: {unexpected:?}"));
    }
    out
}

/// (lost, duplicated beyond the excused, unexpected) alert counts.
pub fn alert_counts(
    oracle: &Oracle,
    received: &BTreeMap<String, usize>,
    excused: &BTreeSet<String>,
) -> (usize, usize, usize) {
    let owed = oracle.owed_ids();
    let lost = owed.iter().filter(|id| !received.contains_key(*id)).count();
    let duplicated = received
        .iter()
        .map(|(id, n)| n.saturating_sub(1 + usize::from(excused.contains(id))))
        .sum();
    let unexpected = received.keys().filter(|id| !owed.contains(*id)).count();
    (lost, duplicated, unexpected)
}

fn brief(totals: &SlotTotals) -> String {
    totals
        .iter()
        .map(|((payer, period), lines)| {
            // One sum per currency (never across currencies).
            let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
            for ((_, _, currency), cost) in lines {
                *sums.entry(currency).or_default() += cost;
            }
            let sums: Vec<String> = sums
                .iter()
                .map(|(c, s)| format!("{} {c}", s.normalize()))
                .collect();
            format!(
                "{payer}/{period}: {} lines, {}",
                lines.len(),
                sums.join(" + ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod oracle_tests {
    use super::*;

    fn ev(key: usize, order: usize, variant: usize) -> Ev {
        Ev {
            key,
            order,
            variant,
            sequencer: format!("{order:04X}"),
        }
    }

    fn claims(o: &Oracle) -> Vec<&str> {
        o.owed.keys().map(|(_, k)| k.as_str()).collect()
    }

    // The table's own arithmetic, by hand: 114.99 of 150 passes 50 % (75) and 75 % (112.5);
    // projected 114.99 × 30 / 19.33 = 178.4 passes 100 % (150) on forecast.
    #[test]
    fn the_estimate_owes_both_actual_thresholds_and_the_forecast() {
        let mut o = Oracle::default();
        assert_eq!(o.apply(&ev(0, 0, 0)), Outcome::Stored);
        assert_eq!(
            claims(&o),
            ["team#actual#50", "team#actual#75", "team#forecast#100"]
        );
        assert!(o.owed_ids().contains("team:2026-11:forecast:100"));
        // The final bill (114.80, no forecast beyond it) closes the month, once.
        assert_eq!(o.apply(&ev(0, 1, 1)), Outcome::Stored);
        assert!(claims(&o).contains(&"team#close#final"));
        assert_eq!(o.apply(&ev(0, 1, 1)), Outcome::Duplicate);
        assert_eq!(o.apply(&ev(0, 0, 0)), Outcome::Stale);
    }

    // Without CloudWatch: 111.99 stays under 112.5; its checks fail (one claim per version);
    // the estimate after it flags CloudWatch as new in 013328811177.
    #[test]
    fn a_restatement_that_drops_a_service() {
        let mut o = Oracle::default();
        o.apply(&ev(0, 0, 2));
        assert_eq!(
            claims(&o),
            [
                "health#checks#billing/123456789012-aws-billing-csv-2026-11.csv#0000",
                "team#actual#50",
                "team#forecast#100"
            ]
        );
        o.apply(&ev(0, 1, 0));
        assert!(claims(&o).contains(&"health#new-service#013328811177#AmazonCloudWatch"));
        assert!(!claims(&o).contains(&"team#close#final"));
    }

    // The DBR outranks the monthly CSV whatever the order; its services new to the period
    // alert (the space in a service name is encoded in the id).
    #[test]
    fn the_better_format_stays_live() {
        let mut o = Oracle::default();
        o.apply(&ev(0, 0, 0));
        assert_eq!(o.apply(&ev(1, 1, 3)), Outcome::Stored);
        assert_eq!(o.apply(&ev(0, 2, 1)), Outcome::Stale);
        let slot = ("123456789012".to_string(), "2026-11".to_string());
        assert_eq!(o.live[&slot].key, 1);
        assert!(o
            .owed_ids()
            .contains("2026-11:health#new-service#123456789012#Amazon%20Imaginary%20Service"));
        assert_eq!(
            o.owed
                .keys()
                .filter(|(_, k)| k.starts_with("health#new-service#"))
                .count(),
            4
        );
    }

    // The other payer's final bill closes 2026-11 for the budget; the first payer's final
    // bill later owes no second close (one claim per period).
    #[test]
    fn claims_are_per_period_across_payers() {
        let mut o = Oracle::default();
        o.apply(&ev(3, 0, 5));
        assert_eq!(claims(&o), ["team#close#final"]);
        o.apply(&ev(0, 1, 1));
        assert_eq!(o.owed.len(), 3);
        assert_eq!(o.apply(&ev(3, 2, 6)), Outcome::Failed);
        assert!(claims(&o)
            .contains(&"health#failed#billing/555566667777-aws-billing-csv-2026-11.csv#0002"));
        assert_eq!(o.live.len(), 2);
    }
}
