//! `billwatch daily` and `billwatch anomalies` (listing) against the local stack started by
//! ./scripts/test: the d16 anomaly fixture's totals are stored as a live delivery and its one
//! anomaly alert as sent, as the ingest function would have left them.

mod common;

use billwatch_aws::store::{AlertsStore, Owed, Pointer, ReportsStore, TotalsStore};
use billwatch_core::anomaly;
use billwatch_core::report::{summarize_path, Limits};
use common::{billwatch_on_stack as billwatch, stack_var as env};
use std::path::Path;

async fn seed() {
    let dynamo = billwatch_aws::clients::dynamodb(&billwatch_aws::clients::sdk_config().await);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/anomaly/d16/cur/daily/20261101-20261201/daily-Manifest.json");
    let summary = summarize_path(&manifest, None, &Limits::default()).unwrap();
    let period = summary.billing_period.unwrap();
    let payer = format!("cli-{}", std::process::id());
    let version = "01JDAILYCLI0000000000000000";
    let key = "cur/daily/20261101-20261201/daily-Manifest.json";
    let stored_at = "2026-11-17T06:00:00.000Z";
    let totals = TotalsStore::new(dynamo.clone(), env("BILLWATCH_TOTALS_TABLE"));
    totals
        .write_version(&summary, &payer, period, version, key, stored_at)
        .await
        .unwrap();
    let pointer = Pointer {
        payer: payer.clone(),
        period,
        version: version.into(),
        report_key: key.into(),
        order_key: "x".into(),
        rank: summary.format.rank(),
        format: summary.format,
        status: summary.status,
        as_of: summary.as_of.clone(),
        delivery_id: None,
        stored_at: stored_at.into(),
        rows_summed: summary.rows_summed,
        sequencer: None,
    };
    ReportsStore::new(dynamo.clone(), env("BILLWATCH_REPORTS_TABLE"))
        .flip(&pointer, None, Vec::new())
        .await
        .unwrap();
    let findings = anomaly::find(&summary, period, &[], &Default::default(), &[]);
    assert_eq!(findings.len(), 1);
    let alerts = AlertsStore::new(dynamo, env("BILLWATCH_ALERTS_TABLE"));
    let now = chrono::Utc::now();
    for a in anomaly::explained(period, &findings, &Default::default(), key, &[]).0 {
        let owed = Owed::from(&a);
        alerts.claim(&owed, now).await.unwrap();
        alerts
            .mark_published(period, &owed.key, "msg-1", now)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_charts_the_series_and_anomalies_lists_what_was_detected() {
    seed().await;
    let run = |args: Vec<&'static str>| tokio::task::spawn_blocking(move || billwatch(&args));
    let (code, out, err) = run(vec![
        "daily",
        "--account",
        "210987654321",
        "--service",
        "AmazonEC2",
        "--period",
        "2026-11",
    ])
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let spike = out
        .lines()
        .find(|l| l.contains("2026-11-16"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        spike.contains("883.55") && spike.ends_with("◀ anomaly"),
        "{spike}"
    );
    assert_eq!(spike.matches('█').count(), 40, "{spike}");
    let steady = out.lines().find(|l| l.contains("2026-11-15")).unwrap();
    assert!(!steady.contains("anomaly"), "{steady}");
    assert!(out.lines().any(|l| l.contains("2026-11-30")), "{out}");

    let (code, out, err) = run(vec![
        "daily",
        "--account",
        "210987654321",
        "--service",
        "AmazonEC2",
        "--period",
        "2026-11",
        "--json",
    ])
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let days = &v["series"][0]["days"];
    assert_eq!(days.as_array().unwrap().len(), 30);
    assert_eq!(days[15]["spend"], "883.55");
    assert_eq!(days[15]["anomaly"], true);
    assert_eq!(days[14]["anomaly"], false);

    let (code, out, err) = run(vec![
        "anomalies",
        "--period",
        "2026-11",
        "--account",
        "210987654321",
    ])
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("spike 883.55 USD on 2026-11-16"), "{out}");
    assert!(
        out.contains("why:  AmazonEC2 spike on 2026-11-16 in 210987654321"),
        "{out}"
    );

    let (code, out, _) = run(vec![
        "anomalies",
        "--period",
        "2026-11",
        "--account",
        "999999999999",
    ])
    .await
    .unwrap();
    assert_eq!(
        (code, out.as_str()),
        (0, "no anomalies detected in 2026-11\n")
    );

    let (code, _, err) = run(vec![
        "daily",
        "--account",
        "210987654321",
        "--service",
        "AmazonRDS",
        "--period",
        "2026-11",
    ])
    .await
    .unwrap();
    assert_eq!(code, 2);
    assert!(
        err.contains("no spend of AmazonRDS in account 210987654321 in 2026-11"),
        "{err}"
    );
}

/// `anomalies feedback ID verdict` stores the answer as the operator (the driver taken from the
/// alert), `anomalies` shows it with who answered, and bad answers are refused by name.
#[tokio::test(flavor = "multi_thread")]
async fn feedback_is_stored_and_shown_with_the_anomaly() {
    use billwatch_core::anomaly::{Finding, Mover};
    use billwatch_core::report::drivers::Dimension;
    use rust_decimal::Decimal;
    let dynamo = billwatch_aws::clients::dynamodb(&billwatch_aws::clients::sdk_config().await);
    let account = "999900001111";
    let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 9).unwrap();
    let finding = Finding {
        account: account.into(),
        service: "AmazonRDS".into(),
        service_name: String::new(),
        currency: "USD".into(),
        day,
        spend: Decimal::from(500),
        baseline: Decimal::from(50),
        spread: Decimal::ONE,
        impact: Decimal::from(450),
        factor: Some(Decimal::from(10)),
        history_days: 14,
    };
    let mover = Mover {
        dimension: Dimension::UsageType,
        value: "RDS:Multi-AZ-db.r6g.4xlarge".into(),
        spend: Decimal::from(450),
        baseline: Decimal::ZERO,
        change: Decimal::from(450),
    };
    let period = "2026-10".parse().unwrap();
    let alert = anomaly::anomaly_alert(period, &finding, &[mover], "r");
    let alerts = AlertsStore::new(dynamo, env("BILLWATCH_ALERTS_TABLE"));
    alerts
        .claim(&Owed::from(&alert), chrono::Utc::now())
        .await
        .unwrap();
    let id = alert.alert_id.clone();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            billwatch(&words)
        })
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let (code, out, err) = run(s(&[
        "anomalies",
        "feedback",
        &id,
        "expected",
        "--note",
        "migration",
        "--days",
        "7",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("answered expected; no anomaly alerts on AmazonRDS in 999900001111 driven by RDS:Multi-AZ-db.r6g.4xlarge until 2026-10-16"),
        "{out}"
    );
    let (code, out, err) = run(s(&[
        "anomalies",
        "--period",
        "2026-10",
        "--account",
        account,
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("answered: expected (quiet until 2026-10-16) by arn:"),
        "{out}"
    );
    assert!(out.contains(": migration"), "{out}");
    let (_, out, _) = run(s(&[
        "anomalies",
        "--period",
        "2026-10",
        "--account",
        account,
        "--json",
    ]))
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["anomalies"][0]["feedback"]["verdict"], "expected");
    assert_eq!(
        v["anomalies"][0]["feedback"]["driver"],
        "RDS:Multi-AZ-db.r6g.4xlarge"
    );

    let (code, _, err) = run(s(&["anomalies", "feedback", &id, "fine"]))
        .await
        .unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected, planned or real"), "{err}");
    let (code, _, err) = run(s(&[
        "anomalies",
        "feedback",
        "2026-10:anomaly#999900001111#AmazonRDS#USD#2026-10-01",
        "real",
    ]))
    .await
    .unwrap();
    assert_ne!(code, 0);
    assert!(err.contains("no anomaly alert"), "{err}");
}
