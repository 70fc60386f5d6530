//! Cost anomalies end to end on the local stack: two deliveries of a CUR where the second adds a
//! spike day raise exactly one anomaly alert, explained; a third identical delivery raises none.
//! The fixtures (tests/fixtures/anomaly, from its generate.py): EC2 in account 210987654321
//! costs 96.05–98.98 USD a day through Nov 15; on Nov 16 a p4d.24xlarge in us-west-2 adds
//! 786.43 USD, so EC2 costs 883.55 USD that day against a baseline median of 97.595 USD.

use billwatch_aws::store::live_totals;
use billwatch_tests::{fixtures, Stack};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

const MANIFEST: &str = "cur/daily/20261101-20261201/daily-Manifest.json";

/// Uploads every file of a fixture tree (parts first, the manifest last) and returns the
/// manifest's event.
async fn deliver_tree(stack: &Stack, tree: &str) -> Value {
    let root = fixtures().join("anomaly").join(tree);
    let mut dirs = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort_by_key(|p| p.to_string_lossy().ends_with("-Manifest.json"));
    for path in files {
        let key = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        stack.upload(&key, &path).await;
    }
    stack.event_for(MANIFEST, &stack.next_sequencer()).await
}

/// The anomaly alerts received since the last call: (subject, payload).
async fn anomaly_alerts(stack: &Stack) -> Vec<(String, Value)> {
    stack
        .received_alerts_now()
        .await
        .into_iter()
        .filter(|m| m["MessageAttributes"]["kind"]["Value"] == "anomaly")
        .map(|m| {
            let payload = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
            (
                m["Subject"].as_str().unwrap_or_default().to_string(),
                payload,
            )
        })
        .collect()
}

