//! Fault injection between the ingest function and the local emulator (see
//! `billwatch_tests::faults`): the process is killed at every AWS call of one delivery, before
//! or after the emulator carried the call out, and Lambda's retry (a fresh process, same event)
//! must converge to what a clean run leaves: the same live totals, every alert of the clean run
//! received exactly once, no totals items besides the live version's, and the period's pointer
//! on the same report. Also: a call that fails outright (a dropped connection) at every step,
//! each kind of transient fault retried by the SDK, 30 % of calls throttled, and one budget's
//! topic failing while the others' alerts still go out.
//!
//! Run: `./scripts/test --test faults -- --nocapture` (prints one line per injection).
//!
//! Lambda's async retry is modelled as the platform documents it: after a crash or an error the
//! same event is delivered again to a fresh process, after 1 minute, then (if that fails too)
//! after 2 more minutes; the shared test clock is advanced by those delays.

use billwatch_aws::ingest::{Ingest, IngestError, RecordOutcome};
use billwatch_core::budget::{Budget, Scope, Threshold};
use billwatch_tests::faults::{
    in_publish_window, Call, Fault, FaultPlan, KillAt, KillPoint, OpMatch, When,
};
use billwatch_tests::state::{compare_alerts, count_ids, Snapshot};
use billwatch_tests::{fixtures, Stack};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

const KEY: &str = "billing/123456789012-aws-billing-csv-2026-11.csv";

fn synthetic(rel: &str) -> PathBuf {
    fixtures().join("synthetic").join(rel)
}

fn estimated() -> PathBuf {
    synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv")
}

fn final_bill() -> PathBuf {
    synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv")
}

