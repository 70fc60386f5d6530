//! `billwatch doctor` against the local stack that ./scripts/test builds from template.yaml
//! (infra/local/create_stack.py: bucket, notifications, tables, topics, subscriptions, function
//! stubs, schedules): it passes there, and it fails clearly, naming each piece and its fix, on a
//! private copy of the stack with one piece removed.
//!
//! The emulator invokes no function when an object is written, so in the `--live` test this
//! test stands in for Lambda: it watches the bucket for the doctor's upload and runs the ingest
//! (billwatch's own, in-process, as tests/support does) on the S3 event AWS would send.

use aws_sdk_dynamodb::types::AttributeValue;
use billwatch_aws::clock::Clock;
use billwatch_aws::config::Config;
use billwatch_aws::ingest::Ingest;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the repository")
        .to_path_buf()
}

fn require(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test, which starts the local AWS stack")
    })
}

/// `billwatch ARGS` with the test's environment (the local stack's), minus `unset`.
fn billwatch(args: &[&str], unset: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_billwatch"));
    cmd.args(args)
        .envs(billwatch_tests::Principal::for_cli(args).env());
    for name in unset {
        cmd.env_remove(name);
    }
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every BILLWATCH_* name the local stack exports: unset, `--stack NAME` alone names a stack.
const STACK_VARS: [&str; 7] = [
    "BILLWATCH_TOTALS_TABLE",
    "BILLWATCH_REPORTS_TABLE",
    "BILLWATCH_BUDGETS_TABLE",
    "BILLWATCH_ALERTS_TABLE",
    "BILLWATCH_ALERT_TOPIC_ARN",
    "BILLWATCH_CHAT_TOPIC_ARN",
    "BILLWATCH_BUCKET",
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn sdk() -> aws_config::SdkConfig {
    require("AWS_ENDPOINT_URL");
    billwatch_aws::clients::sdk_config().await
}

/// A private copy of the stack, named `name`, made by the same script as the local stack.
fn private_stack(name: &str) {
    let python = {
        let venv = repo().join(".venv/bin/python");
        if venv.exists() {
            venv
        } else {
            PathBuf::from("python3")
        }
    };
    let out = Command::new(python)
        .arg(repo().join("infra/local/create_stack.py"))
        .args(["--stack-name", name])
        .current_dir(repo())
        .output()
        .expect("python runs infra/local/create_stack.py");
    assert!(out.status.success(), "create_stack.py: {}", text(&out).1);
}

fn checks_of(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("doctor --output json prints one object ({e}): {stdout}"));
    v
}

#[test]
fn doctor_passes_against_the_local_stack() {
    require("AWS_ENDPOINT_URL");
    let out = billwatch(&["doctor"], &[]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for line in [
        "PASS  bucket billwatch-billing-123456789012 versioning on",
        "PASS  notification *.csv ",
        "PASS  notification *.csv.zip ",
        "PASS  notification *-Manifest.json ",
        "PASS  function report-ingest ",
        "PASS  function report-ingest environment ",
        "PASS  table billwatch-totals ",
        "PASS  table billwatch-alerts ",
        "PASS  subscriptions of billwatch-alerts ",
        "PASS  function health-check ",
        "PASS  schedule of health-check ",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    assert!(stdout.contains(" 0 failed\n"), "{stdout}");

    // The same as one JSON object.
    let out = billwatch(&["doctor", "--output", "json"], &[])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let v = checks_of(&stdout);
    assert_eq!(v["failed"], 0, "{v:#}");
    assert_eq!(v["stack"], "billwatch");
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.len() >= 15, "{v:#}");
    for c in checks {
        assert!(c["status"] == "pass" || c["status"] == "warn", "{c}");
        assert!(c["name"].is_string() && c["detail"].is_string(), "{c}");
        assert_eq!(
            c["status"] == "pass",
            c.get("fix").is_none(),
            "a fix on every non-pass: {c}"
        );
    }
}

/// The subscription removed (nobody hears an alert) and the totals table deleted.
#[test]
fn doctor_fails_clearly_without_the_subscription_or_a_table() {
    let stack = "doctor-nosub";
    private_stack(stack);
    runtime().block_on(async {
        let sdk = sdk().await;
        let sns = aws_sdk_sns::Client::new(&sdk);
        let topic = format!("arn:aws:sns:us-east-1:123456789012:{stack}-alerts");
        let subs = sns
            .list_subscriptions_by_topic()
            .topic_arn(&topic)
            .send()
            .await
            .unwrap();
        assert!(!subs.subscriptions().is_empty());
        for s in subs.subscriptions() {
            sns.unsubscribe()
                .subscription_arn(s.subscription_arn().unwrap())
                .send()
                .await
                .unwrap();
        }
        aws_sdk_dynamodb::Client::new(&sdk)
            .delete_table()
            .table_name(format!("{stack}-totals"))
            .send()
            .await
            .unwrap();
    });

    let out = billwatch(&["doctor", "--stack", stack], &STACK_VARS)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "FAIL  subscriptions of {stack}-alerts none: nobody receives what is published there\n      fix: deploy with AlertEmails=you@example.com"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "FAIL  table {stack}-totals          not found\n      fix: run `sam build && sam deploy`"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("PASS  notification *.csv "), "{stdout}");
    assert!(stdout.ends_with("2 failed\n"), "{stdout}");
    assert_eq!(
        stderr,
        "error: doctor: 2 check(s) failed (see FAIL above, each with its fix)\n"
    );

    let out = billwatch(&["doctor", "--stack", stack, "--json"], &STACK_VARS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = checks_of(&text(&out).0);
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            format!("table {stack}-totals"),
            format!("subscriptions of {stack}-alerts")
        ]
    );
}