fn outcome(result: &[billwatch_aws::ingest::RecordOutcome]) -> String {
    assert_eq!(result.len(), 1, "{result:?}");
    result[0].outcome.as_str().to_string()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spike_day_alerts_once_with_what_moved_and_a_repeat_delivery_stays_quiet() {
    let stack = Stack::new().await;

    // Through Nov 15: steady, nothing to say.
    let first = deliver_tree(&stack, "d15").await;
    assert_eq!(
        outcome(&stack.ingest.handle(&first).await.unwrap()),
        "stored"
    );
    assert!(anomaly_alerts(&stack).await.is_empty());

    // Nov 16 added, with the spike: exactly one anomaly alert.
    let second = deliver_tree(&stack, "d16").await;
    assert_eq!(
        outcome(&stack.ingest.handle(&second).await.unwrap()),
        "stored"
    );
    let alerts = anomaly_alerts(&stack).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let (subject, p) = &alerts[0];
    assert_eq!(p["account_id"], "210987654321");
    assert_eq!(p["service"], "AmazonEC2");
    assert_eq!(p["day"], "2026-11-16");
    assert_eq!(p["spend"], "883.55");
    assert_eq!(p["baseline"], "97.595");
    assert_eq!(p["impact"], "785.955");
    assert_eq!(p["factor"], "9.05");
    assert_eq!(p["history_days"], 14);
    assert!(
        subject.contains("AmazonEC2") && subject.contains("210987654321"),
        "{subject}"
    );
    assert!(
        subject.contains("883.55 USD") && subject.contains("2026-11-16"),
        "{subject}"
    );
    // What moved: the new instance type, its region, and the operation that carries it.
    let movers = p["movers"].as_array().unwrap();
    let top = |dim: &str| {
        movers.iter().find(|m| m["dimension"] == dim).map(|m| {
            (
                m["value"].as_str().unwrap().to_string(),
                d(m["change"].as_str().unwrap()),
            )
        })
    };
    assert_eq!(
        top("usage_type"),
        Some(("USW2-BoxUsage:p4d.24xlarge".into(), d("786.43")))
    );
    assert_eq!(top("region"), Some(("us-west-2".into(), d("786.43"))));
    assert_eq!(
        top("operation").map(|(v, _)| v),
        Some("RunInstances".into())
    );
    // The steady m5.large did not move up: it is not listed.
    assert!(movers.iter().all(|m| m["value"] != "BoxUsage:m5.large"));

    // The daily series is stored with the totals.
    let live = live_totals(
        &stack.setup.reports,
        &stack.setup.totals,
        "2026-11".parse().unwrap(),
        None,
    )
    .await
    .unwrap();
    let ec2 = live.iter().find(|t| t.service == "AmazonEC2").unwrap();
    let daily = ec2.daily.as_ref().expect("a daily series");
    assert_eq!(
        (daily.len(), daily[15], daily[16]),
        (30, d("883.55"), d("0"))
    );

    // The same report delivered again (a new version): nothing new to say.
    let third = deliver_tree(&stack, "d16").await;
    assert_eq!(
        outcome(&stack.ingest.handle(&third).await.unwrap()),
        "stored"
    );
    assert!(anomaly_alerts(&stack).await.is_empty());
}

/// The second read (what moved) is under the invocation's read-time budget: with less than a
/// second of reading left when the anomaly is found (`read_budget::MIN_SECOND_READ`), the alert
/// goes at once, without the breakdown, and the delivery is stored as usual.
#[tokio::test(flavor = "multi_thread")]
async fn with_no_time_left_to_read_what_moved_the_alert_goes_without_it() {
    let stack = Stack::new().await;
    let event = deliver_tree(&stack, "d16").await;
    // Time to size the manifest (800 bytes) and read it once; by the anomaly pass, less than
    // 1.25 s is left, 80 % of which is under a second.
    let deadline = SystemTime::now() + Duration::from_millis(1_200);
    let result = stack
        .ingest
        .handle_until(&event, Some(deadline))
        .await
        .unwrap();
    assert_eq!(outcome(&result), "stored");
    let alerts = anomaly_alerts(&stack).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let (_, p) = &alerts[0];
    assert_eq!(
        (&p["day"], &p["spend"]),
        (&"2026-11-16".into(), &"883.55".into())
    );
    let movers = p["movers"].as_array().map_or(0, Vec::len);
    assert_eq!(movers, 0, "no time to read what moved: {p:#}");
}

/// The daily digest on the local stack: a budget with `digest = true` gets one message for the
/// day after the d16 delivery (month to date, yesterday, the EC2 mover, the anomaly); a second
/// run on the same day sends nothing; a budget without the flag gets none.
#[tokio::test(flavor = "multi_thread")]
async fn the_daily_digest_goes_once_a_day_to_budgets_that_asked() {
    use billwatch_aws::digest::digest;
    use billwatch_aws::health::HealthConfig;
    use billwatch_core::budget::{Budget, Scope, Threshold};
    let stack = Stack::new().await;
    let event = deliver_tree(&stack, "d16").await;
    assert_eq!(
        outcome(&stack.ingest.handle(&event).await.unwrap()),
        "stored"
    );
    assert_eq!(anomaly_alerts(&stack).await.len(), 1);
    // team-a names a topic of its own: its digest goes there (subscribed to the same inbox).
    let own_topic = stack.extra_topic().await;
    for (name, on) in [("team-a", true), ("quiet", false)] {
        stack
            .setup
            .budgets
            .put(&Budget {
                name: name.into(),
                scope: Scope::Account("210987654321".into()),
                amount: d("3000"),
                currency: "USD".into(),
                thresholds: vec![Threshold::percent(d("90"))],
                escalation_step: None,
                topic_arn: on.then(|| own_topic.clone()),
                digest: on,
                channels: Vec::new(),
                digest_every: Default::default(),
                model: Default::default(),
            })
            .await
            .unwrap();
    }
    let i = &stack.ingest;
    let config = HealthConfig {
        tables: i.config.tables.clone(),
        topic_arn: i.config.topic_arn.clone(),
        chat_topic_arn: None,
        silence_hours: 36,
        pages_bucket: None,
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-17T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let h = stack.health();
    let stores = (&h.budgets, &h.reports, &h.totals, &h.alerts);
    let first = digest(&config, stores, h.senders(), now).await.unwrap();
    assert_eq!((first.budgets, first.sent), (1, 1));
    let got: Vec<Value> = stack
        .received_alerts_now()
        .await
        .into_iter()
        .filter(|m| m["MessageAttributes"]["kind"]["Value"] == "digest")
        .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["TopicArn"].as_str(), Some(own_topic.as_str()));
    let subject = got[0]["Subject"].as_str().unwrap();
    assert_eq!(
        subject,
        "billwatch: team-a daily digest 2026-11-17: 2,425.95 of 3,000.00 USD (80.9 %) month to date"
    );
    let p: Value = serde_json::from_str(got[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        (p["budget"].as_str(), p["yesterday"].as_str()),
        (Some("team-a"), Some("888.55"))
    );
    assert_eq!(p["movers"][0]["service"], "AmazonEC2");
    assert_eq!(p["anomalies"][0]["day"], "2026-11-16");
    // The schedule may fire twice (EventBridge delivers at least once): still one digest.
    let again = digest(&config, stores, h.senders(), now).await.unwrap();
    assert_eq!(again.sent, 0);
    assert!(stack.received_alerts_now().await.is_empty());
}

/// Feedback teaches: the Nov 16 spike answered `planned` with a 1-day window (as `billwatch
/// anomalies feedback ID planned --days 1` stores it: the driver from the alert) leaves Nov 17's
/// spike of the same p4d unalerted, and Nov 18's, past the window, alerts again; the digest shows
/// the answer. An answer of `real` would have changed nothing (the next test).
#[tokio::test(flavor = "multi_thread")]
async fn an_answered_anomaly_stays_quiet_for_its_window_then_alerts_again() {
    use billwatch_core::anomaly::{driver_of_reason, Feedback, Verdict};
    let stack = Stack::new().await;
    stack
        .setup
        .budgets
        .put(&billwatch_core::budget::Budget {
            name: "all".into(),
            scope: billwatch_core::budget::Scope::All,
            amount: d("100000"),
            currency: "USD".into(),
            thresholds: vec![billwatch_core::budget::Threshold::percent(d("90"))],
            escalation_step: None,
            topic_arn: None,
            digest: true,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        })
        .await
        .unwrap();
    for tree in ["d15", "d16"] {
        let e = deliver_tree(&stack, tree).await;
        stack.ingest.handle(&e).await.unwrap();
    }
    let first = anomaly_alerts(&stack).await;
    assert_eq!(first.len(), 1);
    let alert_id = first[0].1["alert_id"].as_str().unwrap().to_string();
    let period = "2026-11".parse().unwrap();
    let record = stack
        .setup
        .alerts
        .list(period)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.alert_id == alert_id)
        .unwrap();
    let driver = driver_of_reason(&record.reason).map(str::to_string);
    assert_eq!(driver.as_deref(), Some("USW2-BoxUsage:p4d.24xlarge"));
    let answer = Feedback {
        account: "210987654321".into(),
        service: "AmazonEC2".into(),
        currency: "USD".into(),
        day: chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
        driver,
        verdict: Verdict::Planned,
        days: 1,
        note: Some("load test".into()),
        alert_id: Some(alert_id),
        by: Some("tester".into()),
        at: None,
    };
    stack
        .setup
        .budgets
        .put_feedback(&record.key, &answer)
        .await
        .unwrap();

    // Nov 17: the p4d still runs, a spike against its 14 days before; answered: quiet.
    let e17 = deliver_tree(&stack, "d17").await;
    stack.ingest.handle(&e17).await.unwrap();
    assert!(
        anomaly_alerts(&stack).await.is_empty(),
        "Nov 17 is in the window"
    );

    // Nov 18: past the 1-day window (widened tolerance or not, a 9x day clears it): alerts.
    let e18 = deliver_tree(&stack, "d18").await;
    stack.ingest.handle(&e18).await.unwrap();
    let again = anomaly_alerts(&stack).await;
    assert_eq!(again.len(), 1, "{again:#?}");
    assert_eq!(again[0].1["day"], "2026-11-18");

    // The digest lists the Nov 16 anomaly with its answer.
    stack.run_digest("2026-11-19T08:00:00Z").await;
    let digest = stack
        .received_alerts_now()
        .await
        .into_iter()
        .find(|m| m["MessageAttributes"]["kind"]["Value"] == "digest")
        .expect("a digest");
    let payload: Value = serde_json::from_str(digest["Message"].as_str().unwrap()).unwrap();
    let listed = payload["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["day"] == "2026-11-16")
        .expect("the answered anomaly in the digest");
    assert!(
        listed["reason"]
            .as_str()
            .unwrap()
            .ends_with("[answered planned, quiet until 2026-11-17: load test]"),
        "{listed}"
    );
}

/// `real` confirms an anomaly and silences nothing: Nov 17 alerts.
#[tokio::test(flavor = "multi_thread")]
async fn an_anomaly_answered_real_keeps_alerting() {
    use billwatch_core::anomaly::{Feedback, Verdict};
    let stack = Stack::new().await;
    for tree in ["d15", "d16"] {
        let e = deliver_tree(&stack, tree).await;
        stack.ingest.handle(&e).await.unwrap();
    }
    assert_eq!(anomaly_alerts(&stack).await.len(), 1);
    let answer = Feedback {
        account: "210987654321".into(),
        service: "AmazonEC2".into(),
        currency: "USD".into(),
        day: chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
        driver: None,
        verdict: Verdict::Real,
        days: 14,
        note: None,
        alert_id: None,
        by: None,
        at: None,
    };
    stack
        .setup
        .budgets
        .put_feedback("anomaly#210987654321#AmazonEC2#USD#2026-11-16", &answer)
        .await
        .unwrap();
    let e17 = deliver_tree(&stack, "d17").await;
    stack.ingest.handle(&e17).await.unwrap();
    let alerts = anomaly_alerts(&stack).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].1["day"], "2026-11-17");
}
