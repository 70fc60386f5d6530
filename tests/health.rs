//! The scheduled health check against the local stack: silence alerts once per silence, and
//! a bucket that never received a report alerts too.

use billwatch_aws::health::{check, HealthConfig};
use billwatch_aws::notify::Senders;
use billwatch_tests::faults::{Fault, FaultPlan, OpMatch, When};
use billwatch_tests::{fixtures, Principal, Stack};

fn attr<'a>(m: &'a serde_json::Value, name: &str) -> &'a str {
    m["MessageAttributes"][name]["Value"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn silence_is_alerted_once_per_silence() {
    let stack = Stack::new().await;
    let config = HealthConfig {
        tables: stack.ingest.config.tables.clone(),
        topic_arn: stack.ingest.config.topic_arn.clone(),
        chat_topic_arn: None,
        silence_hours: 36,
        pages_bucket: None,
    };
    let health = stack.health();
    let (reports, alerts, sns) = (&health.reports, &health.alerts, health.senders());
    let now = chrono::Utc::now();

    // Nothing ever delivered: one alert, then quiet.
    let first = check(&config, reports, alerts, sns, now).await.unwrap();
    assert_eq!((first.state.as_str(), first.alerts_sent), ("never", 1));
    assert_eq!(
        check(&config, reports, alerts, sns, now)
            .await
            .unwrap()
            .alerts_sent,
        0
    );
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attr(&messages[0], "check"), "silence");
    assert_eq!(
        messages[0]["Subject"],
        "billwatch: no billing report has arrived yet"
    );

    // A delivery arrives: all is well.
    let event = stack
        .deliver(
            "billing/123456789012-aws-billing-csv-2026-11.csv",
            &fixtures()
                .join("synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    stack.ingest.handle(&event).await.unwrap();
    let ok = check(
        &config,
        reports,
        alerts,
        sns,
        now + chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!((ok.state.as_str(), ok.alerts_sent), ("ok", 0));
    assert!(ok.last_delivery.is_some());

    // 35 hours later: still fine. 40 hours later: silent, alerted once however often it runs.
    assert_eq!(
        check(
            &config,
            reports,
            alerts,
            sns,
            now + chrono::Duration::hours(35)
        )
        .await
        .unwrap()
        .state
        .as_str(),
        "ok"
    );
    let silent = check(
        &config,
        reports,
        alerts,
        sns,
        now + chrono::Duration::hours(40),
    )
    .await
    .unwrap();
    assert_eq!((silent.state.as_str(), silent.alerts_sent), ("silent", 1));
    assert_eq!(
        silent.silent_for_hours,
        Some(39).max(silent.silent_for_hours)
    );
    assert_eq!(
        check(
            &config,
            reports,
            alerts,
            sns,
            now + chrono::Duration::hours(41)
        )
        .await
        .unwrap()
        .alerts_sent,
        0
    );
    let messages = stack.received_alerts().await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["Subject"]
        .as_str()
        .unwrap()
        .starts_with("billwatch: no billing report for "));
    let payload: serde_json::Value =
        serde_json::from_str(messages[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(payload["details"]["limit_hours"], 36);
}

/// A publish that fails for good (SNS 500 on every attempt) gives the claim back: the run fails
/// (the schedule retries), and the next run sends the alert once, with its copy on the chat topic.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_publish_is_sent_by_the_next_run_with_its_chat_copy() {
    let stack = Stack::new().await;
    let chat = stack.chat_topic().await;
    let config = HealthConfig {
        tables: stack.ingest.config.tables.clone(),
        topic_arn: stack.ingest.config.topic_arn.clone(),
        chat_topic_arn: Some(chat.clone()),
        silence_hours: 36,
        pages_bucket: None,
    };
    let health = stack.health();
    let now = chrono::Utc::now();
    let plan = FaultPlan::new(0).rule(
        OpMatch::op("SNS", "Publish"),
        When::Always,
        Fault::Http500,
        10,
    );
    let failing = plan.clients(&Principal::Health.sdk(&stack.sdk)).sns;
    let err = check(
        &config,
        &health.reports,
        &health.alerts,
        Senders::sns(&failing),
        now,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class().as_str(), "transient", "{err}");
    assert!(stack.received_alerts_now().await.is_empty());

    let sent = check(
        &config,
        &health.reports,
        &health.alerts,
        health.senders(),
        now,
    )
    .await
    .unwrap();
    assert_eq!((sent.state.as_str(), sent.alerts_sent), ("never", 1));
    let messages = stack.received_alerts().await;
    let topics: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["TopicArn"].as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(topics.contains(&chat.as_str()), "{topics:?}");
    assert!(topics.contains(&config.topic_arn.as_deref().unwrap()));
}
