//! The pipeline's promises under hostile reports and broken steps, on the local stack: the live
//! totals are the newest delivery's exactly, each alert goes out once, and a bad report never
//! harms what is stored. See docs/reliability.md.

use billwatch_aws::store::{live_totals, StoredTotal};
use billwatch_core::budget::{Basis, Budget, Scope, Threshold};
use billwatch_core::period::Period;
use billwatch_tests::Stack;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

const KEY: &str = "billing/123456789012-aws-billing-csv-2026-11.csv";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn nov() -> Period {
    "2026-11".parse().unwrap()
}

/// A legacy monthly bill of linked-account lines `(account, product code, cost)`.
fn bill(name: &str, rows: &[(&str, &str, &str)]) -> PathBuf {
    typed_bill(
        name,
        &rows
            .iter()
            .map(|&(a, p, c)| ("LinkedLineItem", a, p, c))
            .collect::<Vec<_>>(),
    )
}

/// A legacy monthly bill of `(record type, account, product code, cost)` lines.
fn typed_bill(name: &str, rows: &[(&str, &str, &str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "billwatch-reliability-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from(
        "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,BillingPeriodStartDate,\
         BillingPeriodEndDate,InvoiceDate,PayerAccountName,LinkedAccountName,TaxationAddress,\
         PayerPONumber,ProductCode,ProductName,SellerOfRecord,UsageType,Operation,RateId,\
         ItemDescription,UsageStartDate,UsageEndDate,UsageQuantity,BlendedRate,CurrencyCode,\
         CostBeforeTax,Credits,TaxAmount,TaxType,TotalCost\n",
    );
    for (i, (kind, account, product, cost)) in rows.iter().enumerate() {
        text += &format!(
            "\"Estimated\",\"123456789012\",\"{account}\",\"{kind}\",\"{i}\",\
             \"2026/11/01 00:00:00\",\"2026/11/30 23:59:59\",\"2026/11/20 14:00:00\",\"Acme\",,,,\
             \"{product}\",\"{product}\",\"AWS\",\"U\",\"\",\"1\",\"d\",\"2026/11/01 00:00:00\",\
             \"2026/11/30 23:59:59\",\"1\",,\"USD\",\"{cost}\",\"0.00\",\"0.00\",\"None\",\"{cost}\"\n"
        );
    }
    let path = dir.join("123456789012-aws-billing-csv-2026-11.csv");
    std::fs::write(&path, text).unwrap();
    path
}

async fn live(stack: &Stack) -> Vec<StoredTotal> {
    live_totals(&stack.setup.reports, &stack.setup.totals, nov(), None)
        .await
        .unwrap()
}

fn costs(totals: &[StoredTotal]) -> BTreeMap<(String, String), Decimal> {
    totals
        .iter()
        .map(|t| ((t.account.clone(), t.service.clone()), t.cost))
        .collect()
}

fn outcomes(result: &[billwatch_aws::ingest::RecordOutcome]) -> Vec<&str> {
    result.iter().map(|r| r.outcome.as_str()).collect()
}

async fn budget(stack: &Stack, name: &str, amount: &str, topic: Option<String>) {
    stack
        .setup
        .budgets
        .put(&Budget {
            name: name.into(),
            scope: Scope::All,
            amount: d(amount),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("50")).on(Basis::Actual)],
            escalation_step: None,
            topic_arn: topic,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
}

/// Every total stored in the table, whatever its version (a test may scan).
async fn all_totals(stack: &Stack) -> usize {
    stack
        .scan(&stack.ingest.config.tables.totals)
        .await
        .iter()
        .map(|item| stack.setup.totals.read_item(item).unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn key_parts_with_the_separator_do_not_collide() {
    let stack = Stack::new().await;
    let file = bill("collide", &[("1#2", "3", "1.00"), ("1", "2#3", "2.00")]);
    let event = stack.deliver(KEY, &file).await;
    assert_eq!(
        outcomes(&stack.ingest.handle(&event).await.unwrap()),
        ["stored"]
    );
    let stored = costs(&live(&stack).await);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[&("1#2".into(), "3".into())], d("1.00"));
    assert_eq!(stored[&("1".into(), "2#3".into())], d("2.00"));
    // One account's query does not pick up the other's.
    let one = live_totals(&stack.setup.reports, &stack.setup.totals, nov(), Some("1"))
        .await
        .unwrap();
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one[0].service, "2#3");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_reads_the_version_it_names_not_the_newest() {
    let stack = Stack::new().await;
    let v1 = bill("v1", &[("111111111111", "AmazonEC2", "10.00")]);
    let v2 = bill("v2", &[("111111111111", "AmazonEC2", "25.00")]);
    let first = stack.deliver(KEY, &v1).await;
    // The key is overwritten before the first event is handled.
    let second = stack.deliver(KEY, &v2).await;
    assert_ne!(
        first["Records"][0]["s3"]["object"]["versionId"],
        second["Records"][0]["s3"]["object"]["versionId"]
    );
    stack.ingest.handle(&first).await.unwrap();
    assert_eq!(
        costs(&live(&stack).await)[&("111111111111".into(), "AmazonEC2".into())],
        d("10.00")
    );
    stack.ingest.handle(&second).await.unwrap();
    assert_eq!(
        costs(&live(&stack).await)[&("111111111111".into(), "AmazonEC2".into())],
        d("25.00")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_key_is_ordered_by_its_sequencer_not_by_event_time() {
    let stack = Stack::new().await;
    let older = bill("older", &[("111111111111", "AmazonEC2", "10.00")]);
    let newer = bill("newer", &[("111111111111", "AmazonEC2", "25.00")]);
    let mut first = stack.deliver(KEY, &older).await;
    let second = stack.deliver(KEY, &newer).await;
    // The older write's event carries the later clock (clocks differ between S3 hosts); only
    // the sequencer orders writes of one key.
    first["Records"][0]["eventTime"] = json!("2030-01-01T00:00:00.000Z");
    stack.ingest.handle(&second).await.unwrap();
    let late = stack.ingest.handle(&first).await.unwrap();
    assert_eq!(outcomes(&late), ["stale"]);
    assert_eq!(
        costs(&live(&stack).await)[&("111111111111".into(), "AmazonEC2".into())],
        d("25.00")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_left_by_a_dead_attempt_is_removed_by_the_next_delivery() {
    let stack = Stack::new().await;
    let file = bill("orphan", &[("111111111111", "AmazonEC2", "10.00")]);
    let first = stack.deliver(KEY, &file).await;
    // An attempt that died after writing its totals but before going live.
    let summary = billwatch_core::report::summarize_path(&file, None, &Default::default()).unwrap();
    let orphan = billwatch_aws::store::Pointer {
        payer: "123456789012".into(),
        period: nov(),
        version: "v00000000000000000000000000".into(),
        report_key: KEY.into(),
        order_key: "2000-01-01T00:00:00.000Z#0".into(),
        rank: 1,
        format: summary.format,
        status: summary.status,
        as_of: None,
        delivery_id: None,
        stored_at: "2000-01-01T00:00:00.000Z".into(),
        rows_summed: 1,
        sequencer: Some("0".repeat(32)),
    };
    let now = stack.ingest.clock.now();
    stack
        .setup
        .reports
        .mark_version(&orphan, now)
        .await
        .unwrap();
    stack
        .setup
        .totals
        .write_version(&summary, &orphan.payer, nov(), &orphan.version, KEY, "t")
        .await
        .unwrap();
    assert_eq!(all_totals(&stack).await, 1);
    // While its attempt may still be running, a version that is not complete is left alone.
    stack.ingest.handle(&first).await.unwrap();
    assert_eq!(all_totals(&stack).await, live(&stack).await.len() + 1);
    // Once it is older than any attempt can run, the next delivery removes it.
    stack.clock.advance(chrono::Duration::minutes(21));
    let later = stack.deliver(KEY, &file).await;
    stack.ingest.handle(&later).await.unwrap();
    // Only the live version's items remain.
    assert_eq!(all_totals(&stack).await, live(&stack).await.len());
    assert!(stack
        .setup
        .reports
        .versions(nov(), "123456789012")
        .await
        .unwrap()
        .iter()
        .all(|v| v.version != orphan.version));
}

// The update that notes a version complete is conditional on its mark (the in-memory ports'
// contract): a concurrent delivery of the same event may have swept the mark, and an update
// without the condition would leave a bare item no sweep lists.
#[tokio::test(flavor = "multi_thread")]
async fn completing_a_version_whose_mark_was_swept_leaves_no_item() {
    let stack = Stack::new().await;
    let file = bill("bare", &[("111111111111", "AmazonEC2", "10.00")]);
    let summary = billwatch_core::report::summarize_path(&file, None, &Default::default()).unwrap();
    let version = "v00000000000000000000000001";
    let reports = &stack.setup.reports;
    let payer = "123456789012";
    reports
        .version_complete(nov(), payer, version)
        .await
        .unwrap();
    assert!(reports.versions(nov(), payer).await.unwrap().is_empty());
    let raw = billwatch_aws::clients::dynamodb(&stack.sdk)
        .scan()
        .table_name(&stack.tables.reports)
        .send()
        .await
        .unwrap();
    assert!(
        raw.items()
            .iter()
            .all(|i| !format!("{i:?}").contains(version)),
        "a bare item was created: {:?}",
        raw.items()
    );
    let mark = billwatch_aws::store::Pointer {
        payer: payer.into(),
        period: nov(),
        version: version.into(),
        report_key: KEY.into(),
        order_key: "2026-11-20T08:00:00.000Z#0".into(),
        rank: 3,
        format: summary.format,
        status: summary.status,
        as_of: None,
        delivery_id: None,
        stored_at: "2026-11-20T08:00:00.000Z".into(),
        rows_summed: 1,
        sequencer: None,
    };
    reports
        .mark_version(&mark, stack.ingest.clock.now())
        .await
        .unwrap();
    assert!(!reports.versions(nov(), payer).await.unwrap()[0].complete);
    reports
        .version_complete(nov(), payer, version)
        .await
        .unwrap();
    assert!(reports.versions(nov(), payer).await.unwrap()[0].complete);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_whose_topic_is_gone_does_not_block_the_others() {
    let stack = Stack::new().await;
    let gone = "arn:aws:sns:us-east-1:123456789012:billwatch-no-such-topic".to_string();
    budget(&stack, "a-gone", "10", Some(gone)).await;
    budget(&stack, "b-fine", "10", None).await;
    let file = bill("topics", &[("111111111111", "AmazonEC2", "9.00")]);
    let event = stack.deliver(KEY, &file).await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(outcomes(&result), ["stored"]);
    let messages = stack.received_alerts().await;
    let budgets: Vec<_> = messages
        .iter()
        .map(|m| m["MessageAttributes"]["budget"]["Value"].as_str().unwrap())
        .collect();
    assert_eq!(budgets, ["b-fine"]);
    // The refused one is kept with SNS's reason, and not retried.
    let claims = stack.setup.alerts.list(nov()).await.unwrap();
    let refused = claims
        .iter()
        .find(|a| a.budget.as_deref() == Some("a-gone"))
        .unwrap();
    assert!(refused.failed_at.is_some() && refused.published_at.is_none());
    assert!(
        refused.error.as_deref().unwrap().contains("NotFound"),
        "{refused:?}"
    );
    assert!(stack.setup.alerts.outbox(nov()).await.unwrap().is_empty());
    assert_eq!(
        outcomes(&stack.ingest.handle(&event).await.unwrap()),
        ["duplicate"]
    );
    assert!(stack.received_alerts().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overlong_service_code_fails_that_report_alone_and_alerts_once() {
    let stack = Stack::new().await;
    let long = "S".repeat(2000);
    let file = bill("long", &[("111111111111", &long, "1.00")]);
    let event = stack.deliver(KEY, &file).await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(outcomes(&result), ["failed"]);
    let reason = result[0].reason.clone().unwrap();
    assert!(reason.contains("line 2"), "{reason}");
    assert!(reason.len() < 1000, "{reason}");
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["Subject"].as_str().unwrap().len() < 100);
    assert!(live(&stack).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_checks_fit_the_ingest_record() {
    let stack = Stack::new().await;
    // 9,000 accounts, each with a line and an AccountTotal row (one check each, every other
    // one failing): far more than one 400 KB item holds. The record keeps a bounded list.
    let accounts: Vec<String> = (0..9000)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i))
        .collect();
    let mut rows = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        rows.push(("LinkedLineItem", a.as_str(), "AmazonEC2", "1.00"));
        rows.push((
            "AccountTotal",
            a.as_str(),
            "",
            if i % 2 == 0 { "1.00" } else { "1.01" },
        ));
    }
    let file = typed_bill("checks", &rows);
    let event = stack.deliver(KEY, &file).await;
    assert_eq!(
        outcomes(&stack.ingest.handle(&event).await.unwrap()),
        ["stored"]
    );
    let records = stack.setup.reports.list(nov()).await.unwrap();
    assert_eq!(records.len(), 1);
    let checks = &records[0].checks;
    assert!(checks.len() <= 101, "{}", checks.len());
    assert!(checks[0].contains("FAILED"), "{checks:?}");
    assert!(checks.last().unwrap().contains("9000 checks"), "{checks:?}");
    assert_eq!(live(&stack).await.len(), 9000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_that_cannot_be_decoded_fails_alone() {
    let stack = Stack::new().await;
    let file = bill("decode", &[("111111111111", "AmazonEC2", "1.00")]);
    let mut event = stack.deliver(KEY, &file).await;
    let mut bad = event["Records"][0].clone();
    bad["s3"]["object"]["key"] = json!("billing/%ZZ%ff-aws-billing-csv-2026-11.csv");
    event["Records"].as_array_mut().unwrap().push(bad);
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(outcomes(&result), ["stored", "failed"]);
    assert!(result[1].reason.as_deref().unwrap().contains("URL-encoded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_report_over_an_estimate_changes_nothing() {
    let stack = Stack::new().await;
    let file = bill("estimate", &[("111111111111", "AmazonEC2", "7.00")]);
    let event = stack.deliver(KEY, &file).await;
    stack.ingest.handle(&event).await.unwrap();
    let before = costs(&live(&stack).await);
    let empty = bill("empty", &[]);
    let event = stack.deliver(KEY, &empty).await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(outcomes(&result), ["skipped"]);
    assert!(result[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("no line items"));
    assert_eq!(costs(&live(&stack).await), before);
    let pointer = stack
        .setup
        .reports
        .pointer(nov(), "123456789012")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pointer.status.name(), "estimated");
    assert!(stack
        .received_alerts()
        .await
        .iter()
        .all(|m: &Value| m["MessageAttributes"]["kind"]["Value"] != "month-close"));
}

const FOCUS_HEADER: &str =
    "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,\
ChargePeriodStart,ChargePeriodEnd,InvoiceId,ServiceName,SubAccountId,x_ServiceCode";

/// A Data Exports (FOCUS) delivery in the stack's bucket: one data part with `rows` of
/// (billing period start, day, cost), all AmazonEC2 in account 111111111111; returns the event.
async fn focus_delivery(stack: &Stack, name: &str, rows: &[(&str, &str, &str)]) -> Value {
    let mut text = format!("{FOCUS_HEADER}\n");
    for (period, day, cost) in rows {
        text += &format!(
            "{cost},123456789012,USD,{period}T00:00:00.000Z,Usage,{day}T00:00:00.000Z,\
             {day}T01:00:00.000Z,,Amazon Elastic Compute Cloud,111111111111,AmazonEC2\n"
        );
    }
    let dir = std::env::temp_dir().join(format!("billwatch-focus-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let part_key = format!("exports/focus/data/BILLING_PERIOD=2026-11/{name}-00001.csv");
    let part = dir.join("part.csv");
    std::fs::write(&part, text).unwrap();
    stack.upload(&part_key, &part).await;
    let manifest_key = "exports/focus/metadata/BILLING_PERIOD=2026-11/focus-Manifest.json";
    let manifest = dir.join("manifest.json");
    std::fs::write(
        &manifest,
        json!({
            "executionId": name,
            "billingPeriod": {"start": "2026-11-01T00:00:00.000Z", "end": "2026-12-01T00:00:00.000Z"},
            "dataFiles": [format!("s3://{}/{part_key}", stack.bucket)],
        })
        .to_string(),
    )
    .unwrap();
    stack.upload(manifest_key, &manifest).await;
    stack.event_for(manifest_key, &stack.next_sequencer()).await
}

async fn ec2_of(stack: &Stack, period: &str) -> Option<Decimal> {
    live_totals(
        &stack.setup.reports,
        &stack.setup.totals,
        period.parse().unwrap(),
        None,
    )
    .await
    .unwrap()
    .iter()
    .find(|t| t.service == "AmazonEC2")
    .map(|t| t.cost)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_focus_dataset_over_two_months_stores_each_month_on_its_own() {
    let stack = Stack::new().await;
    let first = focus_delivery(
        &stack,
        "first",
        &[
            ("2026-10-01", "2026-10-30", "1.50"),
            ("2026-11-01", "2026-11-02", "2.25"),
            ("2026-11-01", "2026-11-03", "4.00"),
        ],
    )
    .await;
    let result = stack.ingest.handle(&first).await.unwrap();
    assert_eq!(outcomes(&result), ["stored"]);
    assert_eq!(ec2_of(&stack, "2026-10").await, Some(d("1.50")));
    assert_eq!(ec2_of(&stack, "2026-11").await, Some(d("6.25")));
    // Each month has its own ingest record.
    assert_eq!(stack.setup.reports.list(nov()).await.unwrap().len(), 1);
    assert_eq!(
        stack
            .setup
            .reports
            .list("2026-10".parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );
    // A later delivery holding November only replaces November, and leaves October alone.
    let second = focus_delivery(&stack, "second", &[("2026-11-01", "2026-11-04", "9.00")]).await;
    stack.ingest.handle(&second).await.unwrap();
    assert_eq!(ec2_of(&stack, "2026-11").await, Some(d("9.00")));
    assert_eq!(ec2_of(&stack, "2026-10").await, Some(d("1.50")));
}
