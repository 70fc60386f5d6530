//! The month page in a real browser (issue 22): `billwatch page` writes the page of a CUR
//! manifest with an anomaly on day 16 and a monthly budget; Debian's headless Chromium opens it
//! at a desktop and a phone width (tests/page/check.mjs, Playwright driving it) as a reader
//! would: no console error, no request but the file itself, nothing wider than the phone, and
//! the figures on the page equal what the report says, summed apart from the page's code (the
//! month to date from `billwatch summarize`, each day's spend from the report's rows in Python,
//! the anomaly day from `billwatch anomalies`). The screenshots are kept under
//! target/page-screens/. ./scripts/test installs Chromium and the page checker.

mod common;

use common::TempDir;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn billwatch(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Spend per day of the month, from the manifest's gzip parts' rows.
fn days_in_python(bucket: &Path) -> BTreeMap<u32, String> {
    let script = r#"
import csv, gzip, glob, json, sys
from decimal import Decimal
days = {}
for part in glob.glob(sys.argv[1] + "/**/*.csv.gz", recursive=True):
    with gzip.open(part, "rt", newline="") as f:
        for row in csv.DictReader(f):
            day = int(row["lineItem/UsageStartDate"][8:10])
            days[day] = days.get(day, Decimal(0)) + Decimal(row["lineItem/UnblendedCost"])
print(json.dumps({str(d): str(v) for d, v in days.items()}))
"#;
    let out = Command::new(common::python_with_duckdb())
        .args(["-c", script])
        .arg(bucket)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    v.into_iter()
        .map(|(d, s)| (d.parse().unwrap(), s))
        .collect()
}

fn dec(s: &str) -> rust_decimal::Decimal {
    s.parse().unwrap()
}

#[test]
fn the_month_page_reads_in_chromium_at_desktop_and_phone_widths_with_the_reports_figures() {
    let checker = root().join("tests/page");
    assert!(
        checker.join("node_modules/playwright-core").is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "the page checker is not installed: run the tests through ./scripts/test, which installs \
         Debian's chromium and `npm ci` in tests/page"
    );
    let bucket = root().join("tests/fixtures/anomaly/d16");
    let manifest = bucket.join("cur/daily/20261101-20261201/daily-Manifest.json");
    let tmp = TempDir::new("page");
    let budgets = tmp.path().join("budgets.toml");
    std::fs::write(
        &budgets,
        "[[budget]]\nname = \"all-in\"\namount = \"3000\"\ncurrency = \"USD\"\nthresholds = [\"80%\"]\n",
    )
    .unwrap();
    let page = tmp.path().join("month.html");
    let (m, b, bd, p) = (
        manifest.to_str().unwrap(),
        bucket.to_str().unwrap(),
        budgets.to_str().unwrap(),
        page.to_str().unwrap(),
    );
    billwatch(&[
        "page",
        "--report",
        m,
        "--bucket-dir",
        b,
        "--budgets",
        bd,
        "-o",
        p,
    ]);
    let shots = root().join("target/page-screens");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(checker.join("check.mjs"))
        .arg(&page)
        .arg(shots.join("month"))
        .current_dir(&checker)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();

    let summary: Value =
        serde_json::from_str(&billwatch(&["summarize", "--json", m, "--bucket-dir", b])).unwrap();
    let total = dec(summary["grand_totals"][0]["cost"].as_str().unwrap());
    let anomalies: Value = serde_json::from_str(&billwatch(&[
        "anomalies",
        "--report",
        m,
        "--bucket-dir",
        b,
        "--json",
    ]))
    .unwrap();
    let anomaly_days: Vec<u64> = anomalies["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["day"].as_str().unwrap()[8..10].parse().unwrap())
        .collect();
    let per_day = days_in_python(&bucket);
    let file_url = format!("file://{}", page.canonicalize().unwrap().display());
    for width in ["desktop", "phone"] {
        let w = &seen[width];
        assert_eq!(w["console_errors"], serde_json::json!([]), "{width}: {w}");
        assert_eq!(
            w["requests"],
            serde_json::json!([file_url]),
            "{width}: only its own file"
        );
        assert!(
            w["scroll_width"].as_u64().unwrap() <= w["viewport_width"].as_u64().unwrap(),
            "{width}: wider than the screen: {w}"
        );
        let s = &w["sections"][0];
        assert_eq!(s["title"], "all-in");
        assert_eq!(dec(s["actual"].as_str().unwrap()), total);
        assert_eq!(dec(s["amount"].as_str().unwrap()), dec("3000"));
        assert!(
            s["forecast"].is_string(),
            "an estimated month has a forecast"
        );
        for (day, spend) in s["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d[0].as_u64().unwrap() as u32, dec(d[1].as_str().unwrap())))
        {
            let want = per_day
                .get(&day)
                .map_or(rust_decimal::Decimal::ZERO, |v| dec(v));
            assert_eq!(spend, want, "{width}: day {day}");
        }
        let marked: Vec<u64> = s["anomaly_days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .collect();
        assert_eq!(marked, anomaly_days, "{width}");
        assert!(!marked.is_empty());
        let text = s["text"].as_str().unwrap();
        assert!(text.contains("2,425.95 USD"), "{width}: {text}");
        assert!(
            text.contains("AmazonEC2"),
            "{width}: the anomaly's service is named"
        );
    }
    for shot in ["month-desktop.png", "month-phone.png"] {
        assert!(
            std::fs::metadata(shots.join(shot)).unwrap().len() > 1000,
            "{shot}"
        );
    }
}
