//! Model-based test of the ingest pipeline under faults: random (seeded) sequences of deliveries
//! of a few report keys (two payers, two periods, three formats) run against a private stack
//! in the local emulator, and against a small reference model of what they should leave.
//!
//! Step kinds: a new version of a key (upload + its event), the same event again (S3 delivers at
//! least once), a late older event of a key, two deliveries at once (`tokio::join!`: two keys,
//! one event twice, or two versions of one key), a delivery whose process is killed at a random
//! AWS call (before or after the call reaches the emulator) and then retried by Lambda with a
//! fresh process (1 minute later, and 2 more minutes later if that fails), and a delivery with
//! 30 % of its calls throttled.
//!
//! The model: per (payer, period) the live delivery is the best one delivered (format rank,
//! then event order), holding the totals of the object as read; the alerts owed are what the
//! core's pure plan (`plan_delivery`, unit-tested on its own) calls for each time a delivery
//! becomes live, given the one it replaced, at most once per (period, alert key). Two
//! concurrent deliveries may take effect in either order: the step passes if the stack matches
//! one of the two orders. After every step: live totals == model, every owed alert received
//! exactly once and nothing else, no totals items outside the live versions. A sequence stops
//! at its first divergence (reported); the test fails if any sequence diverged.
//!
//! CI runs a short pass; for a soak run:
//!
//! ```text
//! BILLWATCH_MODEL_SEQUENCES=2000 BILLWATCH_MODEL_SEED=7 ./scripts/test -p billwatch-tests --test model -- --nocapture
//! ```
//!
//! `BILLWATCH_MODEL_SEQUENCES` (default 200) sequences of 3 to 6 steps; `BILLWATCH_MODEL_SEED`
//! (default 1) seeds everything (sequence i uses seed + i, printed with any failure, so a single
//! sequence can be replayed with `BILLWATCH_MODEL_SEQUENCES=1 BILLWATCH_MODEL_SEED=<that>`).
//! Printed at the end: sequences, steps, injected faults, recovered (faulted steps that
//! converged), lost and duplicated alerts (both must be 0), alerts sent twice because the
//! process died between SNS accepting them and their mark (the one window SNS standard topics
//! leave; counted apart, see docs/reliability.md), and the diverged sequences.

use billwatch_core::alert::plan::{plan_delivery, Delivery, Line, Previous};
use billwatch_core::budget::{Basis, Budget, Scope, Threshold};
use billwatch_core::period::Period;
use billwatch_core::report::{summarize_path, Limits, ReportSummary};
use billwatch_tests::faults::{in_publish_window, FaultPlan, Injected, KillAt, KillPoint, Rng};
use billwatch_tests::state::{compare_alerts, count_ids, Snapshot, TotalKey};
use billwatch_tests::{fixtures, Stack};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// A report key and the contents it can be uploaded with.
struct KeyDef {
    key: &'static str,
    variants: Vec<(PathBuf, Arc<ReportSummary>)>,
}

fn synthetic(rel: &str) -> PathBuf {
    fixtures().join("synthetic").join(rel)
}

fn summary(path: &Path) -> Arc<ReportSummary> {
    Arc::new(summarize_path(path, None, &Limits::default()).unwrap())
}

