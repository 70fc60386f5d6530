//! `billwatch alerts` and `billwatch alerts test` against the local stack started by
//! ./scripts/test (its alert topic is subscribed by the queue in BILLWATCH_ALERTS_QUEUE_URL).

mod common;

use billwatch_aws::store::{AlertsStore, Claim, Owed};
use billwatch_core::alert::{Alert, AlertKind, Message, Severity};
use billwatch_core::budget::Basis;
use common::{billwatch_on_stack as billwatch, stack_var as env};
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_publishes_a_marked_message_that_subscribers_receive() {
    let queue = env("BILLWATCH_ALERTS_QUEUE_URL");
    env("BILLWATCH_ALERT_TOPIC_ARN");
    let (code, stdout, stderr) = tokio::task::spawn_blocking(|| billwatch(&["alerts", "test"]))
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("test message published"), "{stdout}");
    let sqs = aws_sdk_sqs::Client::new(&billwatch_aws::clients::sdk_config().await);
    let mut found = None;
    for _ in 0..5 {
        let page = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in page.messages() {
            let envelope: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            if envelope["MessageAttributes"]["kind"]["Value"] == "test" {
                found = Some(envelope);
            }
        }
        if found.is_some() {
            break;
        }
    }
    let envelope = found.expect("the test message reached the subscribed queue");
    assert_eq!(
        envelope["Subject"],
        "billwatch: TEST message - please ignore"
    );
    let payload: serde_json::Value =
        serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(payload["type"], "test");
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_lists_what_was_sent_when_and_why() {
    let table = env("BILLWATCH_ALERTS_TABLE");
    let alerts = AlertsStore::new(
        billwatch_aws::clients::dynamodb(&billwatch_aws::clients::sdk_config().await),
        table,
    );
    let period = "2031-07";
    for (budget, key, published) in [
        ("team", "team#actual#80", true),
        ("ops", "ops#forecast#100", false),
    ] {
        let subject =
            format!("billwatch: {budget}: actual spend passed 80% of 100.00 USD - Jul 2031");
        let record = Alert {
            period: period.parse().unwrap(),
            key: key.into(),
            alert_id: format!("{budget}:{period}:x"),
            kind: AlertKind::Budget,
            budget: Some(budget.into()),
            basis: Some(Basis::Actual),
            severity: Severity::Warning,
            reason: "actual spend 85.00 USD reached 80% of 100 USD".into(),
            report_key: None,
            topic: None,
            message: Message {
                subject,
                text: String::new(),
                payload: serde_json::Value::Null,
                attributes: vec![],
            },
        };
        assert_eq!(
            alerts
                .claim(&Owed::from(&record), chrono::Utc::now())
                .await
                .unwrap(),
            Claim::Claimed
        );
        if published {
            alerts
                .mark_published(period.parse().unwrap(), key, "msg-1", chrono::Utc::now())
                .await
                .unwrap();
        }
    }
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || billwatch(&["alerts", "--period", period]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("billwatch: team: actual spend passed 80% of 100.00 USD - Jul 2031"),
        "{stdout}"
    );
    assert!(
        stdout.contains("why: actual spend 85.00 USD reached 80% of 100 USD"),
        "{stdout}"
    );
    assert!(stdout.contains("NOT published"), "{stdout}");
    let (code, stdout, _) = tokio::task::spawn_blocking(move || {
        billwatch(&["alerts", "--period", period, "--budget", "ops", "--json"])
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(json["alerts"][0]["budget"], "ops");
    assert!(json["alerts"][0]["published_at"].is_null());
}

// One delivery's 100, 50 and 80 % alerts (claimed in the same instant) list as 50, 80, 100,
// each with a millisecond timestamp like every other command prints.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_list_in_time_then_threshold_order_with_one_timestamp_format() {
    let table = env("BILLWATCH_ALERTS_TABLE");
    let alerts = AlertsStore::new(
        billwatch_aws::clients::dynamodb(&billwatch_aws::clients::sdk_config().await),
        table,
    );
    let period = "2031-08";
    let now = chrono::Utc::now();
    for level in ["100", "50", "80"] {
        let record = Alert {
            period: period.parse().unwrap(),
            key: format!("order#actual#{level}"),
            alert_id: format!("order:{period}:actual:{level}"),
            kind: AlertKind::Budget,
            budget: Some("order".into()),
            basis: Some(Basis::Actual),
            severity: Severity::Warning,
            reason: format!("actual spend passed {level}%"),
            report_key: None,
            topic: None,
            message: Message {
                subject: format!(
                    "billwatch: order: actual spend passed {level}% of 10.00 USD - Aug 2031"
                ),
                text: String::new(),
                payload: serde_json::Value::Null,
                attributes: vec![],
            },
        };
        alerts.claim(&Owed::from(&record), now).await.unwrap();
    }
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || billwatch(&["alerts", "--period", period]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let at = |needle: &str| {
        stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {stdout}"))
    };
    assert!(
        at("passed 50%") < at("passed 80%") && at("passed 80%") < at("passed 100%"),
        "{stdout}"
    );
    let stamp = billwatch_aws::timestamp(now);
    assert_eq!(stdout.matches(&stamp).count(), 3, "{stamp} in {stdout}");
}

/// With a chat topic, `alerts test` also sends the test message there, in AWS Chatbot's
/// custom-notification format.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_sends_a_chatbot_copy_to_the_chat_topic() {
    env("BILLWATCH_ALERT_TOPIC_ARN");
    let sdk = billwatch_aws::clients::sdk_config().await;
    let (sns, sqs) = (
        billwatch_aws::clients::sns(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
    );
    let name = format!("chat-cli-{}", std::process::id());
    let topic = sns.create_topic().name(&name).send().await.unwrap();
    let topic = topic.topic_arn().unwrap().to_string();
    let queue = sqs.create_queue().queue_name(&name).send().await.unwrap();
    let queue = queue.queue_url().unwrap().to_string();
    let arn_attribute = aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(arn_attribute.clone())
        .send()
        .await
        .unwrap();
    let queue_arn = attributes.attributes().unwrap()[&arn_attribute].clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    let chat = topic.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        let args = ["alerts", "test"];
        let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
            .args(args)
            .env("BILLWATCH_CHAT_TOPIC_ARN", &chat)
            .envs(billwatch_tests::Principal::for_cli(&args).env())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("test message published"), "{stdout}");
    let mut payload = None;
    for _ in 0..5 {
        let page = sqs
            .receive_message()
            .queue_url(&queue)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(m) = page.messages().first() {
            let envelope: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            payload = Some(
                serde_json::from_str::<serde_json::Value>(envelope["Message"].as_str().unwrap())
                    .unwrap(),
            );
            break;
        }
    }
    let payload = payload.expect("the chat topic got the test message");
    assert_eq!(payload["source"], "custom", "{payload}");
}

/// `alerts test --channel` posts the marked test message to a channel, reading its URL and key
/// where the channel says (as the operator); a channel that refuses it fails the command with
/// the service's answer; `alerts` shows each alert's channel copies with their own status.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_posts_to_a_channel_and_alerts_shows_each_channels_status() {
    use billwatch_core::channel::{sign::verify, Channel, ChannelKind, SecretRef};
    use billwatch_tests::receiver::{Receiver, Reply};
    let sdk = billwatch_aws::clients::sdk_config().await;
    let receiver = Receiver::start().await;
    let id = billwatch_tests::unique("cli");
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let param = |name: String, value: String| {
        let ssm = ssm.clone();
        async move {
            ssm.put_parameter()
                .name(&name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .unwrap();
            SecretRef::Ssm(name)
        }
    };
    let key_name = format!("billwatch/{id}/key");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&key_name)
        .secret_string("cli-signing-key")
        .send()
        .await
        .unwrap();
    let channels = vec![
        Channel {
            name: "cli-hook".into(),
            kind: ChannelKind::Webhook,
            url: param(format!("/billwatch/{id}/hook"), receiver.url("/hook")).await,
            signing_key: Some(SecretRef::Secret(key_name)),
            default: false,
        },
        Channel {
            name: "cli-slack".into(),
            kind: ChannelKind::Slack,
            url: param(format!("/billwatch/{id}/slack"), receiver.url("/gone")).await,
            signing_key: None,
            default: false,
        },
    ];
    let budgets = billwatch_aws::store::BudgetsStore::new(
        billwatch_aws::clients::dynamodb(&sdk),
        env("BILLWATCH_BUDGETS_TABLE"),
    );
    budgets.put_channels(&channels).await.unwrap();

    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(|| billwatch(&["alerts", "test", "--channel", "cli-hook"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("test message posted to channel cli-hook (webhook)"),
        "{stdout}"
    );
    let got = receiver.to("/hook");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "test");
    let ts: i64 = got[0]
        .header("X-Billwatch-Timestamp")
        .unwrap()
        .parse()
        .unwrap();
    let sig = got[0].header("X-Billwatch-Signature").unwrap();
    assert!(verify(b"cli-signing-key", ts, &got[0].body, sig, ts));

    receiver.fail("/gone", Reply::status(404, "no_service"), 5);
    let (code, _, stderr) =
        tokio::task::spawn_blocking(|| billwatch(&["alerts", "test", "--channel", "cli-slack"]))
            .await
            .unwrap();
    assert_ne!(code, 0);
    assert!(stderr.contains("channel cli-slack (slack)"), "{stderr}");
    assert!(stderr.contains("HTTP 404: no_service"), "{stderr}");
    let (code, _, stderr) =
        tokio::task::spawn_blocking(|| billwatch(&["alerts", "test", "--channel", "nope"]))
            .await
            .unwrap();
    assert_ne!(code, 0);
    assert!(stderr.contains("cli-hook, cli-slack"), "{stderr}");

    // An alert and its two channel copies: one sent, one refused.
    let alerts = AlertsStore::new(
        billwatch_aws::clients::dynamodb(&sdk),
        env("BILLWATCH_ALERTS_TABLE"),
    );
    let period = "2031-09";
    let now = chrono::Utc::now();
    let record = Alert {
        period: period.parse().unwrap(),
        key: "chan#actual#80".into(),
        alert_id: "chan:2031-09:actual:80".into(),
        kind: AlertKind::Budget,
        budget: Some("chan".into()),
        basis: Some(Basis::Actual),
        severity: Severity::Warning,
        reason: "actual spend passed 80%".into(),
        report_key: None,
        topic: None,
        message: Message {
            subject: "billwatch: chan: actual spend passed 80% of 10.00 USD - Sep 2031".into(),
            text: String::new(),
            payload: serde_json::Value::Null,
            attributes: vec![],
        },
    };
    let owed = Owed::from(&record);
    let p = period.parse().unwrap();
    alerts.claim(&owed, now).await.unwrap();
    alerts
        .mark_published(p, &owed.key, "m-1", now)
        .await
        .unwrap();
    for (channel, ok) in [("cli-hook", true), ("cli-slack", false)] {
        let copy = Owed {
            key: billwatch_core::channel::claim_key(&owed.key, channel),
            ..owed.clone()
        };
        alerts.claim(&copy, now).await.unwrap();
        if ok {
            alerts
                .mark_published(p, &copy.key, "cli-hook:1", now)
                .await
                .unwrap();
        } else {
            let error = "channel cli-slack (slack): HTTP 404: no_service";
            alerts.mark_failed(p, &copy.key, error, now).await.unwrap();
        }
    }
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || billwatch(&["alerts", "--period", period]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.matches("passed 80%").count(),
        2,
        "one alert: {stdout}"
    );
    assert!(stdout.contains("    channel cli-hook: sent "), "{stdout}");
    assert!(
        stdout.contains(
            "    channel cli-slack: failed channel cli-slack (slack): HTTP 404: no_service"
        ),
        "{stdout}"
    );
    let (_, stdout, _) =
        tokio::task::spawn_blocking(move || billwatch(&["alerts", "--period", period, "--json"]))
            .await
            .unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["alerts"].as_array().unwrap().len(), 1);
    let copies = json["alerts"][0]["channels"].as_array().unwrap();
    assert_eq!(copies.len(), 2);
    assert_eq!(copies[0]["channel"], "cli-hook");
    assert_eq!(copies[0]["status"], "sent");
    assert_eq!(copies[1]["status"], "failed");
    budgets.put_channels(&[]).await.unwrap();
}
