//! Channels against the local stack and a local webhook receiver (tests/support/receiver.rs):
//! URLs and signing keys read from SSM Parameter Store (SecureString) and Secrets Manager as
//! the functions' principals; each alert posted once per channel in each service's format,
//! across repeated deliveries, retries and kills; 429 with Retry-After honoured; 5xx, a slow
//! answer and a reset retried; other 4xx recorded failed and never retried; one failing channel
//! never holding back another or the SNS copy; digests and budget-less alerts on channels.

use billwatch_core::channel::sign::verify;
use billwatch_core::channel::{Channel, ChannelKind, SecretRef};
use billwatch_tests::faults::{FaultPlan, KillAt, KillPoint, OpMatch};
use billwatch_tests::receiver::{Got, Receiver, Reply};
use billwatch_tests::state::count_ids;
use billwatch_tests::{fixtures, team_budget, unique, Stack};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

const KEY: &str = "billing/123456789012-aws-billing-csv-2026-11.csv";
const SIGNING_KEY: &str = "whsec-test-0123456789abcdef";

fn estimated() -> PathBuf {
    fixtures().join("synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv")
}

fn final_bill() -> PathBuf {
    fixtures().join("synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv")
}

fn path_of(kind: ChannelKind) -> String {
    format!("/{}", kind.name())
}

/// One channel of each kind, its URL (and the webhook's key) stored where a deployment keeps
/// them: Slack, Teams and the webhook's URL in Parameter Store, Discord's and Google Chat's in
/// Secrets Manager, the webhook's key in Secrets Manager. Applied as `budgets apply` stores them.
async fn channels(stack: &Stack, receiver: &Receiver) -> Vec<Channel> {
    let id = unique("ch");
    let mut out = Vec::new();
    for kind in ChannelKind::ALL {
        let url = receiver.url(&path_of(kind));
        let place = if matches!(kind, ChannelKind::Discord | ChannelKind::GoogleChat) {
            let name = format!("billwatch/{id}/{}", kind.name());
            stack.put_secret(&name, &url).await;
            SecretRef::Secret(name)
        } else {
            let name = format!("/billwatch/{id}/{}", kind.name());
            stack.put_secure_parameter(&name, &url).await;
            SecretRef::Ssm(name)
        };
        let signing_key = if kind == ChannelKind::Webhook {
            let name = format!("billwatch/{id}/webhook-key");
            stack.put_secret(&name, SIGNING_KEY).await;
            Some(SecretRef::Secret(name))
        } else {
            None
        };
        out.push(Channel {
            name: format!("team-{}", kind.name()),
            kind,
            url: place,
            signing_key,
            default: kind == ChannelKind::Slack,
        });
    }
    stack.setup.budgets.put_channels(&out).await.unwrap();
    out
}

/// The shared test budget (see `team_budget`) naming `channels`.
async fn budget(stack: &Stack, channels: &[&str], digest: bool) {
    stack
        .setup
        .budgets
        .put(&team_budget(channels, digest))
        .await
        .unwrap();
}

/// The alert ids posted to `path`, with how often each was delivered.
fn ids(got: &[Got]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for g in got.iter().filter(|g| (200..300).contains(&g.status)) {
        *out.entry(alert_id_of(g)).or_insert(0) += 1;
    }
    out
}

/// The alert id a request carries: the webhook's header, else the text of the message.
fn alert_id_of(g: &Got) -> String {
    if let Some(id) = g.header("X-Billwatch-Alert-Id") {
        return id.to_string();
    }
    let text = String::from_utf8_lossy(&g.body);
    let at = text
        .find("Alert id: ")
        .expect("the alert id in the message");
    text[at + 10..]
        .split(['\\', '"', '\n', ' ', '`'])
        .next()
        .unwrap()
        .to_string()
}

