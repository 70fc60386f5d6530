//! The ingest Lambda's handler against the local AWS stack: real objects in S3, real S3 event
//! JSON, real DynamoDB tables (cloned from the ones created from template.yaml) and a real SNS
//! topic read back through its SQS subscription.

use billwatch_aws::store::{live_totals, StoredTotal};
use billwatch_aws::store::{Claim, Owed};
use billwatch_core::budget::{Basis, Budget, Scope, Threshold};
use billwatch_core::report::{summarize_path, Limits, ReportSummary};
use billwatch_tests::{as_eventbridge, fixtures, Stack};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn synthetic(rel: &str) -> PathBuf {
    fixtures().join("synthetic").join(rel)
}

type Key = (String, String, String, String);

fn stored_map(totals: &[StoredTotal]) -> BTreeMap<Key, Decimal> {
    totals
        .iter()
        .map(|t| {
            (
                (
                    t.payer.clone(),
                    t.account.clone(),
                    t.service.clone(),
                    t.currency.clone(),
                ),
                t.cost,
            )
        })
        .collect()
}

fn summary_map(s: &ReportSummary) -> BTreeMap<Key, Decimal> {
    let payer = s.payer_account_id.clone().unwrap();
    s.totals
        .iter()
        .map(|t| {
            (
                (
                    payer.clone(),
                    t.account_id.clone(),
                    t.service.clone(),
                    t.currency.clone(),
                ),
                t.cost,
            )
        })
        .collect()
}

async fn live(stack: &Stack, period: &str) -> Vec<StoredTotal> {
    live_totals(
        &stack.setup.reports,
        &stack.setup.totals,
        period_of(period),
        None,
    )
    .await
    .unwrap()
}

fn period_of(period: &str) -> billwatch_core::period::Period {
    period.parse().unwrap()
}

fn outcome(result: &[billwatch_aws::ingest::RecordOutcome]) -> &str {
    assert_eq!(result.len(), 1, "{result:?}");
    result[0].outcome.as_str()
}

