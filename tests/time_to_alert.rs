//! Benchmark (ignored by default; it prints figures and asserts nothing about time): time to
//! alert and the DynamoDB cost of a delivery, on the local stack.
//!
//! * Time to alert: a warm function (the handler in-process with its clients built once, as in
//!   Lambda after the first invocation) gets 30 deliveries of a small report, each the first of
//!   its month and crossing a budget's 50 % threshold. Each is timed from `PutObject` to the
//!   alert read from the SQS queue subscribed to the SNS topic; the handler's own time is
//!   timed apart. One delivery before them warms the clients and is not counted.
//! * Cost of a delivery: a 100-account x 60-service report delivered twice in one month (the
//!   second replaces the first, as the several daily deliveries do): the DynamoDB calls of the
//!   second, the items written and deleted, their write units, and the on-demand cost per
//!   month at 3 deliveries a day.
//!
//! ```sh
//! infra/local/with-stack.sh cargo test --release -p billwatch-tests --test time_to_alert -- --ignored --nocapture --test-threads 1
//! ```
//! (one thread: the two benchmarks must not share the machine while one is timed).
//! `BILLWATCH_BENCH_DELIVERIES` (30), `BILLWATCH_BENCH_ACCOUNTS` (100) and
//! `BILLWATCH_BENCH_SERVICES` (60) change the sizes.

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use billwatch_aws::clients::Clients;
use billwatch_aws::ingest::Ingest;
use billwatch_aws::store::item_size::{item_bytes, read_units, write_units};
use billwatch_core::budget::{Basis, Budget, Scope, Threshold};
use billwatch_core::period::Period;
use billwatch_tests::{s3_event, Stack};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PAYER: &str = "123456789012";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A legacy monthly bill for `period`: `accounts` x `services` linked-account lines, estimated.
fn bill(period: Period, accounts: usize, services: usize, cents: u64) -> Vec<u8> {
    let start = format!("{}/{:02}/01 00:00:00", period.year(), period.month());
    let mut text = String::from(
        "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,BillingPeriodStartDate,\
         BillingPeriodEndDate,InvoiceDate,PayerAccountName,LinkedAccountName,ProductCode,\
         ProductName,UsageType,CurrencyCode,CostBeforeTax,Credits,TaxAmount,TotalCost\n",
    );
    let mut id = 0;
    for a in 0..accounts {
        for s in 0..services {
            id += 1;
            let cost = Decimal::new((cents + (a * services + s) as u64 % 97) as i64, 2);
            text += &format!(
                "\"Estimated\",\"{PAYER}\",\"{:012}\",\"LinkedLineItem\",\"{id}\",\"{start}\",\
                 \"{start}\",\"{start}\",\"Payer\",\"Linked\",\"AWSService{s:03}\",\
                 \"Amazon Synthetic Service {s:03}\",\"Usage\",\"USD\",\"{cost}\",\"0.00\",\
                 \"0.00\",\"{cost}\"\n",
                200_000_000_000u64 + a as u64
            );
        }
    }
    text.into_bytes()
}

fn key_of(period: Period) -> String {
    format!("billing/{PAYER}-aws-billing-csv-{period}.csv")
}

/// Uploads `body` and returns the S3 event for it, built from the PutObject response (ETag,
/// version id) as S3's notification would carry them.
async fn put(stack: &Stack, key: &str, body: Vec<u8>) -> Value {
    let size = body.len() as i64;
    let out = stack
        .s3
        .put_object()
        .bucket(&stack.bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
    let mut event = s3_event(
        &stack.bucket,
        key,
        size,
        out.e_tag().unwrap_or_default().trim_matches('"'),
        &stack.next_sequencer(),
    );
    if let Some(version) = out.version_id() {
        event["Records"][0]["s3"]["object"]["versionId"] = serde_json::json!(version);
    }
    event
}

/// Waits for the alert `alert_id` on the inbox queue (long polling), deleting what it reads.
async fn receive(stack: &Stack, alert_id: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let page = stack
            .sqs
            .receive_message()
            .queue_url(&stack.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let mut found = false;
        for m in page.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap_or("{}")).unwrap_or_default();
            found |= body["MessageAttributes"]["alert_id"]["Value"].as_str() == Some(alert_id);
            stack
                .sqs
                .delete_message()
                .queue_url(&stack.queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .unwrap();
        }
        if found {
            return true;
        }
    }
    false
}

/// Nearest-rank percentile.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