/// Python's standard library verifies the webhook request's signature.
fn python_verifies(g: &Got, key: &str) -> bool {
    let script = r#"
import hmac, hashlib, sys, time
key, ts, sig, path = sys.argv[1:5]
body = open(path, "rb").read()
want = "v1=" + hmac.new(key.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
print("ok" if abs(time.time() - int(ts)) <= 300 and hmac.compare_digest(want, sig) else "no")
"#;
    let dir = std::env::temp_dir().join(unique("body"));
    std::fs::write(&dir, &g.body).unwrap();
    let out = std::process::Command::new(
        std::env::var("BILLWATCH_PYTHON").unwrap_or_else(|_| "python3".into()),
    )
    .args([
        "-c",
        script,
        key,
        g.header("X-Billwatch-Timestamp").unwrap(),
        g.header("X-Billwatch-Signature").unwrap(),
        dir.to_str().unwrap(),
    ])
    .output()
    .expect("python runs");
    let _ = std::fs::remove_file(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim() == "ok"
}

/// Each kind's structure, as its service documents it.
fn check_format(kind: ChannelKind, g: &Got) {
    let v = g.json();
    assert_eq!(g.header("Content-Type"), Some("application/json"));
    match kind {
        ChannelKind::Slack => {
            let blocks = v["blocks"].as_array().unwrap();
            assert_eq!(blocks[0]["type"], "header");
            assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= 150);
            assert!(blocks.iter().all(|b| b["text"]["text"]
                .as_str()
                .is_none_or(|t| t.chars().count() <= 3000)));
        }
        ChannelKind::Teams => {
            assert_eq!(v["type"], "message");
            let card = &v["attachments"][0];
            assert_eq!(
                card["contentType"],
                "application/vnd.microsoft.card.adaptive"
            );
            assert_eq!(card["content"]["type"], "AdaptiveCard");
            assert!(g.body.len() <= 28 * 1024);
        }
        ChannelKind::Discord => {
            let embeds = v["embeds"].as_array().unwrap();
            assert_eq!(embeds.len(), 1);
            assert_eq!(v["allowed_mentions"]["parse"], serde_json::json!([]));
            assert!(embeds[0]["title"].as_str().unwrap().chars().count() <= 256);
        }
        ChannelKind::GoogleChat => {
            assert!(v["text"].as_str().unwrap().chars().count() <= 4096);
        }
        ChannelKind::Webhook => {
            assert_eq!(v["type"], "budget");
            assert!(python_verifies(g, SIGNING_KEY), "Python's hmac verifies it");
            let mut tampered = g.clone();
            tampered.body.extend_from_slice(b" ");
            assert!(
                !python_verifies(&tampered, SIGNING_KEY),
                "a tampered body fails"
            );
            let ts: i64 = g.header("X-Billwatch-Timestamp").unwrap().parse().unwrap();
            let sig = g.header("X-Billwatch-Signature").unwrap();
            assert!(!verify(SIGNING_KEY.as_bytes(), ts, &g.body, sig, ts + 301));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_channel_gets_each_alert_once_in_its_format_and_sns_its_copy() {
    let stack = Stack::new().await;
    let receiver = Receiver::start().await;
    let declared = channels(&stack, &receiver).await;
    let names: Vec<&str> = declared.iter().map(|c| c.name.as_str()).collect();
    budget(&stack, &names, false).await;

    let event = stack.deliver(KEY, &estimated()).await;
    stack.ingest.handle(&event).await.unwrap();
    let sns = count_ids(&stack.received_alerts().await);
    assert_eq!(sns.len(), 2, "50 % and 75 % on SNS: {sns:?}");
    for kind in ChannelKind::ALL {
        let got = receiver.to(&path_of(kind));
        assert_eq!(
            ids(&got),
            sns,
            "{}: each alert of SNS, once, with its id",
            kind.name()
        );
        for g in &got {
            check_format(kind, g);
        }
    }

    // The same event again, another delivery of the month, and the final bill: nothing new
    // is crossed, nothing is posted again.
    stack.ingest.handle(&event).await.unwrap();
    let again = stack.deliver(KEY, &estimated()).await;
    stack.ingest.handle(&again).await.unwrap();
    let total_before = receiver.got().len();
    let fin = stack.deliver(KEY, &final_bill()).await;
    stack.ingest.handle(&fin).await.unwrap();
    let after_final = receiver.got();
    // The final bill's month-close summary goes to every channel of the budget, once each.
    let closes = after_final.len() - total_before;
    assert!(closes == 0 || closes == ChannelKind::ALL.len(), "{closes}");
    for kind in ChannelKind::ALL {
        let counts = ids(&receiver.to(&path_of(kind)));
        assert!(
            counts.values().all(|n| *n == 1),
            "{}: {counts:?}",
            kind.name()
        );
    }
    stack.ingest.handle(&fin).await.unwrap();
    assert_eq!(receiver.got().len(), after_final.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured_and_the_copy_goes_once() {
    let stack = Stack::new().await;
    let receiver = Receiver::start().await;
    let declared = channels(&stack, &receiver).await;
    let names: Vec<&str> = declared.iter().map(|c| c.name.as_str()).collect();
    budget(&stack, &names, false).await;
    // Every service answers the first request with 429 and Retry-After: 2 (Slack and Discord
    // rate-limit this way), the HTTP date form for the webhook.
    for kind in ChannelKind::ALL {
        let reply = if kind == ChannelKind::Webhook {
            Reply::TooManyUntil(3)
        } else {
            Reply::too_many(2)
        };
        receiver.script(&path_of(kind), vec![reply]);
    }
    let ingest = stack.fresh_ingest();
    let event = stack.deliver(KEY, &estimated()).await;
    ingest.handle(&event).await.unwrap();
    for kind in ChannelKind::ALL {
        let got = receiver.to(&path_of(kind));
        // The first copy: refused with 429, asked again once the service allows (not after
        // the 100 ms the schedule would have waited), delivered; the second copy at once.
        assert_eq!(
            got.len(),
            3,
            "{}: {:?}",
            kind.name(),
            got.iter().map(|g| g.status).collect::<Vec<_>>()
        );
        assert_eq!(got[0].status, 429);
        let gap = got[1].at - got[0].at;
        assert!(
            gap >= Duration::from_millis(1900),
            "{}: waited {gap:?}",
            kind.name()
        );
        assert_eq!(alert_id_of(&got[0]), alert_id_of(&got[1]));
        assert_eq!(ids(&got).len(), 2);
        assert!(ids(&got).values().all(|n| *n == 1), "{}", kind.name());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_channel_holds_back_no_other_and_the_retry_sends_it_once() {
    let stack = Stack::new().await;
    let receiver = Receiver::start().await;
    channels(&stack, &receiver).await;
    budget(&stack, &["team-slack", "team-teams", "team-discord"], false).await;
    // Slack answers 500 to everything for now; Discord resets, then is slow, then answers;
    // Teams is well.
    receiver.fail("/slack", Reply::status(500, "internal"), 100);
    receiver.script(
        "/discord",
        vec![Reply::Reset, Reply::Slow(Duration::from_secs(3))],
    );
    let ingest = stack.fresh_ingest();
    let event = stack.deliver(KEY, &estimated()).await;
    let err = ingest.handle(&event).await.unwrap_err();
    assert!(err.to_string().contains("team-slack"), "{err}");
    let sns = count_ids(&stack.received_alerts().await);
    assert_eq!(sns.len(), 2, "SNS got both alerts despite Slack");
    assert_eq!(ids(&receiver.to("/teams")), sns, "Teams got both");
    assert_eq!(
        ids(&receiver.to("/discord")),
        sns,
        "Discord got both after a reset and a slow answer"
    );
    let slack = receiver.to("/slack");
    assert_eq!(
        slack.len(),
        3,
        "one copy tried three times, the next left at once"
    );
    assert!(ids(&slack).is_empty());

    // Slack recovers; Lambda's retry of the same event sends Slack's copies, once, and
    // nothing else again.
    receiver.script("/slack", vec![]);
    stack.clock.advance(chrono::Duration::minutes(1));
    let retry = stack.fresh_ingest();
    retry.handle(&event).await.unwrap();
    assert_eq!(ids(&receiver.delivered("/slack")), sns);
    assert_eq!(ids(&receiver.to("/teams")), sns);
    assert!(count_ids(&stack.received_alerts_now().await).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_copy_is_recorded_failed_and_never_retried() {
    let stack = Stack::new().await;
    let receiver = Receiver::start().await;
    channels(&stack, &receiver).await;
    budget(&stack, &["team-google_chat", "team-teams"], false).await;
    receiver.fail("/google_chat", Reply::status(404, "webhook deleted"), 100);
    let event = stack.deliver(KEY, &estimated()).await;
    let ingest = stack.fresh_ingest();
    ingest.handle(&event).await.unwrap();
    assert_eq!(receiver.to("/google_chat").len(), 2, "each copy asked once");
    assert_eq!(ids(&receiver.to("/teams")).len(), 2);
    let period = billwatch_core::period::Period::from_str("2026-11").unwrap();
    let records = stack.setup.alerts.list(period).await.unwrap();
    let failed: Vec<_> = records
        .iter()
        .filter(|r| r.key.ends_with("#ch#team-google_chat"))
        .collect();
    assert_eq!(failed.len(), 2);
    for r in failed {
        assert!(r.failed_at.is_some());
        let error = r.error.as_deref().unwrap();
        assert!(error.contains("HTTP 404: webhook deleted"), "{error}");
        assert!(error.contains("team-google_chat (google_chat)"), "{error}");
    }
    stack.clock.advance(chrono::Duration::hours(1));
    ingest.handle(&event).await.unwrap();
    let again = stack.deliver(KEY, &estimated()).await;
    ingest.handle(&again).await.unwrap();
    assert_eq!(receiver.to("/google_chat").len(), 2, "never asked again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_parameter_or_a_plain_http_url_is_refused_with_its_name() {
    let stack = Stack::new().await;
    let receiver = Receiver::start().await;
    let mut declared = channels(&stack, &receiver).await;
    declared[0].url = SecretRef::Ssm("/billwatch/does-not-exist".into());
    let far = format!("/billwatch/{}/far", unique("p"));
    stack
        .put_secure_parameter(&far, "http://example.com/hook")
        .await;
    declared[1].url = SecretRef::Ssm(far.clone());
    stack.setup.budgets.put_channels(&declared).await.unwrap();
    budget(&stack, &["team-slack", "team-teams", "team-webhook"], false).await;
    let event = stack.deliver(KEY, &estimated()).await;
    stack.ingest.handle(&event).await.unwrap();
    let period = billwatch_core::period::Period::from_str("2026-11").unwrap();
    let records = stack.setup.alerts.list(period).await.unwrap();
    let error_of = |channel: &str| {
        records
            .iter()
            .find(|r| r.key.ends_with(&format!("#ch#{channel}")))
            .and_then(|r| r.error.clone())
            .unwrap_or_default()
    };
    assert!(
        error_of("team-slack")
            .contains("SSM parameter /billwatch/does-not-exist: ParameterNotFound"),
        "{}",
        error_of("team-slack")
    );
    assert!(
        error_of("team-teams").contains(&format!("SSM parameter {far}: plain http to example.com")),
        "{}",
        error_of("team-teams")
    );
    assert_eq!(
        ids(&receiver.to("/webhook")).len(),
        2,
        "the others still go"
    );
    assert!(receiver.to("/slack").is_empty() && receiver.to("/teams").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn digests_and_alerts_of_no_budget_reach_channels_as_the_health_function() {
    let stack = Stack::new().await;
    let receiver = Receiver::start().await;
    channels(&stack, &receiver).await;
    budget(&stack, &["team-webhook", "team-discord"], true).await;
    let event = stack.deliver(KEY, &estimated()).await;
    stack.ingest.handle(&event).await.unwrap();
    let before_webhook = receiver.to("/webhook").len();
    let (budgets, sent) = stack.run_digest("2026-11-20T08:00:00Z").await;
    assert_eq!((budgets, sent), (1, 1));
    let hooks = receiver.to("/webhook");
    assert_eq!(hooks.len(), before_webhook + 1);
    let digest = hooks.last().unwrap();
    assert_eq!(digest.json()["type"], "digest");
    assert!(python_verifies(digest, SIGNING_KEY));
    assert_eq!(receiver.to("/discord").len(), before_webhook + 1);
    // The same day again: not again.
    stack.run_digest("2026-11-20T09:00:00Z").await;
    assert_eq!(receiver.to("/webhook").len(), before_webhook + 1);

    // The health check's silence alert belongs to no budget: it goes to the default channel
    // (Slack here) and SNS.
    let config = billwatch_aws::health::HealthConfig {
        tables: stack.ingest.config.tables.clone(),
        topic_arn: stack.ingest.config.topic_arn.clone(),
        chat_topic_arn: None,
        silence_hours: 36,
        pages_bucket: None,
    };
    let h = stack.health();
    let later = chrono::DateTime::parse_from_rfc3339("2030-01-10T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let out = billwatch_aws::health::check(&config, &h.reports, &h.alerts, h.senders(), later)
        .await
        .unwrap();
    assert_eq!(out.alerts_sent, 1);
    let slack = receiver.to("/slack");
    assert_eq!(slack.len(), 1);
    assert!(String::from_utf8_lossy(&slack[0].body).contains("billwatch"));
}

/// The process dies at every AWS call of a delivery posting to a channel of each kind, before or after the
/// call; Lambda's retries (a fresh process, the claim's lease run out) then reach what a clean
/// run reaches: each alert posted to the channel, once — twice only when the process died
/// after the post and before its claim was marked (the same alert id both times, so the
/// receiver can de-duplicate), never lost.
#[tokio::test(flavor = "multi_thread")]
async fn kills_at_every_call_converge_to_each_alert_posted_once() {
    let clean_stack = Stack::new().await;
    let receiver = Receiver::start().await;
    let declared = channels(&clean_stack, &receiver).await;
    let names: Vec<String> = declared.iter().map(|c| c.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    budget(&clean_stack, &names, false).await;
    let plan = FaultPlan::new(0);
    let probe = plan.clone();
    receiver.probe(move || probe.calls().len());
    let ingest = clean_stack.ingest_with(plan.clients(&clean_stack.ingest_sdk));
    let event = clean_stack.deliver(KEY, &estimated()).await;
    ingest.handle(&event).await.unwrap();
    let calls = plan.calls();
    let clean: Vec<BTreeMap<String, usize>> = ChannelKind::ALL
        .iter()
        .map(|k| ids(&receiver.to(&path_of(*k))))
        .collect();
    assert!(clean.iter().all(|c| c.len() == 2), "{clean:?}");
    // A post after `mark` calls had started: dying just before call `mark` leaves it unmarked.
    let windows: Vec<Vec<usize>> = ChannelKind::ALL
        .iter()
        .map(|k| receiver.to(&path_of(*k)).iter().map(|g| g.mark).collect())
        .collect();
    println!(
        "clean run: {} calls, posts after calls {windows:?}",
        calls.len()
    );
    let mut failures = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        for point in [KillPoint::BeforeTransmit, KillPoint::AfterTransmit] {
            let stack = Stack::new().await;
            let receiver = Receiver::start().await;
            channels(&stack, &receiver).await;
            budget(&stack, &names, false).await;
            let event = stack.deliver(KEY, &estimated()).await;
            let plan = FaultPlan::new(0).kill(
                KillAt::Nth(OpMatch::op(&call.service, &call.operation), call.nth),
                point,
            );
            let first = stack
                .ingest_with(plan.clients(&stack.ingest_sdk))
                .handle(&event)
                .await;
            let mut converged = false;
            for minutes in [1, 2, 3] {
                stack.clock.advance(chrono::Duration::minutes(minutes));
                if stack.fresh_ingest().handle(&event).await.is_ok() {
                    converged = true;
                    break;
                }
            }
            for (k, kind) in ChannelKind::ALL.iter().enumerate() {
                let got = ids(&receiver.to(&path_of(*kind)));
                let in_window = point == KillPoint::BeforeTransmit && windows[k].contains(&i);
                let ok = converged
                    && got.keys().eq(clean[k].keys())
                    && got.values().all(|n| *n == 1 || (in_window && *n == 2));
                let twice = got.values().filter(|n| **n == 2).count();
                if !ok || twice > 1 {
                    failures.push(format!(
                        "kill {point:?} {call}: first {:?}, converged {converged}, posted to {} {got:?}",
                        first.as_ref().map(|_| ()),
                        kind.name()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
