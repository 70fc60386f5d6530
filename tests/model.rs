//! The adapters' contract run of the model test: random (seeded) sequences of deliveries of a
//! few report keys (two payers, two periods, three formats, one version that cannot be read)
//! against a private stack in the local emulator, checked after every step against the same
//! independent oracle as the in-memory model test (`shared/core/src/delivery/tests/model/oracle.rs`: a
//! table of the fixtures' figures and the alert rules restated, not `plan_delivery`).
//!
//! The long runs (thousands of sequences, every call index a crash point) are the in-memory
//! model test's (`cargo test -p billwatch-core --lib delivery::tests::model`); this one runs few sequences to
//! show the AWS adapters do what the in-memory ports do, under the SDK's own faults.
//!
//! Step kinds: a new version of a key (upload + its event), the same event again (S3 delivers at
//! least once), a late older event of a key, two deliveries at once (`tokio::join!`: two keys,
//! one event twice, or two versions of one key), a delivery whose process is killed at an AWS
//! call (before or after the call reaches the emulator), a delivery one of whose calls fails
//! (HTTP 500, 503, throttling, a reset or a dropped connection, once or for all the SDK's
//! attempts), and a delivery with 30 % of its calls throttled. A failed or killed attempt is
//! retried by Lambda with a fresh process (1 minute later, then 2 more, until it converges).
//!
//! Two concurrent deliveries may take effect in either order: the step passes if the stack
//! matches the oracle for one of the two orders. After every step: live totals, pointers, no
//! totals or version notes outside the live versions, the outbox empty, every owed alert
//! claimed, marked published and received exactly once and nothing else, the sequencer notes.
//! Every alert also goes to a signed webhook channel on a local receiver that fails a quarter
//! of its requests (a 500, a 429, a reset): after every step it must have received each alert
//! SNS received, once, and nothing else (a death between a post and its claim's mark may post
//! that one alert twice, with the same alert id).
//! A process killed after SNS accepted an alert and before its claim was marked sends that one
//! alert again (the one window SNS standard topics leave, docs/reliability.md): only that alert,
//! found as the one claim left unmarked by the killed attempt, may arrive twice.
//!
//! ```text
//! BILLWATCH_MODEL_SEQUENCES=200 BILLWATCH_MODEL_SEED=7 ./scripts/test -p billwatch-tests --test model -- --nocapture
//! ```
//!
//! `BILLWATCH_MODEL_SEQUENCES` (default 20) sequences of 3 to 6 steps; `BILLWATCH_MODEL_SEED`
//! (default 1) seeds everything (sequence i uses seed + i, printed with any failure, so a single
//! sequence can be replayed with `BILLWATCH_MODEL_SEQUENCES=1 BILLWATCH_MODEL_SEED=<that>`).

#[path = "../shared/core/src/delivery/tests/model/oracle.rs"]
mod oracle;

use aws_sdk_dynamodb::types::AttributeValue;
use billwatch_core::budget::{Basis, Budget, Scope, Threshold};
use billwatch_core::channel::{Channel, ChannelKind, SecretRef};
use billwatch_tests::faults::{
    in_publish_window, Fault, FaultPlan, Injected, KillAt, KillPoint, OpMatch, Rng, When,
};
use billwatch_tests::receiver::Receiver;
use billwatch_tests::state::{count_ids, Snapshot};
use billwatch_tests::{fixtures, Stack};
use oracle::{Ev, Observed, Oracle, KEYS, VARIANTS};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// Each variant's bytes in a file of its own (the stack uploads files).
fn variant_files() -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("billwatch-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    VARIANTS
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let path = dir.join(format!("variant-{i}"));
            std::fs::write(&path, v.content.bytes(&fixtures())).unwrap();
            path
        })
        .collect()
}

/// The oracle's budget as billwatch stores it.
fn budget() -> Budget {
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let b = &oracle::BUDGET;
    Budget {
        name: b.name.into(),
        scope: Scope::All,
        amount: d(b.amount),
        currency: b.currency.into(),
        thresholds: b
            .thresholds
            .iter()
            .map(|(basis, percent)| {
                let t = Threshold::percent(d(percent));
                match basis {
                    oracle::Basis::Actual => t,
                    oracle::Basis::Forecast => t.on(Basis::Forecast),
                }
            })
            .collect(),
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: vec![HOOK.into()],
        digest_every: Default::default(),
        model: Default::default(),
    }
}