async fn budget(stack: &Stack) {
    stack
        .setup
        .budgets
        .put(&Budget {
            name: "bench".into(),
            scope: Scope::All,
            amount: Decimal::from(10),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(Decimal::from(50)).on(Basis::Actual)],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run it with --ignored (see the file's header)"]
async fn time_from_put_object_to_the_alert() {
    let deliveries = env_or("BILLWATCH_BENCH_DELIVERIES", 30);
    let stack = Stack::new().await;
    budget(&stack).await;
    // The warm function: one Ingest (clients, connection pools) for every delivery.
    let function: &Ingest = &stack.ingest;
    let first: Period = "2020-01".parse().unwrap();
    let mut totals = Vec::new();
    let mut handler = Vec::new();
    for i in 0..=deliveries {
        let period = (0..i).fold(first, |p, _| p.next());
        let body = bill(period, 5, 4, 100);
        let key = key_of(period);
        let alert_id = format!("bench:{period}:actual:50");
        let start = Instant::now();
        let event = put(&stack, &key, body).await;
        let called = Instant::now();
        let outcome = function.handle(&event).await.unwrap();
        let handled = called.elapsed();
        assert!(
            receive(&stack, &alert_id).await,
            "alert {alert_id} never arrived: {outcome:?}"
        );
        let total = start.elapsed();
        if i > 0 {
            totals.push(total);
            handler.push(handled);
        }
    }
    totals.sort();
    handler.sort();
    println!("\ntime_to_alert: {deliveries} deliveries of a 5-account x 4-service report, warm function, local emulator");
    println!("| ms | p50 | p95 | max |\n|---|---:|---:|---:|");
    for (name, v) in [
        ("PutObject to alert received", &totals),
        ("handler", &handler),
    ] {
        println!(
            "| {name} | {} | {} | {} |",
            ms(percentile(v, 50)),
            ms(percentile(v, 95)),
            ms(*v.last().unwrap())
        );
    }
}

/// Counts the DynamoDB calls a client makes and the size of their requests.
#[derive(Debug, Clone, Default)]
struct Meter(Arc<Mutex<Vec<(String, usize)>>>);

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "billwatch-bench-meter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        let bytes = context.request().body().bytes().map_or(0, <[u8]>::len);
        self.0.lock().unwrap().push((op, bytes));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run it with --ignored (see the file's header)"]
async fn dynamodb_cost_of_a_delivery() {
    let accounts = env_or("BILLWATCH_BENCH_ACCOUNTS", 100);
    let services = env_or("BILLWATCH_BENCH_SERVICES", 60);
    let stack = Stack::new().await;
    budget(&stack).await;
    let period: Period = "2026-11".parse().unwrap();
    let key = key_of(period);
    let event = put(&stack, &key, bill(period, accounts, services, 100)).await;
    stack.ingest.handle(&event).await.unwrap();
    let before = stack.scan(&stack.ingest.config.tables.totals).await;

    let meter = Meter::default();
    let sdk = &stack.ingest_sdk;
    let clients = Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(meter.clone())
                .build(),
        ),
        ..Clients::from_sdk(sdk)
    };
    let event = put(&stack, &key, bill(period, accounts, services, 150)).await;
    let t = Instant::now();
    let outcome = stack.ingest_with(clients).handle(&event).await.unwrap();
    let handled = t.elapsed();
    let after = stack.scan(&stack.ingest.config.tables.totals).await;
    assert_eq!(outcome[0].outcome.as_str(), "stored");

    let sizes = |items: &[std::collections::HashMap<_, _>]| -> (usize, usize, u64) {
        let bytes: Vec<usize> = items.iter().map(item_bytes).collect();
        (
            bytes.len(),
            bytes.iter().sum(),
            bytes.iter().map(|b| write_units(*b)).sum(),
        )
    };
    let (written, written_bytes, written_units) = sizes(&after);
    let (deleted, deleted_bytes, deleted_units) = sizes(&before);
    let mut calls: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (op, bytes) in meter.0.lock().unwrap().iter() {
        let e = calls.entry(op.clone()).or_default();
        e.0 += 1;
        e.1 += bytes;
    }
    // Write units of the other writes, an upper bound: each request's size (JSON, so larger
    // than the item) rounded up to 1 KB; a transaction's writes count twice.
    let other_units: u64 = meter
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(op, bytes)| match op.as_str() {
            "PutItem" | "UpdateItem" | "DeleteItem" => write_units(*bytes),
            "TransactWriteItems" => 2 * write_units(*bytes),
            _ => 0,
        })
        .sum();
    // Table and index (which projects every attribute) each take the totals' writes.
    let totals_units = 2 * (written_units + deleted_units);
    // The previous version is read twice (to plan alerts, to list its keys), eventually
    // consistent: half a unit per 4 KB each time.
    let read_units_per_delivery = read_units(deleted_bytes);
    let wru = totals_units + other_units;
    let per_month = (Decimal::from(wru) * Decimal::new(625, 3)
        + Decimal::from(read_units_per_delivery) * Decimal::new(125, 3))
        * Decimal::from(90)
        / Decimal::from(1_000_000);

    println!(
        "\ndynamodb_cost_of_a_delivery: a later delivery of a {accounts}-account x {services}-service report ({} totals), handler {} ms on the local emulator",
        accounts * services,
        ms(handled)
    );
    println!("| DynamoDB call | count | request bytes |\n|---|---:|---:|");
    for (op, (count, bytes)) in &calls {
        println!("| {op} | {count} | {bytes} |");
    }
    println!("\n| totals items | count | bytes | write units (table) |\n|---|---:|---:|---:|");
    println!(
        "| written (this delivery's version) | {written} | {written_bytes} | {written_units} |"
    );
    println!(
        "| deleted (the version it replaced) | {deleted} | {deleted_bytes} | {deleted_units} |"
    );
    println!("\n| per delivery | units |\n|---|---:|");
    println!("| totals writes and deletes, table + index | {totals_units} WRU |");
    println!("| other writes (pointer, notes, outbox, claims, record; upper bound) | {other_units} WRU |");
    println!("| reads of the replaced version | {read_units_per_delivery} RRU |");
    println!(
        "\non demand at 3 deliveries a day (90 a month), $0.625 per million WRU and $0.125 per million RRU: ${} a month",
        per_month.round_dp(4)
    );
}
