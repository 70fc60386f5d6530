//! The month page behind every alert, against the local stack: the ingest function writes
//! `pages/<period>.html` to the pages bucket at the first alert of a delivery and each budget
//! alert carries a presigned link to it (the e-mail text, the JSON payload's `page_url`, the
//! Slack button); the link serves exactly the page of the stored totals; the digest links it as
//! the health-check function; a page that cannot be written never holds an alert back.

use billwatch_aws::clients::Clients;
use billwatch_aws::clock::Clock;
use billwatch_aws::ingest::Ingest;
use billwatch_aws::page::links::{key_of, PageLinks};
use billwatch_aws::page::stored_page;
use billwatch_core::channel::{Channel, ChannelKind, SecretRef};
use billwatch_core::page::month_page;
use billwatch_core::period::Period;
use billwatch_tests::receiver::Receiver;
use billwatch_tests::{fixtures, quick_channels, team_budget, unique, Principal, Stack};
use serde_json::Value;
use std::str::FromStr;

const KEY: &str = "billing/123456789012-aws-billing-csv-2026-11.csv";

fn estimated() -> std::path::PathBuf {
    fixtures().join("synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv")
}

async fn pages_bucket(stack: &Stack) -> String {
    let name = unique("pages");
    stack.s3.create_bucket().bucket(&name).send().await.unwrap();
    name
}

fn ingest_with_pages(stack: &Stack, bucket: Option<String>) -> Ingest {
    let mut config = stack.ingest.config.clone();
    config.pages_bucket = bucket;
    quick_channels(Ingest::new(
        config,
        Clients::from_sdk(&stack.ingest_sdk),
        Clock::offset(stack.clock.clone()),
    ))
}

async fn budget(stack: &Stack, channels: &[&str], digest: bool) {
    stack
        .setup
        .budgets
        .put(&team_budget(channels, digest))
        .await
        .unwrap();
}

/// A Slack channel on the receiver.
async fn slack(stack: &Stack, receiver: &Receiver) {
    let name = format!("/billwatch/{}/slack", unique("p"));
    stack
        .put_secure_parameter(&name, &receiver.url("/slack"))
        .await;
    stack
        .setup
        .budgets
        .put_channels(&[Channel {
            name: "slack".into(),
            kind: ChannelKind::Slack,
            url: SecretRef::Ssm(name),
            signing_key: None,
            default: false,
        }])
        .await
        .unwrap();
}

/// GETs a URL as a browser would (Python's standard library: no AWS credentials).
fn fetch(url: &str) -> (u16, String, String) {
    let script = r#"
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1]) as r:
    sys.stdout.write(str(r.status) + "\n" + (r.headers.get("Content-Type") or "") + "\n")
    sys.stdout.write(r.read().decode("utf-8"))
"#;
    let out = std::process::Command::new(
        std::env::var("BILLWATCH_PYTHON").unwrap_or_else(|_| "python3".into()),
    )
    .args(["-c", script, url])
    .output()
    .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parts = text.splitn(3, '\n');
    let status = parts.next().unwrap().parse().unwrap();
    let kind = parts.next().unwrap().to_string();
    (status, kind, parts.next().unwrap_or("").to_string())
}

fn payload(message: &Value) -> Value {
    serde_json::from_str(message["Message"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_budget_alert_links_the_month_page_of_the_stored_totals() {
    let stack = Stack::new().await;
    let bucket = pages_bucket(&stack).await;
    let receiver = Receiver::start().await;
    slack(&stack, &receiver).await;
    budget(&stack, &["slack"], false).await;
    let ingest = ingest_with_pages(&stack, Some(bucket.clone()));
    let event = stack.deliver(KEY, &estimated()).await;
    ingest.handle(&event).await.unwrap();

    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 2);
    let period = Period::from_str("2026-11").unwrap();
    let s = &stack.setup;
    let budgets = s.budgets.list().await.unwrap();
    let page = stored_page(&s.reports, &s.totals, &s.alerts, budgets, period)
        .await
        .unwrap()
        .expect("a live delivery");
    let want = month_page(&page);
    let mut urls = Vec::new();
    for m in &messages {
        let p = payload(m);
        // SNS's JSON payload for machines, and the e-mail text, carry the link.
        let url = p["page_url"].as_str().expect("page_url").to_string();
        assert!(p["page_url_expires"].as_str().is_some());
        assert!(url.contains(&key_of(period)), "{url}");
        assert!(url.contains("X-Amz-Signature="), "presigned: {url}");
        urls.push(url);
    }
    let (status, kind, html) = fetch(&urls[0]);
    assert_eq!(status, 200);
    assert_eq!(kind, "text/html; charset=utf-8");
    assert_eq!(html, want, "the link serves the page of the stored totals");
    assert!(html.contains("team-dev"), "the budget's part");
    // The Slack copy carries the same link as its button.
    let posted = receiver.to("/slack");
    assert_eq!(posted.len(), 2);
    let body = String::from_utf8_lossy(&posted[0].body).into_owned();
    assert!(body.contains("Open the month page"), "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let button = json["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .unwrap();
    assert!(urls.contains(&button["elements"][0]["url"].as_str().unwrap().to_string()));
    // Private: the object itself is not readable without a signature.
    let object = stack
        .s3
        .get_object()
        .bucket(&bucket)
        .key(key_of(period))
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("text/html; charset=utf-8"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_digest_links_the_page_as_the_health_function() {
    let stack = Stack::new().await;
    let bucket = pages_bucket(&stack).await;
    budget(&stack, &[], true).await;
    let event = stack.deliver(KEY, &estimated()).await;
    stack.ingest.handle(&event).await.unwrap();
    stack.received_alerts().await;
    let config = billwatch_aws::health::HealthConfig {
        tables: stack.ingest.config.tables.clone(),
        topic_arn: stack.ingest.config.topic_arn.clone(),
        chat_topic_arn: None,
        silence_hours: 36,
        pages_bucket: Some(bucket.clone()),
    };
    let h = stack.health();
    let health_sdk = Principal::Health.sdk(&stack.sdk);
    let pages = PageLinks::new(
        Clients::from_sdk(&health_sdk).s3,
        config.pages_bucket.clone(),
        (
            h.reports.clone(),
            h.totals.clone(),
            h.alerts.clone(),
            h.budgets.clone(),
        ),
    );
    let senders = billwatch_aws::notify::Senders {
        pages: Some(&pages),
        ..h.senders()
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let stores = (&h.budgets, &h.reports, &h.totals, &h.alerts);
    let out = billwatch_aws::digest::digest(&config, stores, senders, now)
        .await
        .unwrap();
    assert_eq!(out.sent, 1);
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    let p = payload(&messages[0]);
    assert_eq!(p["type"], "digest");
    let url = p["page_url"].as_str().expect("the digest links the page");
    let (status, _, html) = fetch(url);
    assert_eq!(status, 200);
    assert!(
        html.contains("Nov 2026") || html.contains("2026-11"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_that_cannot_be_written_never_holds_an_alert_back() {
    let stack = Stack::new().await;
    budget(&stack, &[], false).await;
    let ingest = ingest_with_pages(&stack, Some(unique("pages-missing")));
    let event = stack.deliver(KEY, &estimated()).await;
    ingest.handle(&event).await.unwrap();
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 2, "both alerts, without a link");
    for m in &messages {
        assert!(payload(m)["page_url"].is_null());
    }
}
