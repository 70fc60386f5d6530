//! `billwatch anomalies --report FILE`: the ingest function's detection on a local report, no
//! AWS. Fixtures: tests/fixtures/anomaly (generate.py): EC2 steady at 96–99 USD a day, then on
//! Nov 16 (d16 only) 883.55 USD, of which 786.43 USD from a p4d.24xlarge in us-west-2.

mod common;

use common::*;
use serde_json::Value;

const MANIFEST: &str = "cur/daily/20261101-20261201/daily-Manifest.json";

fn report(tree: &str) -> String {
    fixture(&format!("anomaly/{tree}/{MANIFEST}"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = billwatch(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_spike_day_is_what_would_alert_with_what_moved() {
    let r = report("d16");
    let (code, text, err) = run(&["anomalies", "--report", &r]);
    assert_eq!(code, 0, "{err}");
    assert_contains_all(
        &text,
        &[
            "1 anomaly in 2026-11",
            "billwatch: spike 883.55 USD on 2026-11-16 (9.05x usual): AmazonEC2 in 210987654321",
            "Usual day:     97.60 USD",
            "usage type USW2-BoxUsage:p4d.24xlarge: 786.43 USD (usually 0.00, +786.43)",
            "region     us-west-2",
        ],
    );
    let v = json(&["anomalies", "--report", &r, "--json"]);
    assert_eq!(v["last_complete_day"], "2026-11-16");
    let found = v["anomalies"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0]["day"].as_str(), found[0]["spend"].as_str()),
        (Some("2026-11-16"), Some("883.55"))
    );
}

#[test]
fn steady_days_raise_nothing() {
    let v = json(&["anomalies", "--report", &report("d15"), "--json"]);
    assert_eq!(v["anomalies"], serde_json::json!([]));
    assert_eq!(v["series"], 2);
}

#[test]
fn floors_and_sensitivity_tune_it_from_flags_or_the_budgets_file() {
    let r = report("d16");
    // 785.96 USD extra: a floor of 1,000 silences it.
    let v = json(&[
        "anomalies",
        "--report",
        &r,
        "--json",
        "--min-impact",
        "1000",
    ]);
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 0);
    // The same from the budgets file, for one service; another service's scope changes nothing.
    let dir = TempDir::new("anomalies");
    let file = dir.path().join("budgets.toml");
    std::fs::write(
        &file,
        "[anomalies]\nsensitivity = 4\n\n[[anomalies.scope]]\nservice = \"AmazonEC2\"\nmin_impact = \"1000\"\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let v = json(&["anomalies", "--report", &r, "--json", "--budgets", f]);
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 0);
    std::fs::write(
        &file,
        "[[anomalies.scope]]\nservice = \"AmazonS3\"\nmin_impact = 1000\n",
    )
    .unwrap();
    let v = json(&["anomalies", "--report", &r, "--json", "--budgets", f]);
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_settings_and_reports_without_days_are_refused_with_exit_2() {
    let r = report("d16");
    let dir = TempDir::new("anomalies-bad");
    let file = dir.path().join("budgets.toml");
    std::fs::write(&file, "[anomalies]\nsensitivity = 0\nsensitivty = 3\n").unwrap();
    let (code, _, err) = run(&[
        "anomalies",
        "--report",
        &r,
        "--budgets",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("anomalies") && err.contains("sensitivty"),
        "{err}"
    );
    std::fs::write(&file, "[anomalies]\nsensitivity = 0\n").unwrap();
    let (code, _, err) = run(&[
        "anomalies",
        "--report",
        &r,
        "--budgets",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("anomalies.sensitivity: must be greater than 0"),
        "{err}"
    );
    let legacy = fixture("synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv");
    let (code, _, err) = run(&["anomalies", "--report", &legacy]);
    assert_eq!(code, 2);
    assert!(err.contains("no daily series"), "{err}");
}

/// `--feedback FILE` tries answers offline: Nov 16 answered `expected` (its driver the p4d)
/// silences the p4d's Nov 17 and 18 for 14 days; with a 1-day window only Nov 17; a `real`
/// answer, or another driver, silences nothing.
#[test]
fn a_feedback_file_silences_the_answered_series_for_its_window() {
    let r = report("d18");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feedback.toml");
    let answer = |verdict: &str, days: u32, driver: &str| {
        std::fs::write(
            &file,
            format!(
                "[[feedback]]\naccount = \"210987654321\"\nservice = \"AmazonEC2\"\nday = \"2026-11-16\"\n\
                 verdict = \"{verdict}\"\ndays = {days}\ndriver = \"{driver}\"\n"
            ),
        )
        .unwrap();
        let v = json(&[
            "anomalies",
            "--report",
            &r,
            "--feedback",
            file.to_str().unwrap(),
            "--json",
        ]);
        let days = |key: &str, path: &str| -> Vec<String> {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.pointer(path).unwrap().as_str().unwrap().to_string())
                .collect()
        };
        (days("anomalies", "/day"), days("silenced", "/finding/day"))
    };
    let p4d = "USW2-BoxUsage:p4d.24xlarge";
    let all = json(&["anomalies", "--report", &r, "--json"]);
    let flagged: Vec<&str> = all["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["day"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["2026-11-16", "2026-11-17", "2026-11-18"]);
    assert_eq!(
        answer("expected", 14, p4d),
        (
            vec!["2026-11-16".to_string()],
            vec!["2026-11-17".to_string(), "2026-11-18".to_string()]
        )
    );
    assert_eq!(
        answer("planned", 1, p4d),
        (
            vec!["2026-11-16".to_string(), "2026-11-18".to_string()],
            vec!["2026-11-17".to_string()]
        )
    );
    assert_eq!(answer("real", 14, p4d).1, Vec::<String>::new());
    assert_eq!(
        answer("expected", 14, "BoxUsage:m5.large").1,
        Vec::<String>::new(),
        "another driver"
    );
    let (code, _, err) = run(&[
        "anomalies",
        "--report",
        &r,
        "--feedback",
        "/nonexistent.toml",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent.toml"), "{err}");
}
