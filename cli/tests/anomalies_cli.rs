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
    let findings = anomaly::find(&summary, period, &[], &Default::default());
    assert_eq!(findings.len(), 1);
    let alerts = AlertsStore::new(dynamo, env("BILLWATCH_ALERTS_TABLE"));
    let now = chrono::Utc::now();
    for a in anomaly::explained(period, &findings, &Default::default(), key) {
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
