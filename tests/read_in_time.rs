//! A report larger than the function can read in the time its invocation has left fails at
//! once, before any part is read, with an alert that names its size, the time and the memory
//! setting that would fit; nothing stored changes. The deadline is generous and the rate tiny
//! (injected), so nothing here depends on timing.

use billwatch_aws::ingest::Ingest;
use billwatch_aws::read_budget::ReadRate;
use billwatch_tests::faults::FaultPlan;
use billwatch_tests::{fixtures, Stack};
use serde_json::Value;
use std::time::{Duration, SystemTime};

const MANIFEST: &str = "cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json";

/// Uploads the CUR 1.0 delivery of November 2026 (a manifest and two gzip parts); returns the
/// parts' total size.
async fn upload_delivery(stack: &Stack) -> u64 {
    let root = fixtures().join("bucket/cur1-2026-11");
    let mut dirs = vec![root.clone()];
    let mut parts = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let key = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            stack.upload(&key, &path).await;
            if key.ends_with(".csv.gz") {
                parts += std::fs::metadata(&path).unwrap().len();
            }
        }
    }
    parts
}

fn with_budget(mut ingest: Ingest, memory_mb: u32, rate: u64) -> Ingest {
    ingest.config.memory_mb = Some(memory_mb);
    ingest.config.read_rate = ReadRate {
        gzip_bytes_per_vcpu_second: rate,
        parallel_parts: 6,
    };
    ingest
}

/// A report-failed alert for the manifest was published (its e-mail text carries the
/// record's reason as its "Error:" line; SQS subscribers get the JSON payload).
fn assert_report_failed(alerts: &[Value]) {
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let attr = |name: &str| alerts[0]["MessageAttributes"][name]["Value"].as_str();
    assert_eq!(attr("check"), Some("report-failed"), "{alerts:?}");
    let subject = alerts[0]["Subject"].as_str().unwrap_or_default();
    assert!(
        subject.contains("could not read report billwatch-hourly-Manifest.json"),
        "{subject}"
    );
}

fn count(plan: &FaultPlan, operation: &str) -> usize {
    plan.calls()
        .iter()
        .filter(|c| c.operation == operation)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_too_large_for_the_time_left_fails_at_once_with_an_alert() {
    let stack = Stack::new().await;
    let bytes = upload_delivery(&stack).await;
    let deadline = || Some(SystemTime::now() + Duration::from_secs(60));

    // 48 s of reading at a rate that needs about a fifth of a vCPU: 128 MB is too little.
    let plan = FaultPlan::new(0);
    let ingest = with_budget(
        stack.ingest_with(plan.clients(&stack.ingest_sdk)),
        128,
        bytes / 10,
    );
    let event = stack.event_for(MANIFEST, &stack.next_sequencer()).await;
    let result = ingest.handle_until(&event, deadline()).await.unwrap();
    assert_eq!(result[0].outcome.as_str(), "failed", "{result:?}");
    let text = result[0].reason.clone().unwrap_or_default();
    // Sized, not read: the manifest and two HEADs, no part fetched.
    assert_eq!(count(&plan, "GetObject"), 1, "{:?}", plan.calls());
    assert_eq!(count(&plan, "HeadObject"), 2, "{:?}", plan.calls());
    assert_report_failed(&stack.received_alerts().await);
    let size = billwatch_aws::read_budget::size(bytes);
    for part in [
        format!("{size} of compressed data in 2 parts"),
        "at 128 MB of memory".into(),
        "s for reading (80% of the".into(),
        "Set the function's memory (MemorySize) to at least".into(),
    ] {
        assert!(text.contains(&part), "{part:?} not in the error: {text}");
    }
    assert!(
        stack
            .scan(&stack.ingest.config.tables.totals)
            .await
            .is_empty(),
        "no totals are written"
    );

    // So slow that even the largest function could not: it says so, and where to go next.
    let ingest = with_budget(stack.fresh_ingest(), 10_240, 1);
    let event = stack.event_for(MANIFEST, &stack.next_sequencer()).await;
    let result = ingest.handle_until(&event, deadline()).await.unwrap();
    assert_eq!(result[0].outcome.as_str(), "failed", "{result:?}");
    assert_report_failed(&stack.received_alerts().await);
    let text = result[0].reason.clone().unwrap_or_default();
    assert!(text.contains("does not fit in one function"), "{text}");
    assert!(text.contains("docs/scale.md"), "{text}");
    assert!(stack
        .scan(&stack.ingest.config.tables.totals)
        .await
        .is_empty());

    // With time enough, the same delivery is read (each part pinned to the ETag it was sized
    // at) and stored.
    let ingest = with_budget(stack.fresh_ingest(), 128, bytes);
    let event = stack.event_for(MANIFEST, &stack.next_sequencer()).await;
    let result = ingest.handle_until(&event, deadline()).await.unwrap();
    assert_eq!(result[0].outcome.as_str(), "stored", "{result:?}");
    assert!(!stack
        .scan(&stack.ingest.config.tables.totals)
        .await
        .is_empty());
}