/// The bucket's notifications removed (no report is ingested) and the function's environment
/// edited by hand (its alert topic gone).
#[test]
fn doctor_fails_clearly_without_the_notifications_or_the_functions_environment() {
    let stack = "doctor-nonotify";
    private_stack(stack);
    let function = format!("{stack}-ReportIngestFunction-local");
    runtime().block_on(async {
        let sdk = sdk().await;
        billwatch_aws::clients::s3(&sdk)
            .put_bucket_notification_configuration()
            .bucket(format!("{stack}-billing-123456789012"))
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder().build(),
            )
            .send()
            .await
            .unwrap();
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let config = lambda
            .get_function_configuration()
            .function_name(&function)
            .send()
            .await
            .unwrap();
        let mut vars = config.environment().unwrap().variables().unwrap().clone();
        assert!(vars.remove("BILLWATCH_ALERT_TOPIC_ARN").is_some());
        lambda
            .update_function_configuration()
            .function_name(&function)
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .set_variables(Some(vars))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });

    let out = billwatch(&["doctor", "--stack", stack, "--live"], &STACK_VARS)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for suffix in [".csv", ".csv.zip", "-Manifest.json"] {
        assert!(
            stdout.contains(&format!(
                "no S3 notification of the bucket invokes a function for keys ending in {suffix}: those reports are never ingested\n      fix: run `sam build && sam deploy`"
            )),
            "{suffix}: {stdout}"
        );
    }
    assert!(
        stdout.contains(&format!(
            "FAIL  function report-ingest environment BILLWATCH_ALERT_TOPIC_ARN is not set (the stack's: arn:aws:sns:us-east-1:123456789012:{stack}-alerts)"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("--merge-env"), "{stdout}");
    // --live does not upload anything onto a broken stack.
    assert!(
        stdout
            .contains("FAIL  live: round trip                   not run: 4 check(s) above failed"),
        "{stdout}"
    );
    assert!(stdout.ends_with("5 failed\n"), "{stdout}");
    assert!(
        stderr.starts_with("error: doctor: 5 check(s) failed"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// --live
// ---------------------------------------------------------------------------------------------

/// Like S3's notification: key URL-encoded as S3 does (the doctor's keys need no encoding).
fn s3_event(bucket: &str, key: &str, size: i64, etag: &str, version: Option<&str>) -> Value {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut object =
        json!({"key": key, "size": size, "eTag": etag, "sequencer": format!("{:018X}", nanos)});
    if let Some(v) = version {
        object["versionId"] = json!(v);
    }
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEBILLING"},
        "requestParameters": {"sourceIPAddress": "72.21.217.54"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "billwatch-reports",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": format!("arn:aws:s3:::{bucket}")},
               "object": object}
    }]})
}

type Item = HashMap<String, AttributeValue>;