/// The estimated November bill without its CloudWatch lines (a restatement that drops a
/// service, and whose reconciliation fails: a health notice).
fn without_cloudwatch() -> PathBuf {
    let text = std::fs::read_to_string(synthetic(
        "monthly-estimated/123456789012-aws-billing-csv-2026-11.csv",
    ))
    .unwrap();
    let lines: String = text
        .lines()
        .filter(|l| !l.contains("AmazonCloudWatch"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = std::env::temp_dir().join(format!("billwatch-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("123456789012-aws-billing-csv-2026-11.csv");
    std::fs::write(&path, lines).unwrap();
    path
}

fn keys() -> Vec<KeyDef> {
    let variants = |paths: Vec<PathBuf>| {
        paths
            .into_iter()
            .map(|p| {
                let s = summary(&p);
                (p, s)
            })
            .collect()
    };
    vec![
        KeyDef {
            key: "billing/123456789012-aws-billing-csv-2026-11.csv",
            variants: variants(vec![
                synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
                synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv"),
                without_cloudwatch(),
            ]),
        },
        // Same payer and period, a better format (rank 2): it wins over the monthly CSV.
        KeyDef {
            key: "billing/123456789012-aws-billing-detailed-line-items-2026-11.csv.zip",
            variants: variants(vec![synthetic(
                "dbr/123456789012-aws-billing-detailed-line-items-2026-11.csv.zip",
            )]),
        },
        KeyDef {
            key: "billing/123456789012-aws-cost-allocation-2026-10.csv",
            variants: variants(vec![synthetic(
                "cost-allocation/123456789012-aws-cost-allocation-2026-10.csv",
            )]),
        },
        KeyDef {
            key: "billing/555566667777-aws-billing-csv-2026-11.csv",
            variants: variants(vec![synthetic(
                "two-currencies/555566667777-aws-billing-csv-2026-11.csv",
            )]),
        },
    ]
}

fn budgets() -> Vec<Budget> {
    let d = |s: &str| Decimal::from_str(s).unwrap();
    vec![Budget {
        name: "team".into(),
        scope: Scope::All,
        amount: d("150"),
        currency: "USD".into(),
        thresholds: vec![
            Threshold::percent(d("50")),
            Threshold::percent(d("75")),
            Threshold::percent(d("100")).on(Basis::Forecast),
        ],
        escalation_step: None,
        topic_arn: None,
        digest: false,
    }]
}

/// One S3 event the sequence created.
#[derive(Clone)]
struct Event {
    key: usize,
    /// Creation order: the pipeline's order key (event time, then sequencer) follows it.
    order: usize,
    sequencer: String,
    /// The content of the object version the event names (what the pipeline reads).
    variant: usize,
    json: Value,
}

#[derive(Clone)]
struct Live {
    order: usize,
    rank: u8,
    key: usize,
    summary: Arc<ReportSummary>,
}

/// What the stack should hold.
#[derive(Clone, Default)]
struct Model {
    /// The newest event order processed per key (older and equal ones stop early).
    seen: BTreeMap<usize, usize>,
    live: BTreeMap<(String, Period), Live>,
    /// Alerts owed: (period, alert key) → alert id.
    owed: BTreeMap<(Period, String), String>,
}

impl Model {
    /// One delivery of `event` taking effect (reading the object as it is now).
    fn apply(&mut self, keys: &[KeyDef], budgets: &[Budget], event: &Event) {
        if self.seen.get(&event.key).is_some_and(|o| *o >= event.order) {
            return;
        }
        self.seen.insert(event.key, event.order);
        // Each event is read at the S3 version it names.
        let summary = keys[event.key].variants[event.variant].1.clone();
        let payer = summary
            .payer_account_id
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let period = summary.billing_period.unwrap();
        let rank = summary.format.rank();
        let slot = (payer, period);
        let previous = match self.live.get(&slot) {
            Some(cur) if (cur.rank, cur.order) >= (rank, event.order) => return,
            Some(cur) => Some(Previous {
                status: cur.summary.status,
                lines: cur
                    .summary
                    .totals
                    .iter()
                    .map(|t| Line {
                        account: t.account_id.clone(),
                        service: t.service.clone(),
                        currency: t.currency.clone(),
                        cost: t.cost,
                    })
                    .collect(),
            }),
            None => None,
        };
        let plan = plan_delivery(&Delivery {
            report_key: keys[event.key].key,
            object_version: &event.sequencer,
            summary: &summary,
            period,
            previous: previous.as_ref(),
            budgets,
            // The model's formats (legacy CSV, DBR) carry no daily series: no anomalies.
            anomalies: &[],
        });
        for alert in plan {
            self.owed
                .entry((alert.period, alert.key.clone()))
                .or_insert(alert.alert_id);
        }
        self.live.insert(
            slot,
            Live {
                order: event.order,
                rank,
                key: event.key,
                summary,
            },
        );
    }

    fn expected_live(&self) -> BTreeMap<TotalKey, (Decimal, String)> {
        let mut out = BTreeMap::new();
        for ((payer, period), live) in &self.live {
            for t in &live.summary.totals {
                out.insert(
                    (
                        payer.clone(),
                        period.to_string(),
                        t.account_id.clone(),
                        t.service.clone(),
                        t.currency.clone(),
                    ),
                    (t.cost, live.summary.status.name().to_string()),
                );
            }
        }
        out
    }

    fn owed_ids(&self) -> BTreeSet<String> {
        self.owed.values().cloned().collect()
    }
}

/// How one delivery is run.
#[derive(Debug, Clone, Copy)]
enum Run {
    Clean,
    /// Killed at call `n` (from 0), then retried by Lambda.
    Crash(usize, KillPoint),
    /// 30 % of the calls throttled (seeded).
    Throttled(u64),
}

#[derive(Default)]
struct Figures {
    sequences: u64,
    steps: u64,
    injected: Injected,
    faulted_steps: u64,
    recovered: u64,
    lost: u64,
    duplicated: u64,
    /// Alerts sent twice because the process died in the publish window (documented).
    window_duplicates: u64,
    unexpected: u64,
    diverged: Vec<String>,
}

/// Delivers `event` as `run` says, then Lambda's retries; returns a short trail and the faults
/// injected, and whether the process died in the publish window (see `in_publish_window`).
async fn deliver(stack: &Stack, event: &Value, run: Run) -> (String, Injected, bool) {
    let (mut trail, again, injected, window) = first_attempt(stack, event, run).await;
    trail.push_str(&lambda_retries(stack, event, again).await);
    (trail, injected, window)
}

/// One invocation as `run` says: its trail, whether Lambda would retry it, the faults
/// injected, and whether the process died in the publish window.
async fn first_attempt(stack: &Stack, event: &Value, run: Run) -> (String, bool, Injected, bool) {
    let plan = match run {
        Run::Clean => FaultPlan::new(0),
        Run::Crash(n, point) => FaultPlan::new(0).kill(KillAt::Call(n), point),
        Run::Throttled(seed) => FaultPlan::new(seed).throttle_fraction(0.3),
    };
    let first = stack
        .ingest_with(plan.clients(&stack.ingest_sdk))
        .handle(event)
        .await;
    let trail = format!(
        "{run:?}: {}",
        match &first {
            Ok(o) => format!("ok {}", o.first().map(|o| o.outcome.as_str()).unwrap_or("")),
            Err(e) => format!("err {e}").chars().take(160).collect(),
        }
    );
    let window = match run {
        Run::Crash(n, point) => plan.killed() && in_publish_window(&plan.calls(), n, point),
        _ => false,
    };
    (
        trail,
        plan.killed() || first.is_err(),
        plan.injected(),
        window,
    )
}

/// Lambda retries a crashed or failed invocation, with a fresh process, 1 then 2 minutes on.
/// (The test clock jumps those minutes: run it only when no other attempt is in flight, as
/// real minutes would let any attempt finish.)
async fn lambda_retries(stack: &Stack, event: &Value, mut again: bool) -> String {
    let mut trail = String::new();
    for minutes in [1, 2] {
        if !again {
            break;
        }
        stack.clock.advance(chrono::Duration::minutes(minutes));
        let retry = stack.fresh_ingest().handle(event).await;
        again = retry.is_err();
        trail.push_str(&match retry {
            Ok(o) => format!(
                "; retry ok {}",
                o.first().map(|o| o.outcome.as_str()).unwrap_or("")
            ),
            Err(e) => format!("; retry err {e}").chars().take(160).collect(),
        });
    }
    trail
}

/// A candidate model, what differs from it, and (lost, duplicated, unexpected) alert counts.
type Verdict = (Model, Vec<String>, (usize, usize, usize));

/// One random sequence; returns its figures.
async fn sequence(seed: u64, keys: Arc<Vec<KeyDef>>) -> Figures {
    let mut rng = Rng::new(seed);
    let mut fig = Figures {
        sequences: 1,
        ..Figures::default()
    };
    let stack = Stack::new().await;
    for b in budgets() {
        stack.setup.budgets.put(&b).await.unwrap();
    }
    let budgets = stack.setup.budgets.list().await.unwrap();
    let mut model = Model::default();
    let mut events: Vec<Event> = Vec::new();
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    let mut history: Vec<String> = Vec::new();
    let steps = 3 + rng.below(4);

    async fn new_event(
        stack: &Stack,
        keys: &[KeyDef],
        events: &mut Vec<Event>,
        rng: &mut Rng,
        key: usize,
    ) -> Event {
        let variant = rng.below(keys[key].variants.len());
        let json = stack
            .deliver(keys[key].key, &keys[key].variants[variant].0)
            .await;
        let sequencer = json["Records"][0]["s3"]["object"]["sequencer"]
            .as_str()
            .unwrap()
            .to_string();
        let event = Event {
            key,
            order: events.len(),
            sequencer,
            variant,
            json,
        };
        events.push(event.clone());
        event
    }

    for step in 0..steps {
        fig.steps += 1;
        let kind = rng.below(6);
        let key = rng.below(keys.len());
        // Candidate models: one, or two for concurrent deliveries (either order may win).
        let mut candidates: Vec<Model> = Vec::new();
        let mut injected = Injected::default();
        let mut window = false;
        let description;
        match kind {
            // The same (newest) event of a key again, or a late older one.
            1 | 2 if events.iter().any(|e| e.key == key) => {
                let of_key: Vec<&Event> = events.iter().filter(|e| e.key == key).collect();
                let event = if kind == 1 || of_key.len() == 1 {
                    of_key[of_key.len() - 1].clone()
                } else {
                    of_key[rng.below(of_key.len() - 1)].clone()
                };
                let (trail, inj, _) = deliver(&stack, &event.json, Run::Clean).await;
                injected = inj;
                description = format!(
                    "{} event #{} of {}: {trail}",
                    if kind == 1 { "duplicate" } else { "late" },
                    event.order,
                    keys[key].key
                );
                let mut m = model.clone();
                m.apply(&keys, &budgets, &event);
                candidates.push(m);
            }
            // Two deliveries at once.
            3 => {
                let shape = rng.below(3);
                let (a, b) = match shape {
                    0 => {
                        let other = (key + 1 + rng.below(keys.len() - 1)) % keys.len();
                        let a = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                        let b = new_event(&stack, &keys, &mut events, &mut rng, other).await;
                        (a, b)
                    }
                    1 => {
                        let a = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                        (a.clone(), a)
                    }
                    _ => {
                        let a = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                        let b = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                        (a, b)
                    }
                };
                // Both at once; retries only once both are done (see `lambda_retries`).
                let (mut ra, mut rb) = tokio::join!(
                    first_attempt(&stack, &a.json, Run::Clean),
                    first_attempt(&stack, &b.json, Run::Clean)
                );
                ra.0.push_str(&lambda_retries(&stack, &a.json, ra.1).await);
                rb.0.push_str(&lambda_retries(&stack, &b.json, rb.1).await);
                description = format!(
                    "concurrent #{} {} and #{} {}: {} | {}",
                    a.order, keys[a.key].key, b.order, keys[b.key].key, ra.0, rb.0
                );
                for (x, y) in [(&a, &b), (&b, &a)] {
                    let mut m = model.clone();
                    m.apply(&keys, &budgets, x);
                    m.apply(&keys, &budgets, y);
                    candidates.push(m);
                }
            }
            // A crash at a random call, then Lambda's retry.
            4 => {
                let event = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                let point = if rng.chance(0.5) {
                    KillPoint::BeforeTransmit
                } else {
                    KillPoint::AfterTransmit
                };
                let run = Run::Crash(rng.below(16), point);
                let (trail, inj, died_in_window) = deliver(&stack, &event.json, run).await;
                injected = inj;
                window = died_in_window;
                description = format!("crash #{} {}: {trail}", event.order, keys[key].key);
                let mut m = model.clone();
                m.apply(&keys, &budgets, &event);
                candidates.push(m);
            }
            // Throttled.
            5 => {
                let event = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                let run = Run::Throttled(rng.next_u64());
                let (trail, inj, _) = deliver(&stack, &event.json, run).await;
                injected = inj;
                description = format!("throttled #{} {}: {trail}", event.order, keys[key].key);
                let mut m = model.clone();
                m.apply(&keys, &budgets, &event);
                candidates.push(m);
            }
            // A new version of a key.
            _ => {
                let event = new_event(&stack, &keys, &mut events, &mut rng, key).await;
                let (trail, inj, _) = deliver(&stack, &event.json, Run::Clean).await;
                injected = inj;
                description = format!("new #{} {}: {trail}", event.order, keys[key].key);
                let mut m = model.clone();
                m.apply(&keys, &budgets, &event);
                candidates.push(m);
            }
        }
        history.push(format!("step {step}: {description}"));
        let faulted = injected.total() > 0;
        fig.injected.add(&injected);
        if faulted {
            fig.faulted_steps += 1;
        }

        for (id, n) in count_ids(&stack.received_alerts_now().await) {
            *received.entry(id).or_insert(0) += n;
        }
        // A process that died between SNS accepting a message and the claim's mark sends that
        // one alert again after the lease (at least once, same alert_id): counted apart.
        if window {
            let twice: Vec<String> = received
                .iter()
                .filter(|(_, n)| **n == 2)
                .map(|(id, _)| id.clone())
                .collect();
            if let [id] = twice.as_slice() {
                received.insert(id.clone(), 1);
                fig.window_duplicates += 1;
            }
        }
        let snapshot = Snapshot::read(&stack).await;
        let mut best: Option<Verdict> = None;
        for m in candidates {
            let mut problems = Vec::new();
            let expected = m.expected_live();
            if snapshot.live != expected {
                let missing: Vec<_> = expected
                    .iter()
                    .filter(|(k, v)| snapshot.live.get(*k) != Some(*v))
                    .map(|(k, v)| format!("{}/{}/{}/{}={}", k.1, k.2, k.3, k.4, v.0))
                    .collect();
                let extra: Vec<_> = snapshot
                    .live
                    .iter()
                    .filter(|(k, v)| expected.get(*k) != Some(*v))
                    .map(|(k, v)| format!("{}/{}/{}/{}={}", k.1, k.2, k.3, k.4, v.0))
                    .collect();
                problems.push(format!(
                    "live totals differ from the model: expected but not live {missing:?}; live but not expected {extra:?}"
                ));
            }
            for ((payer, period), live) in &m.live {
                let pointed = snapshot
                    .pointers
                    .get(&(period.to_string(), payer.clone()))
                    .map(|p| p.report_key.as_str());
                if pointed != Some(keys[live.key].key) {
                    problems.push(format!(
                        "pointer of {payer} {period} on {pointed:?}, the model says {}",
                        keys[live.key].key
                    ));
                }
            }
            if !snapshot.orphans.is_empty() {
                problems.push(format!(
                    "totals items outside the live versions: {:?}",
                    snapshot.orphans
                ));
            }
            let (lost, duplicated, unexpected) = compare_alerts(&received, &m.owed_ids());
            let dup_count: usize = received.values().filter(|n| **n > 1).map(|n| n - 1).sum();
            if !lost.is_empty() {
                problems.push(format!("alerts lost: {lost:?}"));
            }
            if !duplicated.is_empty() {
                problems.push(format!("alerts received more than once: {duplicated:?}"));
            }
            if !unexpected.is_empty() {
                problems.push(format!("alerts the model does not owe: {unexpected:?}"));
            }
            let counts = (lost.len(), dup_count, unexpected.len());
            if best.as_ref().is_none_or(|b| problems.len() < b.1.len()) {
                best = Some((m, problems, counts));
            }
        }
        let (m, problems, (lost, duplicated, unexpected)) = best.unwrap();
        if problems.is_empty() {
            if faulted {
                fig.recovered += 1;
            }
            model = m;
            continue;
        }
        fig.lost += lost as u64;
        fig.duplicated += duplicated as u64;
        fig.unexpected += unexpected as u64;
        fig.diverged.push(format!(
            "seed {seed}, step {step}: {}\n      {}",
            problems.join("; "),
            history.join("\n      ")
        ));
        break;
    }
    fig
}

#[tokio::test(flavor = "multi_thread")]
async fn random_deliveries_under_faults_match_the_model() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
            })
            .unwrap_or(default)
    };
    let sequences = env("BILLWATCH_MODEL_SEQUENCES", 200);
    let seed = env("BILLWATCH_MODEL_SEED", 1);
    let keys = Arc::new(keys());
    let total = Arc::new(Mutex::new(Figures::default()));
    let gate = Arc::new(tokio::sync::Semaphore::new(3));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..sequences {
        let (keys, total, gate) = (keys.clone(), total.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let fig = sequence(seed + i, keys).await;
            let mut t = total.lock().unwrap();
            t.sequences += fig.sequences;
            t.steps += fig.steps;
            t.injected.add(&fig.injected);
            t.faulted_steps += fig.faulted_steps;
            t.recovered += fig.recovered;
            t.lost += fig.lost;
            t.duplicated += fig.duplicated;
            t.window_duplicates += fig.window_duplicates;
            t.unexpected += fig.unexpected;
            t.diverged.extend(fig.diverged);
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("sequence task");
    }
    let t = total.lock().unwrap();
    let mut diverged = t.diverged.clone();
    diverged.sort();
    for d in &diverged {
        println!("DIVERGED {d}");
    }
    println!(
        "model: sequences {} (seed {seed}), steps {}, injected faults {} ({:?}), faulted steps {}, recovered {}, lost {}, duplicated {}, sent twice after a death in the publish window {}, unexpected {}, diverged sequences {}",
        t.sequences,
        t.steps,
        t.injected.total(),
        t.injected,
        t.faulted_steps,
        t.recovered,
        t.lost,
        t.duplicated,
        t.window_duplicates,
        t.unexpected,
        diverged.len()
    );
    assert!(
        diverged.is_empty() && t.lost == 0 && t.duplicated == 0,
        "{} of {} sequences diverged from the model (lost {}, duplicated {}, unexpected {}); first:\n{}",
        diverged.len(),
        t.sequences,
        t.lost,
        t.duplicated,
        t.unexpected,
        diverged.first().map(String::as_str).unwrap_or("")
    );
}
