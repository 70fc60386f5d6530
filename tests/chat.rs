//! The chat topic against the local stack: with BILLWATCH_CHAT_TOPIC_ARN set, each alert of the
//! stack's topic also goes to the chat topic as an AWS Chatbot custom notification, valid
//! against the documented schema (tests/fixtures/chatbot/custom-notification.schema.json);
//! the alert topic's own message is unchanged, and nothing is sent to chat twice.

use billwatch_aws::clock::Clock;
use billwatch_aws::ingest::Ingest;
use billwatch_core::budget::{Budget, Scope, Threshold};
use billwatch_tests::Stack;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::PathBuf;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// A topic subscribed by a queue of its own; returns (topic ARN, queue URL).
async fn chat_topic(stack: &Stack) -> (String, String) {
    let topic = stack
        .sns
        .create_topic()
        .name(format!("chat-{}", std::process::id()))
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let queue_url = stack
        .sqs
        .create_queue()
        .queue_name(format!("chat-inbox-{}", std::process::id()))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let arn_attribute = aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let queue_arn = stack
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(arn_attribute.clone())
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&arn_attribute).cloned())
        .unwrap();
    stack
        .sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    (topic, queue_url)
}

/// Every SNS envelope waiting on a queue.
async fn drain(stack: &Stack, queue_url: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = stack
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if page.messages().is_empty() {
            return out;
        }
        for m in page.messages() {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
            stack
                .sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_reach_the_chat_topic_as_chatbot_custom_notifications() {
    let stack = Stack::new().await;
    let (chat, chat_queue) = chat_topic(&stack).await;
    let mut config = stack.ingest.config.clone();
    config.chat_topic_arn = Some(chat);
    let ingest = Ingest::new(
        config,
        billwatch_aws::clients::Clients::from_sdk(&stack.ingest_sdk),
        Clock::offset(stack.clock.clone()),
    );
    stack
        .setup
        .budgets
        .put(&Budget {
            name: "team-dev".into(),
            scope: Scope::All,
            amount: d("150"),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("50")), Threshold::percent(d("75"))],
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
    let event = stack
        .deliver(
            key,
            &fixture("synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    let result = ingest.handle(&event).await.unwrap();
    assert_eq!(result[0].alerts_sent, 2);
    // The alert topic's subscribers get the usual payload.
    let alerts = stack.received_alerts().await;
    assert_eq!(alerts.len(), 2);
    let payload: Value = serde_json::from_str(alerts[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(payload["type"], "budget");
    // The chat topic gets the same two alerts, in Chatbot's format, valid against the schema.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("chatbot/custom-notification.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let chats = drain(&stack, &chat_queue).await;
    assert_eq!(chats.len(), 2, "{chats:?}");
    let mut titles = Vec::new();
    for envelope in &chats {
        let n: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&n).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}: {n:#}");
        assert_eq!(n["source"], "custom");
        assert_eq!(envelope["MessageAttributes"]["kind"]["Value"], "budget");
        titles.push(n["content"]["title"].as_str().unwrap().to_string());
    }
    titles.sort();
    assert_eq!(
        titles,
        [
            ":warning: team-dev: actual spend passed 50% of 150.00 USD - Nov 2026",
            ":warning: team-dev: actual spend passed 75% of 150.00 USD - Nov 2026",
        ]
    );
    // The same delivery again: nothing new, on either topic.
    let again = stack
        .deliver(
            key,
            &fixture("synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv"),
        )
        .await;
    ingest.handle(&again).await.unwrap();
    assert!(drain(&stack, &chat_queue).await.is_empty());
}