/// Every item of a table (a Scan: fine in a test).
async fn scan(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> Vec<Item> {
    dynamo
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<Item>, _>>()
        .await
        .unwrap()
}

/// Everything of the local stack a doctor could touch: the items of the four tables, and the
/// bucket's object versions and delete markers.
async fn snapshot(sdk: &aws_config::SdkConfig) -> (Vec<Item>, Vec<String>) {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let mut items = Vec::new();
    for var in [
        "BILLWATCH_TOTALS_TABLE",
        "BILLWATCH_REPORTS_TABLE",
        "BILLWATCH_BUDGETS_TABLE",
        "BILLWATCH_ALERTS_TABLE",
    ] {
        items.extend(scan(&dynamo, &require(var)).await);
    }
    let versions = billwatch_aws::clients::s3(sdk)
        .list_object_versions()
        .bucket(require("BILLWATCH_BUCKET"))
        .send()
        .await
        .unwrap();
    let mut objects = Vec::new();
    for v in versions.versions() {
        objects.push(format!("s3 {:?} {:?}", v.key(), v.version_id()));
    }
    for m in versions.delete_markers() {
        objects.push(format!("s3 marker {:?} {:?}", m.key(), m.version_id()));
    }
    objects.sort();
    (items, objects)
}

/// The same items, in any order (maps compare whole, whatever their order).
fn assert_same_items(before: &[Item], after: &[Item]) {
    assert_eq!(
        before.len(),
        after.len(),
        "items before: {before:#?}\nafter: {after:#?}"
    );
    for item in before {
        assert!(
            after.contains(item),
            "{item:#?} is gone or changed; after: {after:#?}"
        );
    }
}

/// The budgets table as the test's set-up sees it (not the function's identity: the
/// permissions check records the function's calls only).
fn setup_budgets(
    ingest: &Ingest,
    sdk: &aws_config::SdkConfig,
) -> billwatch_aws::store::BudgetsStore {
    billwatch_aws::store::BudgetsStore::new(
        billwatch_aws::clients::dynamodb(sdk),
        &ingest.config.tables.budgets,
    )
}

/// Uploads a real month's report (and a budget it crosses) and ingests it, as the deployed
/// function would: the data the doctor's round trip must leave alone.
async fn real_month(ingest: &Ingest, sdk: &aws_config::SdkConfig) {
    use billwatch_core::budget::{Budget, Scope, Threshold};
    setup_budgets(ingest, sdk)
        .put(&Budget {
            name: "doctor-test-team".into(),
            scope: Scope::All,
            amount: rust_decimal::Decimal::new(100, 0),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(rust_decimal::Decimal::new(50, 0))],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
    let bucket = require("BILLWATCH_BUCKET");
    let key = "123456789012-aws-billing-csv-2026-11.csv";
    let s3 = billwatch_aws::clients::s3(sdk);
    let file = repo()
        .join("tests/fixtures/synthetic/monthly-estimated")
        .join(key);
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .body(
            aws_sdk_s3::primitives::ByteStream::from_path(&file)
                .await
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ingest_object(ingest, &s3, &bucket, key).await;
}

async fn ingest_object(ingest: &Ingest, s3: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let event = s3_event(
        bucket,
        key,
        head.content_length().unwrap_or_default(),
        head.e_tag().unwrap_or_default().trim_matches('"'),
        head.version_id(),
    );
    let outcomes = ingest.handle(&event).await.unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0].outcome.to_string(), "stored", "{outcomes:?}");
}

/// Stands in for S3 → Lambda: waits for the doctor's upload and ingests it; its key.
async fn act_as_the_function(ingest: &Ingest, sdk: &aws_config::SdkConfig) -> String {
    let bucket = require("BILLWATCH_BUCKET");
    let s3 = billwatch_aws::clients::s3(sdk);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("billwatch-doctor/")
            .send()
            .await
            .unwrap();
        if let Some(key) = listed.contents().first().and_then(|o| o.key()) {
            ingest_object(ingest, &s3, &bucket, key).await;
            return key.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the doctor uploaded nothing in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Drains the local stack's alert inbox (the SQS queue subscribed to the alert topic): the
/// subjects of what SNS delivered.
async fn delivered_subjects(sdk: &aws_config::SdkConfig) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let url = require("BILLWATCH_ALERTS_QUEUE_URL");
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            out.push(body["Subject"].as_str().unwrap_or_default().to_string());
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[test]
fn doctor_live_sends_a_report_through_and_leaves_the_stack_as_it_was() {
    let rt = runtime();
    let sdk = rt.block_on(sdk());
    let ingest = Ingest::new(
        Config::from_env().unwrap(),
        billwatch_aws::clients::Clients::from_sdk(&billwatch_tests::Principal::Ingest.sdk(&sdk)),
        Clock::system(),
    );
    let before = rt.block_on(async {
        real_month(&ingest, &sdk).await;
        delivered_subjects(&sdk).await;
        snapshot(&sdk).await
    });

    let child = billwatch(&["doctor", "--live", "--timeout", "60"], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let key = rt.block_on(act_as_the_function(&ingest, &sdk));
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        key.starts_with("billwatch-doctor/")
            && key.ends_with("/000000000000-aws-billing-csv-2000-01.csv"),
        "{key}"
    );
    for line in [
        "PASS  live: test budget",
        &format!("PASS  live: upload                       s3://{}/{key}", require("BILLWATCH_BUCKET")),
        "PASS  live: ingest record",
        "PASS  live: totals                       000000000000 AmazonS3 0.60 XTS, live for 2000-01",
        "PASS  live: alert                        published to the alert topic: \"billwatch: billwatch-doctor:",
        "PASS  live: cleanup",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }

    rt.block_on(async {
        // SNS delivered the test alert, and only it.
        let subjects = delivered_subjects(&sdk).await;
        assert_eq!(subjects.len(), 1, "{subjects:?}");
        assert!(
            subjects[0].starts_with("billwatch: billwatch-doctor: "),
            "{subjects:?}"
        );
        // Every table and the bucket are as they were: the real month untouched, nothing of
        // the test left.
        let after = snapshot(&sdk).await;
        assert_same_items(&before.0, &after.0);
        assert_eq!(before.1, after.1);
        // The stack is shared with later test binaries: no budget of this test stays behind.
        setup_budgets(&ingest, &sdk)
            .delete("doctor-test-team")
            .await
            .unwrap();
    });
}

/// Channels: one whose URL parameter exists (https) passes, one whose parameter is missing and
/// a budget naming an undeclared channel fail, each with its fix; no request is posted.
#[test]
fn doctor_checks_each_channels_url_and_the_budgets_that_name_them() {
    use billwatch_core::channel::{Channel, ChannelKind, SecretRef};
    let stack = "doctor-channels";
    private_stack(stack);
    let id = std::process::id();
    let good = format!("/billwatch/doctor-{id}/good");
    let gone = format!("/billwatch/doctor-{id}/gone");
    runtime().block_on(async {
        let sdk = sdk().await;
        aws_sdk_ssm::Client::new(&sdk)
            .put_parameter()
            .name(&good)
            .value("https://hooks.slack.com/services/T0/B0/doctor")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
        let budgets = billwatch_aws::store::BudgetsStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            format!("{stack}-budgets"),
        );
        budgets
            .put_channels(&[
                Channel {
                    name: "good".into(),
                    kind: ChannelKind::Slack,
                    url: SecretRef::Ssm(good.clone()),
                    signing_key: None,
                    default: false,
                },
                Channel {
                    name: "gone".into(),
                    kind: ChannelKind::Teams,
                    url: SecretRef::Ssm(gone.clone()),
                    signing_key: None,
                    default: false,
                },
            ])
            .await
            .unwrap();
        let mut b = billwatch_core::budget::Budget {
            name: "team".into(),
            scope: billwatch_core::budget::Scope::All,
            amount: rust_decimal::Decimal::ONE_HUNDRED,
            currency: "USD".into(),
            thresholds: vec![billwatch_core::budget::Threshold::percent(
                rust_decimal::Decimal::from(80),
            )],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: vec!["good".into(), "missing".into()],
            digest_every: Default::default(),
            model: Default::default(),
        };
        budgets.put(&b).await.unwrap();
        b.name = "other".into();
        b.channels = vec!["gone".into()];
        budgets.put(&b).await.unwrap();
    });
    let out = billwatch(&["doctor", "--stack", stack], &STACK_VARS)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // One line per check: `STATUS  name (padded)  detail`.
    let line = |start: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in:\n{stdout}"))
            .to_string()
    };
    assert!(line("PASS  channel good (slack) ")
        .ends_with(&format!("https URL readable from SSM parameter {good}")));
    assert!(line("FAIL  channel gone (teams) ").contains(&format!(
        "URL not readable: SSM parameter {gone}: ParameterNotFound"
    )));
    assert!(
        stdout.contains(&format!(
            "      fix: aws ssm put-parameter --name {gone} --type SecureString --value 'https://…'"
        )),
        "{stdout}"
    );
    assert!(line("FAIL  budget team channels ")
        .ends_with("names channel 'missing', which is not declared: its alerts do not go there"));
    assert!(stdout.ends_with("2 failed\n"), "{stdout}");
}
