//! `billwatch summarize s3://…` against the local S3 emulator (started by ./scripts/test,
//! which sets AWS_ENDPOINT_URL): objects are read through the real S3 API, manifests pull their
//! parts from the buckets they name, and a missing object is a clean exit 2.

use aws_sdk_s3::primitives::ByteStream;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: run the tests through ./scripts/test, which starts the local AWS emulator")
    })
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// A name no other test (in this process or another) uses: the process id,
/// the clock and a counter, since two tests can read the same clock tick.
fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

async fn client() -> aws_sdk_s3::Client {
    endpoint();
    billwatch_aws::clients::s3(&billwatch_aws::clients::sdk_config().await)
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, file: &Path) {
    let _ = s3.create_bucket().bucket(bucket).send().await;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_path(file).await.unwrap())
        .send()
        .await
        .unwrap_or_else(|e| panic!("upload {key}: {e:?}"));
}

fn summarize(uri: &str) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(["summarize", "--json", uri])
        .envs(billwatch_tests::Principal::CliReadOnly.env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap()
    };
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn total(summary: &Value, service: &str) -> Decimal {
    let t = summary["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["service"] == service)
        .unwrap_or_else(|| panic!("no total for {service}"));
    Decimal::from_str(t["cost"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_object_is_read_through_the_s3_api() {
    let s3 = client().await;
    let bucket = unique("billwatch-s3-summarize");
    let key = "reports/Nov 2023+cur/sample.csv";
    put(
        &s3,
        &bucket,
        key,
        &fixtures().join(
            "public/cur1-anonymized-2023-11__focus_converters-sample-anonymous-aws-export-dataset.csv",
        ),
    )
    .await;
    let uri = format!("s3://{bucket}/{key}");
    let (code, json, stderr) = tokio::task::spawn_blocking(move || summarize(&uri))
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["format"], "cur1");
    assert_eq!(json["rows_read"], 1281);
    assert_eq!(
        total(&json, "AmazonS3"),
        Decimal::from_str("1.44056535650").unwrap()
    );
    assert_eq!(
        Decimal::from_str(json["grand_totals"][0]["cost"].as_str().unwrap()).unwrap(),
        Decimal::from_str("1.68230869740").unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_exports_manifest_pulls_its_parts_from_s3() {
    let s3 = client().await;
    let root = fixtures().join("bucket/cur2-2026-11");
    let manifest_key =
        "exports/billwatch-cur2/metadata/BILLING_PERIOD=2026-11/billwatch-cur2-Manifest.json";
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join(manifest_key)).unwrap()).unwrap();
    let mut data_bucket = String::new();
    for uri in manifest["dataFiles"].as_array().unwrap() {
        let rest = uri.as_str().unwrap().strip_prefix("s3://").unwrap();
        let (bucket, key) = rest.split_once('/').unwrap();
        data_bucket = bucket.to_string();
        put(&s3, bucket, key, &root.join(key)).await;
    }
    // A manifest whose data files live in another bucket is refused: only IAM would stop
    // the function from reading them in AWS, and the role grants the billing bucket only.
    let other_bucket = unique("billwatch-s3-manifests");
    put(&s3, &other_bucket, manifest_key, &root.join(manifest_key)).await;
    let uri = format!("s3://{other_bucket}/{manifest_key}");
    let (code, _, stderr) = tokio::task::spawn_blocking(move || summarize(&uri))
        .await
        .unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bucket"), "{stderr}");

    put(&s3, &data_bucket, manifest_key, &root.join(manifest_key)).await;
    let uri = format!("s3://{data_bucket}/{manifest_key}");
    let (code, from_s3, stderr) = tokio::task::spawn_blocking(move || summarize(&uri))
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_s3["format"], "cur2");
    assert_eq!(from_s3["billing_period"], "2026-11");

    // The same delivery read from the local tree gives the same totals, cent for cent.
    let local = root.join(manifest_key).display().to_string();
    let (code, from_disk, stderr) = summarize(&local);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_s3["totals"], from_disk["totals"]);
    assert_eq!(from_s3["grand_totals"], from_disk["grand_totals"]);
    assert!(!data_bucket.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_object_is_exit_2_with_its_name() {
    let s3 = client().await;
    let bucket = unique("billwatch-s3-missing");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let uri = format!("s3://{bucket}/nope/123456789012-aws-billing-csv-2026-11.csv");
    let shown = uri.clone();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || summarize(&uri))
        .await
        .unwrap();
    assert_eq!(code, 2);
    assert!(json.is_null());
    assert!(
        stderr.contains(&shown) && stderr.contains("cannot open"),
        "{stderr}"
    );
}