/// The signed webhook every alert also goes to (declared `default`, so alerts of no budget
/// too), on a local receiver that fails a quarter of the requests (a 500, a 429, a reset).
const HOOK: &str = "model-hook";

/// The sequence's channel: the receiver, and the fault plan of the attempt under way (the
/// receiver notes how many of its calls had started at each request).
#[derive(Clone)]
struct Hook {
    receiver: Receiver,
    plan: Arc<Mutex<Option<FaultPlan>>>,
}

impl Hook {
    async fn start(stack: &Stack, seed: u64) -> Hook {
        let receiver = Receiver::start().await;
        receiver.flaky("/hook", seed, 25);
        let plan: Arc<Mutex<Option<FaultPlan>>> = Arc::default();
        let current = plan.clone();
        receiver.probe(move || {
            current
                .lock()
                .unwrap()
                .as_ref()
                .map_or(usize::MAX, |p| p.calls().len())
        });
        let id = billwatch_tests::unique("model");
        let mut refs = Vec::new();
        for (name, value) in [("url", receiver.url("/hook")), ("key", "model-key".into())] {
            let name = format!("/billwatch/{id}/{name}");
            stack.put_secure_parameter(&name, &value).await;
            refs.push(SecretRef::Ssm(name));
        }
        let key = refs.pop();
        stack
            .setup
            .budgets
            .put_channels(&[Channel {
                name: HOOK.into(),
                kind: ChannelKind::Webhook,
                url: refs.pop().unwrap(),
                signing_key: key,
                default: true,
            }])
            .await
            .unwrap();
        Hook { receiver, plan }
    }

    /// How often each alert id was delivered (answered 2xx).
    fn delivered(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for g in self.receiver.delivered("/hook") {
            let id = g.header("X-Billwatch-Alert-Id").unwrap_or("").to_string();
            *out.entry(id).or_insert(0) += 1;
        }
        out
    }
}

type Item = HashMap<String, AttributeValue>;

fn get(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) | Some(AttributeValue::N(s)) => s.clone(),
        _ => String::new(),
    }
}

/// What the stack holds, in the oracle's terms (scans: fine in a test).
async fn observe(stack: &Stack) -> Observed {
    let tables = &stack.ingest.config.tables;
    let snapshot = Snapshot::read(stack).await;
    let mut seen = Observed {
        orphan_totals: snapshot.orphans.clone(),
        ..Observed::default()
    };
    for ((payer, period, account, service, currency), (cost, _)) in &snapshot.live {
        seen.live_totals
            .entry((payer.clone(), period.clone()))
            .or_default()
            .insert((account.clone(), service.clone(), currency.clone()), *cost);
    }
    let reports = stack.scan(&tables.reports).await;
    let mut live_versions = BTreeMap::new();
    for item in &reports {
        let sk = get(item, "sk");
        if sk.starts_with("S#") {
            let slot = (get(item, "payer"), get(item, "period"));
            live_versions.insert(slot.clone(), get(item, "version"));
            let seq = Some(get(item, "sequencer")).filter(|s| !s.is_empty());
            seen.pointers.insert(slot, (get(item, "report_key"), seq));
        } else if sk == "LATEST" {
            let pk = get(item, "pk");
            let key = pk.split_once('/').map(|(_, k)| k.to_string()).unwrap_or(pk);
            seen.sequencers.insert(key, get(item, "sequencer"));
        }
    }
    for item in &reports {
        if get(item, "sk").starts_with("V#") {
            let period = get(item, "pk").trim_start_matches("P#").to_string();
            let slot = (get(item, "payer"), period);
            let version = get(item, "version");
            let live = live_versions.get(&slot) == Some(&version);
            seen.version_notes
                .entry(slot)
                .or_default()
                .push((version, live));
        }
    }
    for item in stack.scan(&tables.alerts).await {
        let (pk, sk) = (get(&item, "pk"), get(&item, "sk"));
        let period = pk.trim_start_matches("P#").to_string();
        if sk.starts_with("O#") {
            seen.outbox.push(format!("{period} {sk}"));
        } else if sk.contains("#ch#") {
            // A channel's copy: checked against the receiver (see `Hook`).
        } else {
            let published = item.contains_key("published_at");
            seen.claims
                .insert((period, sk), (get(&item, "alert_id"), published));
        }
    }
    seen
}