async fn budget(stack: &Stack, name: &str, amount: &str, thresholds: &[&str], topic: Option<&str>) {
    stack
        .setup
        .budgets
        .put(&Budget {
            name: name.into(),
            scope: Scope::All,
            amount: Decimal::from_str(amount).unwrap(),
            currency: "USD".into(),
            thresholds: thresholds
                .iter()
                .map(|t| Threshold::percent(Decimal::from_str(t).unwrap()))
                .collect(),
            escalation_step: None,
            topic_arn: topic.map(str::to_string),
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
}

/// One delivery under test, and what comes before it.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    /// The month's first (estimated) bill crosses the 50 % and 75 % thresholds of a budget.
    FirstEstimate,
    /// The final bill replaces the estimate: the old version is deleted and the month-close
    /// summary (which needs the replaced estimate) is owed.
    FinalReplacesEstimate,
}

impl Scenario {
    /// Sets up the stack (budgets, earlier deliveries, their alerts drained) and uploads the
    /// object under test; returns its S3 event.
    async fn prepare(self, stack: &Stack) -> Value {
        budget(stack, "team-dev", "150", &["50", "75", "90"], None).await;
        match self {
            Scenario::FirstEstimate => stack.deliver(KEY, &estimated()).await,
            Scenario::FinalReplacesEstimate => {
                let first = stack.deliver(KEY, &estimated()).await;
                stack.ingest.handle(&first).await.unwrap();
                stack.received_alerts_now().await;
                stack.deliver(KEY, &final_bill()).await
            }
        }
    }
}

/// What a clean run of a scenario does and leaves.
struct Clean {
    calls: Vec<Call>,
    snapshot: Snapshot,
    alerts: BTreeSet<String>,
}

async fn clean_run(scenario: Scenario) -> Clean {
    let stack = Stack::new().await;
    let event = scenario.prepare(&stack).await;
    let plan = FaultPlan::new(0);
    let ingest = stack.ingest_with(plan.clients(&stack.ingest_sdk));
    let result = ingest.handle(&event).await;
    assert!(result.is_ok(), "clean run of {scenario:?}: {result:?}");
    let messages = stack.received_alerts_now().await;
    let counts = count_ids(&messages);
    assert!(
        counts.values().all(|n| *n == 1),
        "clean run of {scenario:?} repeats an alert: {counts:?}"
    );
    assert!(!counts.is_empty(), "the clean run of {scenario:?} alerts");
    Clean {
        calls: plan.calls(),
        snapshot: Snapshot::read(&stack).await,
        alerts: counts.into_keys().collect(),
    }
}

/// One fault injected into the delivery under test.
#[derive(Debug, Clone, Copy)]
enum Injection {
    /// The process dies at call i before transmitting it.
    KillBefore(usize),
    /// The process dies at call i after the emulator carried it out.
    KillAfter(usize),
    /// Call i fails (a dropped connection the SDK does not retry); the process goes on.
    Drop(usize),
}

impl Injection {
    fn index(self) -> usize {
        match self {
            Injection::KillBefore(i) | Injection::KillAfter(i) | Injection::Drop(i) => i,
        }
    }

    fn label(self, calls: &[Call]) -> String {
        let what = match self {
            Injection::KillBefore(_) => "kill before",
            Injection::KillAfter(_) => "kill after ",
            Injection::Drop(_) => "drop       ",
        };
        format!("{what} {}", calls[self.index()])
    }

    fn plan(self, calls: &[Call]) -> FaultPlan {
        let call = &calls[self.index()];
        let op = OpMatch::op(&call.service, &call.operation);
        match self {
            Injection::KillBefore(_) => {
                FaultPlan::new(0).kill(KillAt::Nth(op, call.nth), KillPoint::BeforeTransmit)
            }
            Injection::KillAfter(_) => {
                FaultPlan::new(0).kill(KillAt::Nth(op, call.nth), KillPoint::AfterTransmit)
            }
            Injection::Drop(_) => FaultPlan::new(0).rule(op, When::Nth(call.nth), Fault::Drop, 1),
        }
    }

    fn is_kill(self) -> bool {
        !matches!(self, Injection::Drop(_))
    }

    /// A kill between SNS accepting a message and its claim being marked: the one window where
    /// an alert may go out twice (at least once, never lost).
    fn in_publish_window(self, calls: &[Call]) -> bool {
        match self {
            Injection::KillBefore(i) => in_publish_window(calls, i, KillPoint::BeforeTransmit),
            Injection::KillAfter(i) => in_publish_window(calls, i, KillPoint::AfterTransmit),
            Injection::Drop(_) => false,
        }
    }
}

fn short(result: &Result<Vec<RecordOutcome>, IngestError>) -> String {
    let text = match result {
        Ok(outcomes) => format!(
            "Ok({})",
            outcomes
                .iter()
                .map(|o| format!("{} alerts={}", o.outcome, o.alerts_sent))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Err(e) => format!("Err({e})"),
    };
    text.chars().take(220).collect()
}

/// Lambda's async retry: the same event to a fresh process after 1 minute, then after 2 more
/// minutes if it failed again. Returns what each retry returned.
async fn lambda_retries(
    stack: &Stack,
    event: &Value,
    after_crash: bool,
    first_failed: bool,
) -> Vec<String> {
    let mut results = Vec::new();
    if !after_crash && !first_failed {
        return results;
    }
    for minutes in [1, 2] {
        stack.clock.advance(chrono::Duration::minutes(minutes));
        let fresh: Ingest = stack.fresh_ingest();
        let result = fresh.handle(event).await;
        let failed = result.is_err();
        results.push(short(&result));
        if !failed {
            break;
        }
    }
    results
}

/// Runs the scenario with one injection and Lambda's retries; Ok(summary) when it converged to
/// the clean run's state, Err(what differs) otherwise.
async fn run_injection(
    scenario: Scenario,
    injection: Injection,
    clean: Arc<Clean>,
) -> Result<String, String> {
    let label = injection.label(&clean.calls);
    let stack = Stack::new().await;
    let event = scenario.prepare(&stack).await;
    let plan = injection.plan(&clean.calls);
    let first = stack
        .ingest_with(plan.clients(&stack.ingest_sdk))
        .handle(&event)
        .await;
    if plan.injected().total() == 0 {
        return Err(format!(
            "{label}: the fault was not injected (calls seen: {})",
            plan.calls().len()
        ));
    }
    let retries = lambda_retries(&stack, &event, injection.is_kill(), first.is_err()).await;
    let messages = stack.received_alerts_now().await;
    let received = count_ids(&messages);
    let snapshot = Snapshot::read(&stack).await;
    let mut problems = snapshot.diff(&clean.snapshot);
    let (lost, duplicated, unexpected) = compare_alerts(&received, &clean.alerts);
    if !lost.is_empty() {
        problems.push(format!("alerts lost: {lost:?}"));
    }
    // In the publish window one alert may arrive twice; anything more is a failure.
    let window = injection.in_publish_window(&clean.calls)
        && duplicated.len() == 1
        && duplicated[0].ends_with(" x2");
    if !duplicated.is_empty() && !window {
        problems.push(format!("alerts received more than once: {duplicated:?}"));
    }
    if !unexpected.is_empty() {
        problems.push(format!("alerts the clean run did not send: {unexpected:?}"));
    }
    let mut trail = format!("first {}; retries {:?}", short(&first), retries);
    if window {
        trail.push_str(&format!(
            "; publish window: {} (at least once, same alert_id)",
            duplicated[0]
        ));
    }
    if problems.is_empty() {
        Ok(format!("{label}: converged ({trail})"))
    } else {
        Err(format!("{label}: {} [{trail}]", problems.join("; ")))
    }
}

/// Runs every injection (a few at a time) and fails with the full list of those that did not
/// converge.
async fn enumerate(scenario: Scenario, kinds: &[fn(usize) -> Injection]) {
    let clean = Arc::new(clean_run(scenario).await);
    println!(
        "{scenario:?}: clean run makes {} calls: {}",
        clean.calls.len(),
        clean
            .calls
            .iter()
            .map(|c| format!("{}:{}", c.service, c.operation))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let injections: Vec<Injection> = kinds
        .iter()
        .flat_map(|k| (0..clean.calls.len()).map(k))
        .collect();
    let gate = Arc::new(tokio::sync::Semaphore::new(3));
    let mut tasks = tokio::task::JoinSet::new();
    for (n, injection) in injections.iter().copied().enumerate() {
        let (clean, gate) = (clean.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            (n, run_injection(scenario, injection, clean).await)
        });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        results.push(done.expect("injection task"));
    }
    results.sort_by_key(|(n, _)| *n);
    let mut failures = Vec::new();
    for (_, result) in &results {
        match result {
            Ok(line) => println!("PASS {line}"),
            Err(line) => {
                println!("FAIL {line}");
                failures.push(line.clone());
            }
        }
    }
    let window = results
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|l| l.contains("publish window")))
        .count();
    println!(
        "{scenario:?}: {} injections, {} converged ({window} of them with one alert sent twice \
         in the publish window), {} did not",
        results.len(),
        results.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{scenario:?}: {} of {} injections did not converge:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_call_of_a_first_estimate_then_retried() {
    enumerate(
        Scenario::FirstEstimate,
        &[Injection::KillBefore, Injection::KillAfter],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_call_of_a_final_bill_replacing_the_estimate_then_retried() {
    enumerate(
        Scenario::FinalReplacesEstimate,
        &[Injection::KillBefore, Injection::KillAfter],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_failing_outright_at_every_step_then_lambda_retries() {
    enumerate(Scenario::FirstEstimate, &[Injection::Drop]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_failing_outright_at_every_step_of_a_final_bill_then_lambda_retries() {
    enumerate(Scenario::FinalReplacesEstimate, &[Injection::Drop]).await;
}

/// Checks one faulted run that must converge without Lambda's retry.
async fn converges_without_retry(
    scenario: Scenario,
    plan: FaultPlan,
    clean: &Clean,
) -> Vec<String> {
    let stack = Stack::new().await;
    let event = scenario.prepare(&stack).await;
    let result = stack
        .ingest_with(plan.clients(&stack.ingest_sdk))
        .handle(&event)
        .await;
    let mut problems = Vec::new();
    if result.is_err() {
        problems.push(format!("the delivery failed: {}", short(&result)));
    }
    problems.extend(Snapshot::read(&stack).await.diff(&clean.snapshot));
    let received = count_ids(&stack.received_alerts_now().await);
    let (lost, duplicated, unexpected) = compare_alerts(&received, &clean.alerts);
    for (what, ids) in [
        ("lost", lost),
        ("received more than once", duplicated),
        ("not sent by the clean run", unexpected),
    ] {
        if !ids.is_empty() {
            problems.push(format!("alerts {what}: {ids:?}"));
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_30_percent_of_calls_converges_without_a_lambda_retry() {
    let mut failures = Vec::new();
    let mut throttled = 0;
    for scenario in [Scenario::FirstEstimate, Scenario::FinalReplacesEstimate] {
        let clean = clean_run(scenario).await;
        for seed in [1, 2, 3, 4, 5] {
            let plan = FaultPlan::new(seed).throttle_fraction(0.3);
            let problems = converges_without_retry(scenario, plan.clone(), &clean).await;
            throttled += plan.injected().throttling;
            println!(
                "{scenario:?} seed {seed}: {} of {} calls throttled: {}",
                plan.injected().throttling,
                plan.calls().len(),
                if problems.is_empty() {
                    "converged".to_string()
                } else {
                    problems.join("; ")
                }
            );
            if !problems.is_empty() {
                failures.push(format!("{scenario:?} seed {seed}: {}", problems.join("; ")));
            }
        }
    }
    assert!(throttled > 0, "nothing was throttled");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_of_transient_fault_is_retried_by_the_sdk() {
    let clean = clean_run(Scenario::FirstEstimate).await;
    let mut failures = Vec::new();
    for fault in [
        Fault::Http500,
        Fault::Http503,
        Fault::Throttling,
        Fault::ProvisionedThroughputExceeded,
        Fault::Reset,
    ] {
        let plan = FaultPlan::new(0)
            .fail_nth("S3", "GetObject", 1, fault)
            .fail_nth("DynamoDB", "PutItem", 2, fault)
            .fail_nth("DynamoDB", "BatchWriteItem", 1, fault)
            .fail_nth("SNS", "Publish", 1, fault);
        let problems = converges_without_retry(Scenario::FirstEstimate, plan.clone(), &clean).await;
        let injected = plan.injected().total();
        println!("{fault:?}: {injected} injected: {problems:?}");
        if injected != 4 {
            failures.push(format!("{fault:?}: {injected} faults injected, 4 expected"));
        }
        if !problems.is_empty() {
            failures.push(format!("{fault:?}: {}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_failing_for_one_budgets_topic_does_not_block_the_others() {
    let stack = Stack::new().await;
    let broken = stack.extra_topic().await;
    budget(&stack, "a-broken", "150", &["50"], Some(&broken)).await;
    budget(&stack, "b-fine", "150", &["50", "75"], None).await;
    let event = stack.deliver(KEY, &estimated()).await;
    // Every Publish to the broken topic fails, retries included (its body names the topic).
    // (URL-encoded as the SDK's query protocol writes it: unreserved characters kept.)
    const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded: String = percent_encoding::utf8_percent_encode(&broken, QUERY).to_string();
    let plan = FaultPlan::new(0).rule(
        OpMatch::op("SNS", "Publish").with_body(&encoded),
        When::Always,
        Fault::Http500,
        u32::MAX,
    );
    let result = stack
        .ingest_with(plan.clients(&stack.ingest_sdk))
        .handle(&event)
        .await;
    assert!(
        plan.injected().http_500 > 0,
        "the broken topic was never published to"
    );
    let first = count_ids(&stack.received_alerts_now().await);
    let fine: BTreeSet<String> = [
        "b-fine:2026-11:actual:50".to_string(),
        "b-fine:2026-11:actual:75".to_string(),
    ]
    .into();
    let broken_id = "a-broken:2026-11:actual:50".to_string();
    assert!(
        fine.iter().all(|id| first.get(id) == Some(&1)),
        "the working budget's alerts went out despite the broken topic: received {first:?}"
    );
    assert!(!first.contains_key(&broken_id), "{first:?}");
    // The failure surfaces, so that Lambda retries the event.
    assert!(
        result.is_err(),
        "the failed publish is reported: {}",
        short(&result)
    );

    // The topic works again; Lambda's retry delivers the same event to a fresh process: the
    // missing alert is sent, once, and the others are not repeated.
    let retries = lambda_retries(&stack, &event, false, true).await;
    let after = count_ids(&stack.received_alerts_now().await);
    assert_eq!(
        after.get(&broken_id),
        Some(&1),
        "the alert of the budget whose topic failed is sent by Lambda's retry (retries: {retries:?}; received after the retry: {after:?})"
    );
    assert!(
        fine.iter().all(|id| !after.contains_key(id)),
        "no repeat of the alerts already sent: {after:?}"
    );
}
