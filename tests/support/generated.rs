//! CUR 1.0 deliveries generated with every RI and Savings Plans line type
//! (tests/differential/budgets_sql.py), as AWS writes them: a gzip part and its manifest.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that runs the generator (with DuckDB where a test computes in SQL).
pub fn python() -> String {
    std::env::var("BILLWATCH_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A CUR 1.0 delivery of `month` (`2026-10`) under `dir`: its gzip part and its manifest, at
/// the keys AWS writes them (`cur/team/<range>/<assembly>/team-1.csv.gz`, the manifest in the
/// date-range folder). Returns (manifest key, manifest file, part key, part file, CSV file).
pub fn cur_delivery(
    dir: &Path,
    month: &str,
    seed: u32,
) -> (String, PathBuf, String, PathBuf, PathBuf) {
    let out = dir.join(month);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("differential/budgets_sql.py");
    let ok = Command::new(python())
        .arg(&script)
        .arg("generate")
        .arg(&out)
        .args([
            "--month",
            month,
            "--seed",
            &seed.to_string(),
            "--lines",
            "800",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "the generator runs");
    let csv = out.join("cur1.csv");
    let part = out.join("team-1.csv.gz");
    let ok = Command::new(python())
        .args([
            "-c",
            "import gzip, shutil, sys; shutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[2], 'wb'))",
        ])
        .arg(&csv)
        .arg(&part)
        .status()
        .unwrap()
        .success();
    assert!(ok, "gzip");
    let (y, m): (i32, u32) = (month[..4].parse().unwrap(), month[5..].parse().unwrap());
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let range = format!("{y}{m:02}01-{ny}{nm:02}01");
    let assembly = format!("asm-{month}-{seed}");
    let part_key = format!("cur/team/{range}/{assembly}/team-1.csv.gz");
    let header = std::fs::read_to_string(&csv).unwrap();
    let columns: Vec<Value> = header
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(|c| {
            let (category, name) = c.split_once('/').unwrap();
            json!({"category": category, "name": name, "type": "String"})
        })
        .collect();
    let manifest = json!({
        "assemblyId": assembly,
        "account": "111111111111",
        "columns": columns,
        "billingPeriod": {"start": format!("{y}{m:02}01T000000.000Z"), "end": format!("{ny}{nm:02}01T000000.000Z")},
        "reportKeys": [part_key],
    });
    let manifest_file = out.join("team-Manifest.json");
    std::fs::write(&manifest_file, manifest.to_string()).unwrap();
    (
        format!("cur/team/{range}/team-Manifest.json"),
        manifest_file,
        part_key,
        part,
        csv,
    )
}

/// A fresh directory under the system's temporary one, named for `tag`.
pub fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "billwatch-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A received alert's JSON payload (the SNS message's machine part).
pub fn payload(m: &Value) -> Value {
    serde_json::from_str(m["Message"].as_str().unwrap()).unwrap()
}

/// A received alert's message attribute `name` ("" when absent).
pub fn attr<'a>(m: &'a Value, name: &str) -> &'a str {
    m["MessageAttributes"][name]["Value"]
        .as_str()
        .unwrap_or_default()
}

/// Uploads a generated delivery's part and delivers its manifest: the S3 event of it.
pub async fn deliver(
    stack: &crate::Stack,
    d: &(String, PathBuf, String, PathBuf, PathBuf),
) -> Value {
    stack.upload(&d.2, &d.3).await;
    stack.deliver(&d.0, &d.1).await
}