/// The alert ids claimed and never marked published (nor given up): what a killed attempt left.
async fn unmarked_claims(stack: &Stack) -> BTreeSet<String> {
    stack
        .scan(&stack.ingest.config.tables.alerts)
        .await
        .iter()
        .filter(|i| !get(i, "sk").starts_with("O#"))
        .filter(|i| !i.contains_key("published_at") && !i.contains_key("failed_at"))
        .map(|i| get(i, "alert_id"))
        .collect()
}

/// One S3 event the sequence created, with its JSON.
#[derive(Clone)]
struct Event {
    ev: Ev,
    json: Value,
}

/// How one delivery is run.
#[derive(Debug, Clone, Copy)]
enum Run {
    Clean,
    /// Killed at call `n` (from 0), then retried by Lambda.
    Crash(usize, KillPoint),
    /// Call `n` (from 0) gets `fault` on its first `attempts` attempts (3: the SDK gives up).
    Fail(usize, Fault, u32),
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

/// What one delivery (first attempt and Lambda's retries) did.
struct Delivered {
    trail: String,
    injected: Injected,
    /// The alert a death in the publish window may have sent twice.
    excused: BTreeSet<String>,
    /// The alert a death between its post to the channel and its claim's mark may have posted
    /// twice.
    excused_hook: BTreeSet<String>,
    /// Calls the first attempt made.
    calls: usize,
}

/// One invocation as `run` says: its trail, whether Lambda would retry it, the faults
/// injected, the alert left unmarked by a death in the publish window, the calls made.
async fn first_attempt(
    stack: &Stack,
    hook: &Hook,
    event: &Value,
    run: Run,
) -> (String, bool, Delivered) {
    let plan = match run {
        Run::Clean => FaultPlan::new(0),
        Run::Crash(n, point) => FaultPlan::new(0).kill(KillAt::Call(n), point),
        Run::Fail(n, fault, attempts) => {
            FaultPlan::new(0).rule(OpMatch::any(), When::Nth(n as u32 + 1), fault, attempts)
        }
        Run::Throttled(seed) => FaultPlan::new(seed).throttle_fraction(0.3),
    };
    let posted_before = hook.receiver.got().len();
    if let Run::Crash(..) = run {
        *hook.plan.lock().unwrap() = Some(plan.clone());
    }
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
    let calls = plan.calls();
    let window = match run {
        Run::Crash(n, point) => plan.killed() && in_publish_window(&calls, n, point),
        _ => false,
    };
    let excused = if window {
        unmarked_claims(stack).await
    } else {
        BTreeSet::new()
    };
    // Died just before call n, right after a post (made once n calls had started): the
    // post's claim is unmarked, and the retry posts it again.
    let excused_hook = match run {
        Run::Crash(n, KillPoint::BeforeTransmit) if plan.killed() => hook.receiver.got()
            [posted_before..]
            .iter()
            .filter(|g| g.mark == n && (200..300).contains(&g.status))
            .filter_map(|g| g.header("X-Billwatch-Alert-Id").map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    };
    *hook.plan.lock().unwrap() = None;
    let again = plan.killed() || first.is_err();
    (
        trail,
        again,
        Delivered {
            trail: String::new(),
            injected: plan.injected(),
            excused,
            excused_hook,
            calls: calls.len(),
        },
    )
}

/// Lambda retries a crashed or failed invocation with a fresh process, 1, then 2, 3, … minutes
/// on, until it succeeds (at most 5 retries). (The test clock jumps those minutes: run it only
/// when no other attempt is in flight, as real minutes would let any attempt finish.)
async fn lambda_retries(stack: &Stack, event: &Value, mut again: bool) -> String {
    let mut trail = String::new();
    for minutes in 1..=5 {
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

async fn deliver(stack: &Stack, hook: &Hook, event: &Value, run: Run) -> Delivered {
    let (trail, again, mut d) = first_attempt(stack, hook, event, run).await;
    d.trail = format!("{trail}{}", lambda_retries(stack, event, again).await);
    d
}

/// A new version of `key` (a random variant), uploaded, and its event.
async fn new_event(
    stack: &Stack,
    files: &[PathBuf],
    events: &mut Vec<Event>,
    rng: &mut Rng,
    key: usize,
) -> Event {
    let variants = KEYS[key].variants;
    let variant = variants[rng.below(variants.len())];
    let json = stack.deliver(KEYS[key].key, &files[variant]).await;
    let sequencer = json["Records"][0]["s3"]["object"]["sequencer"]
        .as_str()
        .unwrap()
        .to_string();
    let event = Event {
        ev: Ev {
            key,
            order: events.len(),
            variant,
            sequencer,
        },
        json,
    };
    events.push(event.clone());
    event
}

const FAULTS: [Fault; 5] = [
    Fault::Http500,
    Fault::Http503,
    Fault::Throttling,
    Fault::Reset,
    Fault::Drop,
];

/// One random sequence; returns its figures.
async fn sequence(seed: u64, files: Arc<Vec<PathBuf>>) -> Figures {
    let mut rng = Rng::new(seed);
    let mut fig = Figures {
        sequences: 1,
        ..Figures::default()
    };
    let stack = Stack::new().await;
    stack.setup.budgets.put(&budget()).await.unwrap();
    let hook = Hook::start(&stack, seed).await;
    let mut excused_hook: BTreeSet<String> = BTreeSet::new();
    let mut model = Oracle::default();
    let mut events: Vec<Event> = Vec::new();
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    let mut excused: BTreeSet<String> = BTreeSet::new();
    let mut history: Vec<String> = Vec::new();
    // The most calls a first attempt made so far: crash and fault points are drawn below it.
    let mut most_calls = 24;
    let steps = 3 + rng.below(4);

    for step in 0..steps {
        fig.steps += 1;
        let kind = rng.below(7);
        let key = rng.below(KEYS.len());
        // Candidate oracles: one, or two for concurrent deliveries (either order may win).
        let mut candidates: Vec<Oracle> = Vec::new();
        let mut injected = Injected::default();
        let description;
        let single = |m: &Oracle, e: &Event| {
            let mut m = m.clone();
            m.apply(&e.ev);
            vec![m]
        };
        match kind {
            // The same (newest) event of a key again, or a late older one.
            1 | 2 if events.iter().any(|e| e.ev.key == key) => {
                let of_key: Vec<&Event> = events.iter().filter(|e| e.ev.key == key).collect();
                let event = if kind == 1 || of_key.len() == 1 {
                    of_key[of_key.len() - 1].clone()
                } else {
                    of_key[rng.below(of_key.len() - 1)].clone()
                };
                let d = deliver(&stack, &hook, &event.json, Run::Clean).await;
                injected = d.injected;
                description = format!(
                    "{} event #{} of {}: {}",
                    if kind == 1 { "duplicate" } else { "late" },
                    event.ev.order,
                    KEYS[key].key,
                    d.trail
                );
                candidates = single(&model, &event);
            }
            // Two deliveries at once.
            3 => {
                let shape = rng.below(3);
                let (a, b) = match shape {
                    0 => {
                        let other = (key + 1 + rng.below(KEYS.len() - 1)) % KEYS.len();
                        let a = new_event(&stack, &files, &mut events, &mut rng, key).await;
                        let b = new_event(&stack, &files, &mut events, &mut rng, other).await;
                        (a, b)
                    }
                    1 => {
                        let a = new_event(&stack, &files, &mut events, &mut rng, key).await;
                        (a.clone(), a)
                    }
                    _ => {
                        let a = new_event(&stack, &files, &mut events, &mut rng, key).await;
                        let b = new_event(&stack, &files, &mut events, &mut rng, key).await;
                        (a, b)
                    }
                };
                // Both at once; retries only once both are done (see `lambda_retries`).
                let (ra, rb) = tokio::join!(
                    first_attempt(&stack, &hook, &a.json, Run::Clean),
                    first_attempt(&stack, &hook, &b.json, Run::Clean)
                );
                let ta = lambda_retries(&stack, &a.json, ra.1).await;
                let tb = lambda_retries(&stack, &b.json, rb.1).await;
                description = format!(
                    "concurrent #{} {} and #{} {}: {}{ta} | {}{tb}",
                    a.ev.order, KEYS[a.ev.key].key, b.ev.order, KEYS[b.ev.key].key, ra.0, rb.0
                );
                for (x, y) in [(&a, &b), (&b, &a)] {
                    let mut m = model.clone();
                    m.apply(&x.ev);
                    m.apply(&y.ev);
                    candidates.push(m);
                }
            }
            // A crash at a call, or one call failing, then Lambda's retries.
            4 | 5 => {
                let event = new_event(&stack, &files, &mut events, &mut rng, key).await;
                let at = rng.below(most_calls);
                let run = if kind == 4 {
                    let point = if rng.chance(0.5) {
                        KillPoint::BeforeTransmit
                    } else {
                        KillPoint::AfterTransmit
                    };
                    Run::Crash(at, point)
                } else {
                    let fault = FAULTS[rng.below(FAULTS.len())];
                    Run::Fail(at, fault, if rng.chance(0.5) { 1 } else { 3 })
                };
                let d = deliver(&stack, &hook, &event.json, run).await;
                injected = d.injected;
                excused.extend(d.excused.iter().cloned());
                excused_hook.extend(d.excused_hook.iter().cloned());
                description = format!(
                    "faulted #{} {}: {} (excused {:?})",
                    event.ev.order, KEYS[key].key, d.trail, d.excused
                );
                candidates = single(&model, &event);
            }
            // Throttled.
            6 => {
                let event = new_event(&stack, &files, &mut events, &mut rng, key).await;
                let d = deliver(&stack, &hook, &event.json, Run::Throttled(rng.next_u64())).await;
                injected = d.injected;
                description = format!(
                    "throttled #{} {}: {}",
                    event.ev.order, KEYS[key].key, d.trail
                );
                candidates = single(&model, &event);
            }
            // A new version of a key.
            _ => {
                let event = new_event(&stack, &files, &mut events, &mut rng, key).await;
                let d = deliver(&stack, &hook, &event.json, Run::Clean).await;
                most_calls = most_calls.max(d.calls + 1);
                injected = d.injected;
                description = format!("new #{} {}: {}", event.ev.order, KEYS[key].key, d.trail);
                candidates = single(&model, &event);
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
        let seen = observe(&stack).await;
        let mut best: Option<(Oracle, Vec<String>)> = None;
        for m in candidates {
            let problems = oracle::differences(&m, &seen, &received, &excused);
            if best.as_ref().is_none_or(|b| problems.len() < b.1.len()) {
                best = Some((m, problems));
            }
        }
        let (m, mut problems) = best.unwrap();
        // The channel got what SNS got: every alert, once (twice only after a death between
        // its post and its mark, or when SNS itself got it twice in its own window).
        let posted = hook.delivered();
        for (id, n) in &received {
            let got = posted.get(id).copied().unwrap_or(0);
            let twice_ok = excused_hook.contains(id) || excused.contains(id);
            if got == 0 || (got > 1 && !(got == 2 && twice_ok)) {
                problems.push(format!("alert {id}: on SNS {n}x, posted to {HOOK} {got}x"));
            }
        }
        for id in posted.keys().filter(|id| !received.contains_key(*id)) {
            problems.push(format!("alert {id} posted to {HOOK}, never on SNS"));
        }
        let (lost, duplicated, unexpected) = oracle::alert_counts(&m, &received, &excused);
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
    fig.window_duplicates = excused
        .iter()
        .filter(|id| received.get(*id).is_some_and(|n| *n == 2))
        .count() as u64;
    fig
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
        })
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread")]
async fn random_deliveries_under_faults_match_the_oracle() {
    let sequences = env("BILLWATCH_MODEL_SEQUENCES", 20);
    let seed = env("BILLWATCH_MODEL_SEED", 1);
    let files = Arc::new(variant_files());
    let total = Arc::new(Mutex::new(Figures::default()));
    let gate = Arc::new(tokio::sync::Semaphore::new(3));
    let mut tasks = tokio::task::JoinSet::new();
    let started = std::time::Instant::now();
    for i in 0..sequences {
        let (files, total, gate) = (files.clone(), total.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let fig = sequence(seed + i, files).await;
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
            // Progress: the model run is long enough to want it.
            eprintln!(
                "model: {}/{sequences} sequences done ({:.0} s)",
                t.sequences,
                started.elapsed().as_secs_f64()
            );
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
        "model (emulator): sequences {} (seed {seed}), steps {}, injected faults {} ({:?}), faulted steps {}, recovered {}, lost {}, duplicated {}, sent twice after a death in the publish window {}, unexpected {}, diverged sequences {}",
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
        "{} of {} sequences diverged from the oracle (lost {}, duplicated {}, unexpected {}); first:\n{}",
        diverged.len(),
        t.sequences,
        t.lost,
        t.duplicated,
        t.unexpected,
        diverged.first().map(String::as_str).unwrap_or("")
    );
}
