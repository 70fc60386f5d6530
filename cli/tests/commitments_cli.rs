//! `billwatch commitments --period` against the local stack started by ./scripts/test: a
//! generated CUR's commitments, read in the totals' pass as the ingest reads them when a
//! commitment budget exists, stored with a live delivery; the stack's listing must equal the
//! offline listing of the same file, and a period whose delivery holds none says how to get them.

mod common;

use billwatch_aws::store::{Pointer, ReportsStore, TotalsStore};
use billwatch_core::period::Period;
use billwatch_core::report::{summarize_path_asking, Limits};
use common::{
    billwatch_on_stack as billwatch, differential_script, python_with_duckdb, stack_var as env,
    TempDir,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Stores `file` as the live delivery of `period` for `payer`, its commitments read or not.
async fn store(file: &Path, payer: &str, period: Period, commitments: bool) {
    let dynamo = billwatch_aws::clients::dynamodb(&billwatch_aws::clients::sdk_config().await);
    let summaries = summarize_path_asking(
        file,
        None,
        &Limits::default(),
        &Default::default(),
        commitments,
    )
    .unwrap();
    let summary = &summaries[0];
    assert_eq!(summary.billing_period, Some(period));
    let version = format!("01JCOMMIT{}", std::process::id());
    let key = "cur/team/part.csv";
    let stored_at = "2019-03-20T06:00:00.000Z";
    TotalsStore::new(dynamo.clone(), env("BILLWATCH_TOTALS_TABLE"))
        .write_version(summary, payer, period, &version, key, stored_at)
        .await
        .unwrap();
    let pointer = Pointer {
        payer: payer.into(),
        period,
        version,
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
    ReportsStore::new(dynamo, env("BILLWATCH_REPORTS_TABLE"))
        .flip(&pointer, None, Vec::new())
        .await
        .unwrap();
}

fn generate(dir: &Path, month: &str) -> std::path::PathBuf {
    let ok = Command::new(python_with_duckdb())
        .arg(differential_script())
        .args([
            "generate",
            dir.to_str().unwrap(),
            "--month",
            month,
            "--seed",
            "11",
            "--lines",
            "600",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "the generator runs");
    dir.join("cur1.csv")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stack_lists_the_commitments_of_the_live_delivery_as_the_offline_listing_does() {
    let tmp = TempDir::new("commitments-cli");
    // Months no other test stores.
    let file = generate(&tmp.path().join("a"), "2019-03");
    let payer = format!("cm-{}", std::process::id());
    store(&file, &payer, "2019-03".parse().unwrap(), true).await;
    let (code, stack, stderr) = billwatch(&[
        "commitments",
        "--period",
        "2019-03",
        "--json",
        "--as-of",
        "2019-03-31",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, offline, stderr) = billwatch(&[
        "commitments",
        "--report",
        file.to_str().unwrap(),
        "--json",
        "--as-of",
        "2019-03-31",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (stack, offline): (Value, Value) = (
        serde_json::from_str(&stack).unwrap(),
        serde_json::from_str(&offline).unwrap(),
    );
    assert!(!offline["commitments"].as_array().unwrap().is_empty());
    assert_eq!(stack, offline);
    let (code, text, _) = billwatch(&["commitments", "--period", "2019-03"]);
    assert_eq!(code, 0);
    assert!(text.contains("utilization"), "{text}");

    // A live delivery stored without commitments (no commitment budget then): said, with how.
    let file = generate(&tmp.path().join("b"), "2019-04");
    store(&file, &payer, "2019-04".parse().unwrap(), false).await;
    let (code, _, stderr) = billwatch(&["commitments", "--period", "2019-04"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("hold no commitments"), "{stderr}");
    let (code, _, stderr) = billwatch(&["commitments", "--period", "2019-05"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no delivery of 2019-05 is live"),
        "{stderr}"
    );
}