async fn budget(stack: &Stack, name: &str, amount: &str, thresholds: &[&str]) {
    stack
        .setup
        .budgets
        .put(&Budget {
            name: name.into(),
            scope: Scope::All,
            amount: d(amount),
            currency: "USD".into(),
            thresholds: thresholds
                .iter()
                .map(|t| Threshold::percent(d(t)))
                .collect(),
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
async fn every_format_is_stored_exactly_as_summarized() {
    let stack = Stack::new().await;
    let cases: &[(&str, PathBuf, Option<&str>)] = &[
        ("billing/123456789012-aws-billing-csv-2026-11.csv", synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"), None),
        ("billing/123456789012-aws-cost-allocation-2026-10.csv", synthetic("cost-allocation/123456789012-aws-cost-allocation-2026-10.csv"), None),
        ("billing/123456789012-aws-billing-detailed-line-items-with-resources-and-tags-2014-09.csv.zip", synthetic("dbr-rt-zip/123456789012-aws-billing-detailed-line-items-with-resources-and-tags-2014-09.csv.zip"), None),
        ("billing/555566667777-aws-billing-csv-2026-11.csv", synthetic("two-currencies/555566667777-aws-billing-csv-2026-11.csv"), None),
    ];
    for (key, file, _) in cases {
        let event = stack.deliver(key, file).await;
        let result = stack.ingest.handle(&event).await.unwrap();
        assert_eq!(outcome(&result), "stored", "{key}: {result:?}");
        let expected = summarize_path(file, None, &Limits::default()).unwrap();
        let period = expected.billing_period.unwrap();
        let payer = expected.payer_account_id.clone().unwrap();
        let stored: Vec<_> = live(&stack, &period.to_string())
            .await
            .into_iter()
            .filter(|t| t.payer == payer)
            .collect();
        assert_eq!(stored_map(&stored), summary_map(&expected), "{key}");
        assert!(stored.iter().all(|t| t.status == expected.status));
        assert_eq!(result[0].totals_written as usize, expected.totals.len());
    }
    // The reports record of the cost allocation report carries its checks.
    let records = stack
        .setup
        .reports
        .list(period_of("2026-10"))
        .await
        .unwrap();
    let r = records
        .iter()
        .find(|r| r.key.ends_with("aws-cost-allocation-2026-10.csv"))
        .unwrap();
    assert_eq!(r.outcome.as_str(), "stored");
    assert_eq!(r.format.map(|f| f.name()), Some("legacy-cost-allocation"));
    assert_eq!(r.rows_read, 13);
    // 7 linked line items and the CBRounding line (booked on the payer).
    assert_eq!(r.rows_summed, 8);
    assert!(
        r.checks
            .iter()
            .any(|c| c.starts_with("account_total:013328811177:USD") && c.ends_with(" ok")),
        "{:?}",
        r.checks
    );
}

/// Uploads every file of a bucket fixture tree into the test bucket, then delivers the
/// manifest's event. Data Exports URIs name a bucket: they are rewritten to the test bucket.
async fn deliver_tree(stack: &Stack, tree: &str, manifest_key: &str) -> Value {
    let root = fixtures().join("bucket").join(tree);
    let mut stack_files = vec![root.clone()];
    while let Some(dir) = stack_files.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack_files.push(path);
                continue;
            }
            let key = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if key.ends_with("-Manifest.json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut manifest: Value = serde_json::from_str(&text).unwrap();
                if let Some(files) = manifest.get_mut("dataFiles").and_then(Value::as_array_mut) {
                    for f in files {
                        let uri = f.as_str().unwrap();
                        let rest = uri.strip_prefix("s3://").unwrap();
                        let (_, k) = rest.split_once('/').unwrap();
                        *f = json!(format!("s3://{}/{k}", stack.bucket));
                    }
                }
                let tmp = std::env::temp_dir().join(format!(
                    "manifest-{}-{}.json",
                    std::process::id(),
                    stack.next_sequencer()
                ));
                std::fs::write(&tmp, serde_json::to_vec(&manifest).unwrap()).unwrap();
                stack.upload(&key, &tmp).await;
                std::fs::remove_file(tmp).unwrap();
            } else {
                stack.upload(&key, &path).await;
            }
        }
    }
    stack.event_for(manifest_key, &stack.next_sequencer()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn cur_and_data_exports_deliveries_are_read_through_their_manifests() {
    let stack = Stack::new().await;
    let cases = [
        (
            "cur1-2026-11",
            "cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json",
            "cur1",
            "2026-11",
            "89.49857419248",
            "USD",
        ),
        (
            "cur2-2026-11",
            "exports/billwatch-cur2/metadata/BILLING_PERIOD=2026-11/billwatch-cur2-Manifest.json",
            "cur2",
            "2026-11",
            "0.475825",
            "USD",
        ),
        (
            "focus12-2026-10",
            "exports/billwatch-focus/metadata/BILLING_PERIOD=2026-10/billwatch-focus-Manifest.json",
            "focus",
            "2026-10",
            "69.2519",
            "EUR",
        ),
    ];
    for (tree, manifest, format, period, grand, currency) in cases {
        let event = deliver_tree(&stack, tree, manifest).await;
        let result = stack.ingest.handle(&event).await.unwrap();
        assert_eq!(outcome(&result), "stored", "{tree}: {result:?}");
        assert_eq!(result[0].format.map(|f| f.name()), Some(format));
        let stored = live(&stack, period).await;
        let total: Decimal = stored
            .iter()
            .filter(|t| t.currency == currency && t.report_key == manifest)
            .map(|t| t.cost)
            .sum();
        assert_eq!(total, d(grand), "{tree}");
    }
    // A data part or the assembly-folder copy of a manifest is skipped, not ingested twice.
    let part = "cur/billwatch-hourly/20261101-20261201/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-1.csv.gz";
    let copy = "cur/billwatch-hourly/20261101-20261201/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-Manifest.json";
    for key in [part, copy] {
        let event = stack.event_for(key, &stack.next_sequencer()).await;
        let result = stack.ingest.handle(&event).await.unwrap();
        assert_eq!(outcome(&result), "skipped", "{key}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_delivery_replaces_the_period_and_duplicates_and_stale_events_change_nothing() {
    let stack = Stack::new().await;
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let estimated = synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv");
    let final_ = synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv");

    let first = stack.deliver(key, &estimated).await;
    assert_eq!(
        outcome(&stack.ingest.handle(&first).await.unwrap()),
        "stored"
    );
    // The same event again (S3 delivers at least once): a no-op.
    assert_eq!(
        outcome(&stack.ingest.handle(&first).await.unwrap()),
        "duplicate"
    );

    let second = stack.deliver(key, &final_).await;
    assert_eq!(
        outcome(&stack.ingest.handle(&second).await.unwrap()),
        "stored"
    );
    let stored = live(&stack, "2026-11").await;
    let expected = summarize_path(&final_, None, &Limits::default()).unwrap();
    assert_eq!(stored_map(&stored), summary_map(&expected));
    assert!(stored.iter().all(|t| t.status.name() == "final"));
    assert_eq!(
        stored.iter().map(|t| t.cost).sum::<Decimal>(),
        // Σ linked line items + the CBRounding line = the invoice.
        d("114.800000")
    );

    // The older event arriving late must not overwrite the newer totals.
    assert_eq!(
        outcome(&stack.ingest.handle(&first).await.unwrap()),
        "stale"
    );
    assert_eq!(
        stored_map(&live(&stack, "2026-11").await),
        summary_map(&expected)
    );

    // Only one version's items remain: the superseded one was removed.
    let pointer = stack
        .setup
        .reports
        .pointer(period_of("2026-11"), "123456789012")
        .await
        .unwrap()
        .unwrap();
    let ec2 = stack
        .setup
        .totals
        .history("123456789012", "AmazonEC2")
        .await
        .unwrap();
    assert_eq!(ec2.len(), 1, "{ec2:?}");
    assert_eq!(ec2[0].version, pointer.version);
    assert_eq!(ec2[0].cost, d("71.424000"));

    let outcomes: Vec<_> = stack
        .setup
        .reports
        .list(period_of("2026-11"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(outcomes, ["stored", "duplicate", "stored", "stale"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn services_that_vanish_from_a_newer_delivery_are_removed() {
    let stack = Stack::new().await;
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let first = stack
        .deliver(
            key,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    stack.ingest.handle(&first).await.unwrap();
    assert!(live(&stack, "2026-11")
        .await
        .iter()
        .any(|t| t.service == "AmazonCloudWatch"));
    // A newer estimate of the same month without CloudWatch (a restatement).
    let text = std::fs::read_to_string(synthetic(
        "monthly-estimated/123456789012-aws-billing-csv-2026-11.csv",
    ))
    .unwrap();
    let restated: String = text
        .lines()
        .filter(|l| !l.contains("AmazonCloudWatch"))
        .map(|l| format!("{l}\n"))
        .collect();
    let tmp = std::env::temp_dir().join(format!("restated-{}.csv", std::process::id()));
    std::fs::write(&tmp, restated).unwrap();
    let second = stack.deliver(key, &tmp).await;
    std::fs::remove_file(&tmp).unwrap();
    assert_eq!(
        outcome(&stack.ingest.handle(&second).await.unwrap()),
        "stored"
    );
    let stored = live(&stack, "2026-11").await;
    assert!(
        !stored.iter().any(|t| t.service == "AmazonCloudWatch"),
        "{stored:?}"
    );
    assert!(stack
        .setup
        .totals
        .history("013328811177", "AmazonCloudWatch")
        .await
        .unwrap()
        .is_empty());
}

/// The JSON payload machine subscribers get (the SQS envelope's `Message`).
fn payload(m: &Value) -> Value {
    serde_json::from_str(m["Message"].as_str().unwrap()).unwrap()
}

fn attr<'a>(m: &'a Value, name: &str) -> &'a str {
    m["MessageAttributes"][name]["Value"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crossed_threshold_alerts_once_through_sns() {
    let stack = Stack::new().await;
    budget(&stack, "team-dev", "150", &["50", "75", "90"]).await;
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let event = stack
        .deliver(
            key,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    let result = stack.ingest.handle(&event).await.unwrap();
    // 114.99 of 150 is 76.7 %: the 50 % and 75 % thresholds are crossed, 90 % is not.
    assert_eq!(result[0].alerts_sent, 2);
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    let mut thresholds: Vec<&str> = messages.iter().map(|m| attr(m, "threshold")).collect();
    thresholds.sort();
    assert_eq!(thresholds, ["50", "75"]);
    for m in &messages {
        let subject = m["Subject"].as_str().unwrap();
        assert!(
            subject.len() < 100 && subject.chars().all(|c| !c.is_control()),
            "{subject}"
        );
        // One message per threshold, each subject naming its own (issue 11).
        assert_eq!(
            subject,
            format!(
                "billwatch: team-dev: actual spend passed {}% of 150.00 USD - Nov 2026",
                attr(m, "threshold")
            )
        );
        assert_eq!(attr(m, "budget"), "team-dev");
        assert_eq!(attr(m, "basis"), "actual");
        assert_eq!(attr(m, "period"), "2026-11");
        assert_eq!(attr(m, "severity"), "warning");
        let p = payload(m);
        assert_eq!(p["type"], "budget");
        assert_eq!(p["actual"], "114.990000");
        assert_eq!(p["top_services"][0]["service"], "AmazonEC2");
        assert_eq!(p["top_services"][0]["cost"], "74.320000");
        assert_eq!(
            p["alert_id"],
            format!("team-dev:2026-11:actual:{}", attr(m, "threshold"))
        );
    }
    // A newer delivery that still crosses the same thresholds does not alert again; the
    // final bill brings one month-close summary instead, saying how far it moved.
    let again = stack
        .deliver(
            key,
            &synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    let result = stack.ingest.handle(&again).await.unwrap();
    assert_eq!(outcome(&result), "stored");
    assert_eq!(result[0].alerts_sent, 1);
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(attr(&messages[0], "kind"), "month-close");
    assert_eq!(
        messages[0]["Subject"],
        "billwatch: team-dev: Nov 2026 closed at 114.80 USD (76.5% of 150.00 USD)"
    );
    let p = payload(&messages[0]);
    assert_eq!(p["last_estimate"], "114.990000");
    assert_eq!(p["moved_since_estimate"], "-0.190000");
    assert_eq!(p["top_services"][0]["change"], "-2.896000");
    // The final bill delivered again (a restatement) closes nothing twice.
    let restated = stack
        .deliver(
            key,
            &synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    assert_eq!(
        stack.ingest.handle(&restated).await.unwrap()[0].alerts_sent,
        0
    );
    let alerts = stack.setup.alerts.list(period_of("2026-11")).await.unwrap();
    assert_eq!(alerts.len(), 3);
    assert!(alerts
        .iter()
        .all(|a| a.published_at.is_some() && a.message_id.is_some()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_left_by_a_crash_is_retried_by_a_later_delivery() {
    let stack = Stack::new().await;
    budget(&stack, "team", "100", &["80"]).await;
    let period = "2026-11";
    let key = "team#actual#80";
    // A previous invocation claimed the alert and died before publishing.
    let claim = billwatch_core::alert::notices::health_alert(
        period_of(period),
        key.into(),
        billwatch_core::alert::HealthCheck::Checks,
        "a claim left by a crash",
        "",
        "k",
    );
    assert_eq!(
        stack
            .setup
            .alerts
            .claim(&Owed::from(&claim), stack.ingest.clock.now())
            .await
            .unwrap(),
        Claim::Claimed
    );
    let report = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let event = stack
        .deliver(
            report,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    // While the claim's lease runs, nobody else publishes it: the totals are stored and the
    // invocation fails (transient), so Lambda retries it.
    let err = stack.ingest.handle(&event).await.unwrap_err();
    assert!(err.to_string().contains("held by another attempt"), "{err}");
    assert_eq!(err.class(), billwatch_aws::error::ErrorClass::Transient);
    assert!(!live(&stack, "2026-11").await.is_empty());
    assert!(stack.received_alerts().await.is_empty());
    // Once the lease has run out, Lambda's retry of the event claims it again and publishes,
    // once; a later delivery has nothing left to send.
    stack.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(stack.ingest.handle(&event).await.unwrap()[0].alerts_sent, 1);
    let newer = stack
        .deliver(
            report,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    assert_eq!(stack.ingest.handle(&newer).await.unwrap()[0].alerts_sent, 0);
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "alert_id"), "team:2026-11:actual:80");
    let newest = stack
        .deliver(
            report,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    assert_eq!(
        stack.ingest.handle(&newest).await.unwrap()[0].alerts_sent,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_report_for_last_month_is_evaluated_against_last_month() {
    let stack = Stack::new().await;
    budget(&stack, "team", "100", &["50"]).await;
    // The cost allocation report of October (117.20 USD) arrives after November began.
    let event = stack
        .deliver(
            "billing/123456789012-aws-cost-allocation-2026-10.csv",
            &synthetic("cost-allocation/123456789012-aws-cost-allocation-2026-10.csv"),
        )
        .await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(
        result[0].period.map(|p| p.to_string()).as_deref(),
        Some("2026-10")
    );
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "period"), "2026-10");
    assert_eq!(
        stack
            .setup
            .alerts
            .list(period_of("2026-10"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(stack
        .setup
        .alerts
        .list(period_of("2026-11"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn health_alerts_for_failed_reports_failed_checks_and_new_services() {
    let stack = Stack::new().await;
    // A report that cannot be read alerts once per object version, however often it is retried.
    let bad = stack
        .deliver(
            "billing/123456789012-aws-billing-csv-2026-11.csv",
            &fixtures().join("bad/invalid-amount/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    assert_eq!(outcome(&stack.ingest.handle(&bad).await.unwrap()), "failed");
    assert_eq!(
        outcome(&stack.ingest.handle(&bad).await.unwrap()),
        "duplicate"
    );
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(attr(&messages[0], "kind"), "health");
    assert_eq!(attr(&messages[0], "check"), "report-failed");
    assert_eq!(attr(&messages[0], "severity"), "critical");
    assert!(messages[0]["Subject"]
        .as_str()
        .unwrap()
        .contains("could not read report 123456789012-aws-billing-csv-2026-11.csv"));

    // A report whose totals do not reconcile alerts with both figures.
    let checks = stack
        .deliver(
            "billing/123456789012-aws-billing-csv-2026-08.csv",
            &synthetic("quoted-header/123456789012-aws-billing-csv-2026-08.csv"),
        )
        .await;
    assert_eq!(
        outcome(&stack.ingest.handle(&checks).await.unwrap()),
        "stored"
    );
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(attr(&messages[0], "check"), "checks");
    let p = payload(&messages[0]);
    assert_eq!(p["type"], "health");

    // A service that appears for the first time in an account (after an earlier delivery).
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let text = std::fs::read_to_string(synthetic(
        "monthly-estimated/123456789012-aws-billing-csv-2026-11.csv",
    ))
    .unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.contains("AmazonCloudWatch"))
        .map(|l| format!("{l}\n"))
        .collect();
    let tmp = std::env::temp_dir().join(format!("without-cw-{}.csv", std::process::id()));
    std::fs::write(&tmp, without).unwrap();
    let first = stack.deliver(key, &tmp).await;
    std::fs::remove_file(&tmp).unwrap();
    stack.ingest.handle(&first).await.unwrap();
    // No baseline yet, so nothing is "new"; dropping CloudWatch's lines breaks the account's
    // reconciliation though, and that is reported.
    let messages = stack.received_alerts().await;
    let checks: Vec<&str> = messages.iter().map(|m| attr(m, "check")).collect();
    assert_eq!(checks, ["checks"], "{messages:?}");
    let second = stack
        .deliver(
            key,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    assert_eq!(
        stack.ingest.handle(&second).await.unwrap()[0].alerts_sent,
        1
    );
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "check"), "new-service");
    assert_eq!(
        messages[0]["Subject"],
        "billwatch: new service AmazonCloudWatch in account 013328811177"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_with_spaces_and_plus_signs_are_decoded_once() {
    let stack = Stack::new().await;
    let key = "billing reports/2026+Nov (copy)/123456789012-aws-billing-csv-2026-11.csv";
    let event = stack
        .deliver(
            key,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    let raw = event["Records"][0]["s3"]["object"]["key"].as_str().unwrap();
    assert_eq!(
        raw,
        "billing+reports/2026%2BNov+%28copy%29/123456789012-aws-billing-csv-2026-11.csv"
    );
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(outcome(&result), "stored");
    assert_eq!(result[0].key, key);
}

/// An existing bucket announces objects through EventBridge; a bucket the stack created, through
/// S3 notifications. The same object announced both ways (a bucket switched from one mode to the
/// other, or both configured at once) is stored once: the second is a duplicate, whichever
/// comes first, because both carry the same sequencer.
#[tokio::test(flavor = "multi_thread")]
async fn one_object_announced_by_s3_and_by_eventbridge_is_stored_once() {
    let stack = Stack::new().await;
    let file = synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv");
    let expected = summarize_path(&file, None, &Limits::default()).unwrap();

    // S3 notification first, then EventBridge.
    let key = "billing/Nov 2026+x (1)/123456789012-aws-billing-csv-2026-11.csv";
    let notification = stack.deliver(key, &file).await;
    let bridged = as_eventbridge(&notification);
    assert_eq!(
        bridged["detail"]["object"]["key"],
        "billing/Nov+2026%2Bx+%281%29/123456789012-aws-billing-csv-2026-11.csv"
    );
    let first = stack.ingest.handle(&notification).await.unwrap();
    assert_eq!(outcome(&first), "stored");
    let second = stack.ingest.handle(&bridged).await.unwrap();
    assert_eq!(outcome(&second), "duplicate", "{second:?}");
    assert_eq!(second[0].key, key);
    assert_eq!(second[0].totals_written, 0);
    assert_eq!(
        stored_map(&live(&stack, "2026-11").await),
        summary_map(&expected)
    );

    // A later delivery of the key, EventBridge first, then its S3 notification.
    let final_ = synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv");
    let notification = stack.deliver(key, &final_).await;
    let bridged = as_eventbridge(&notification);
    assert_eq!(
        outcome(&stack.ingest.handle(&bridged).await.unwrap()),
        "stored"
    );
    assert_eq!(
        outcome(&stack.ingest.handle(&notification).await.unwrap()),
        "duplicate"
    );
    // And the first delivery again, through EventBridge: older than what is live.
    let stale = as_eventbridge(&stack.event_for(key, "000000000000000100").await);
    assert_eq!(
        outcome(&stack.ingest.handle(&stale).await.unwrap()),
        "stale"
    );
    let expected = summarize_path(&final_, None, &Limits::default()).unwrap();
    assert_eq!(
        stored_map(&live(&stack, "2026-11").await),
        summary_map(&expected)
    );
    let outcomes: Vec<_> = stack
        .setup
        .reports
        .list(period_of("2026-11"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(
        outcomes,
        ["stored", "duplicate", "stored", "duplicate", "stale"]
    );
}

/// ReportPrefix: a key outside it is skipped whichever way it is announced (the function's
/// role may not read it).
#[tokio::test(flavor = "multi_thread")]
async fn keys_outside_the_report_prefix_are_skipped() {
    let stack = Stack::new().await;
    let mut config = stack.ingest.config.clone();
    config.report_prefix = Some("cur/".into());
    let ingest = billwatch_aws::ingest::Ingest::new(
        config,
        billwatch_aws::clients::Clients::from_sdk(&stack.ingest_sdk),
        billwatch_aws::clock::Clock::system(),
    );
    let file = synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv");
    let outside = stack
        .deliver("other/123456789012-aws-billing-csv-2026-11.csv", &file)
        .await;
    for event in [outside.clone(), as_eventbridge(&outside)] {
        let result = ingest.handle(&event).await.unwrap();
        assert_eq!(outcome(&result), "skipped");
        assert!(
            result[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("outside the report prefix 'cur/'"),
            "{result:?}"
        );
    }
    let inside = stack
        .deliver("cur/123456789012-aws-billing-csv-2026-11.csv", &file)
        .await;
    assert_eq!(
        outcome(&ingest.handle(&as_eventbridge(&inside)).await.unwrap()),
        "stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn non_reports_and_test_events_are_skipped() {
    let stack = Stack::new().await;
    let event = stack
        .deliver("notes/readme.txt", &fixtures().join("synthetic/README.md"))
        .await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(outcome(&result), "skipped");
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-27T10:00:00.000Z",
        "Bucket": stack.bucket, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"});
    let result = stack.ingest.handle(&test_event).await.unwrap();
    assert_eq!(outcome(&result), "skipped");
    assert_eq!(result[0].reason.as_deref(), Some("s3:TestEvent"));
    assert!(stack
        .setup
        .reports
        .pointers(period_of("2026-11"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_report_fails_loudly_and_leaves_earlier_totals_intact() {
    let stack = Stack::new().await;
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let good = stack
        .deliver(
            key,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    stack.ingest.handle(&good).await.unwrap();
    let before = stored_map(&live(&stack, "2026-11").await);

    let bad = stack
        .deliver(
            key,
            &fixtures().join("bad/invalid-amount/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    // A report that cannot be read fails for good: recorded, alerted once, not retried (the
    // invocation succeeds, so Lambda does not run it twice more).
    let result = stack.ingest.handle(&bad).await.unwrap();
    assert_eq!(outcome(&result), "failed");
    let err = result[0].reason.clone().unwrap();
    assert!(
        err.contains("line 10")
            && err.contains("TotalCost")
            && err.contains("invalid amount '12,34x'"),
        "{err}"
    );
    assert_eq!(stored_map(&live(&stack, "2026-11").await), before);
    let failed = stack
        .setup
        .reports
        .list(period_of("2026-11"))
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.outcome.as_str() == "failed")
        .unwrap();
    assert!(failed.error.unwrap().contains("invalid amount"));
    assert_eq!(failed.alerts_sent, 1);

    // The same event again (S3 delivers at least once) is a duplicate: no second alert.
    let again = stack.ingest.handle(&bad).await.unwrap();
    assert_eq!(outcome(&again), "duplicate");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failing_record_does_not_undo_the_others() {
    let stack = Stack::new().await;
    let good = stack
        .deliver(
            "billing/123456789012-aws-billing-csv-2026-11.csv",
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    let bad = stack
        .deliver(
            "billing/999999999999-aws-billing-csv-2026-11.csv",
            &fixtures().join("bad/invalid-amount/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    let mut both = good.clone();
    both["Records"]
        .as_array_mut()
        .unwrap()
        .push(bad["Records"][0].clone());
    let outcomes: Vec<_> = stack
        .ingest
        .handle(&both)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(outcomes, ["stored", "failed"]);
    assert!(!live(&stack, "2026-11").await.is_empty());
    // The same event again: both records are duplicates now, nothing fails twice.
    let outcomes: Vec<_> = stack
        .ingest
        .handle(&both)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.outcome.as_str())
        .collect();
    assert_eq!(outcomes, ["duplicate", "duplicate"]);
}

/// The budget alerts waiting on the queue (health notices dropped).
async fn budget_messages(stack: &Stack) -> Vec<Value> {
    stack
        .received_alerts()
        .await
        .into_iter()
        .filter(|m| attr(m, "kind") == "budget")
        .collect()
}

/// The estimated November bill without its CloudWatch lines (111.990489 USD, as of the 20th).
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
    let path = std::env::temp_dir().join(format!(
        "without-cloudwatch-{}-{}.csv",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::write(&path, lines).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forecast_alert_then_the_actual_one_and_no_realert_after_a_dip() {
    let stack = Stack::new().await;
    stack
        .setup
        .budgets
        .put(&Budget {
            name: "team".into(),
            scope: Scope::All,
            amount: d("113"),
            currency: "USD".into(),
            thresholds: vec![
                Threshold::percent(d("100")).on(Basis::Forecast),
                Threshold::percent(d("100")),
            ],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let lower = without_cloudwatch();
    let full = synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv");

    // 111.99 of 113 spent by the 20th: under budget, but heading well past it. (Dropping the
    // CloudWatch lines also breaks the report's own reconciliation: a health notice, ignored here.)
    let first = stack.deliver(key, &lower).await;
    stack.ingest.handle(&first).await.unwrap();
    let messages = budget_messages(&stack).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(attr(&messages[0], "basis"), "forecast");
    let p = payload(&messages[0]);
    assert_eq!(p["actual"], "111.990000");
    let forecast = d(p["forecast"].as_str().unwrap());
    assert!(forecast > d("113"), "{forecast}");
    assert!(messages[0]["Subject"]
        .as_str()
        .unwrap()
        .starts_with("billwatch: team: month-end forecast passed 100% of "));

    // The actual spend crosses too: a new alert (other basis); the forecast one is not repeated.
    let second = stack.deliver(key, &full).await;
    // (CloudWatch reappearing also raises a new-service notice, ignored here.)
    stack.ingest.handle(&second).await.unwrap();
    let messages = budget_messages(&stack).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "basis"), "actual");
    assert_eq!(attr(&messages[0], "severity"), "critical");

    // A restatement dips below and crosses again: nothing new.
    for file in [&lower, &full] {
        let event = stack.deliver(key, file).await;
        let result = stack.ingest.handle(&event).await.unwrap();
        assert_eq!(outcome(&result), "stored");
    }
    assert!(budget_messages(&stack).await.is_empty());
    std::fs::remove_file(lower).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn escalation_steps_past_100_percent_alert_once_each() {
    let stack = Stack::new().await;
    stack
        .setup
        .budgets
        .put(&Budget {
            name: "tight".into(),
            scope: Scope::Account("123456789012".into()),
            amount: d("50"),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("100"))],
            escalation_step: Some(d("20")),
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    // Account 123456789012 spent 73.692611 of 50: 147.4 % → 100 % plus the 120 and 140 steps.
    let event = stack
        .deliver(
            key,
            &synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    assert_eq!(stack.ingest.handle(&event).await.unwrap()[0].alerts_sent, 3);
    let mut levels: Vec<String> = stack
        .received_alerts()
        .await
        .iter()
        .map(|m| attr(m, "threshold").to_string())
        .collect();
    levels.sort();
    assert_eq!(levels, ["100", "120", "140"]);
    // The final bill (76.32 = 152.6 %) crosses 100/120/140 again: no repeat, only the close.
    let event = stack
        .deliver(
            key,
            &synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    stack.ingest.handle(&event).await.unwrap();
    let kinds: Vec<String> = stack
        .received_alerts()
        .await
        .iter()
        .map(|m| attr(m, "kind").to_string())
        .collect();
    assert_eq!(kinds, ["month-close"]);
    let escalations = stack.setup.alerts.list(period_of("2026-11")).await.unwrap();
    assert_eq!(
        escalations
            .iter()
            .filter(|a| a.kind.as_str() == "escalation")
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_budget_watches_the_spend_of_its_tag_value() {
    let stack = Stack::new().await;
    // `user:Name` and `user:name` are different keys: only `Name=web-01` counts here.
    stack
        .setup
        .budgets
        .put(&Budget {
            name: "web-01".into(),
            scope: Scope::Tag {
                key: "Name".into(),
                value: "web-01".into(),
            },
            amount: d("40"),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("80")), Threshold::percent(d("90"))],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
    let event = stack
        .deliver(
            "billing/123456789012-aws-cost-allocation-2026-10.csv",
            &synthetic("cost-allocation/123456789012-aws-cost-allocation-2026-10.csv"),
        )
        .await;
    stack.ingest.handle(&event).await.unwrap();
    let messages = budget_messages(&stack).await;
    // 33.333333 of 40 is 83.3 %: 80 % crossed, 90 % not.
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(attr(&messages[0], "threshold"), "80");
    assert_eq!(payload(&messages[0])["actual"], "33.333333");
    assert_eq!(payload(&messages[0])["scope"], "tag Name=web-01");
}

/// The function's CloudWatch metrics on a real ingest: every line it emits is a valid EMF
/// document, the stored report's line carries its latency and rows, the budget's line its
/// month-to-date spend against the amount; a duplicate adds a pipeline line only.
#[tokio::test(flavor = "multi_thread")]
async fn an_ingest_emits_emf_metric_lines_that_follow_the_specification() {
    use billwatch_aws::metrics::Metrics;
    use billwatch_tests::emf::check;
    let mut stack = Stack::new().await;
    // The report is for November 2026: the clock reads 20 November 2026 (spend lines are for
    // the current month only).
    let target: chrono::DateTime<chrono::Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
    stack.clock.advance(target - chrono::Utc::now());
    stack.ingest.metrics = Metrics::capture("billwatch/test");
    budget(&stack, "all-accounts", "100", &["80"]).await;

    let file = synthetic("monthly-estimated/123456789012-aws-billing-csv-2026-11.csv");
    let expected = summarize_path(&file, None, &Limits::default()).unwrap();
    let key = "billing/123456789012-aws-billing-csv-2026-11.csv";
    let mut event = stack.deliver(key, &file).await;
    // Delivered 90 seconds before it is handled.
    let sent = stack.ingest.clock.now() - chrono::Duration::seconds(90);
    event["Records"][0]["eventTime"] =
        json!(sent.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    assert_eq!(
        outcome(&stack.ingest.handle(&event).await.unwrap()),
        "stored"
    );

    let lines = stack.ingest.metrics.captured();
    let docs: Vec<Value> = lines
        .iter()
        .map(|l| check(l).unwrap_or_else(|p| panic!("not EMF: {l}\n{p:#?}")))
        .collect();
    for doc in &docs {
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "billwatch/test");
        let ts = doc["_aws"]["Timestamp"].as_i64().unwrap();
        assert!(
            (target.timestamp_millis()..target.timestamp_millis() + 600_000).contains(&ts),
            "{doc}"
        );
    }
    let stored: Vec<_> = docs.iter().filter(|d| d["Outcome"] == "stored").collect();
    assert_eq!(stored.len(), 1, "{lines:#?}");
    let latency = stored[0]["IngestLatency"].as_f64().unwrap();
    assert!((90_000.0..150_000.0).contains(&latency), "{latency}");
    assert_eq!(stored[0]["RowsRead"], expected.rows_read as f64);
    assert_eq!(stored[0]["ReportKey"], key);
    assert_eq!(stored[0]["Via"], "s3");

    let spend: Decimal = expected.totals.iter().map(|t| t.cost).sum();
    let money = |v: &Value| Decimal::from_str(&v.to_string()).unwrap();
    let budget_line = docs
        .iter()
        .find(|d| d["Budget"] == "all-accounts")
        .unwrap_or_else(|| panic!("no budget line: {lines:#?}"));
    assert_eq!(money(&budget_line["SpendMonthToDate"]), spend.round_dp(2));
    assert_eq!(money(&budget_line["BudgetAmount"]), d("100"));
    assert_eq!(
        money(&budget_line["BudgetUsedPercent"]),
        spend.round_dp(1).normalize()
    );
    assert!(budget_line.get("ForecastMonthEnd").is_some());
    let accounts: Vec<_> = docs.iter().filter(|d| d.get("Account").is_some()).collect();
    let mut expected_accounts: Vec<_> = expected.totals.iter().map(|t| &t.account_id).collect();
    expected_accounts.sort();
    expected_accounts.dedup();
    assert_eq!(
        accounts.len(),
        expected_accounts.len().min(20),
        "{lines:#?}"
    );
    assert!(docs.iter().any(|d| d["Service"] == "AmazonEC2"));

    // The same event again: one more pipeline line (a duplicate), no spend lines.
    let before = lines.len();
    assert_eq!(
        outcome(&stack.ingest.handle(&event).await.unwrap()),
        "duplicate"
    );
    let again = stack.ingest.metrics.captured();
    assert_eq!(again.len(), before + 1, "{again:#?}");
    let last = check(again.last().unwrap()).unwrap();
    assert_eq!(last["Outcome"], "duplicate");
    assert!(last.get("IngestLatency").is_none());

    // A newer delivery announced through EventBridge (whole-second `time`) is measured the same.
    let final_ = synthetic("monthly-final/123456789012-aws-billing-csv-2026-11.csv");
    let mut bridged = as_eventbridge(&stack.deliver(key, &final_).await);
    let sent = stack.ingest.clock.now() - chrono::Duration::seconds(30);
    bridged["time"] = json!(sent.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    assert_eq!(
        outcome(&stack.ingest.handle(&bridged).await.unwrap()),
        "stored"
    );
    let lines = stack.ingest.metrics.captured();
    let docs: Vec<Value> = lines[again.len()..]
        .iter()
        .map(|l| check(l).unwrap_or_else(|p| panic!("not EMF: {l}\n{p:#?}")))
        .collect();
    let stored = docs.iter().find(|d| d["Outcome"] == "stored").unwrap();
    assert_eq!(stored["Via"], "eventbridge");
    let latency = stored["IngestLatency"].as_f64().unwrap();
    assert!((30_000.0..90_000.0).contains(&latency), "{latency}");
    assert!(docs.iter().any(|d| d["Budget"] == "all-accounts"));
}
