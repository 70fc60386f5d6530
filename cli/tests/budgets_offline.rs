//! `billwatch budgets status` and `budgets replay` on local reports, offline: quarterly budgets
//! sum their months, a later report of a month replaces an earlier one, replay sends each
//! threshold once per budget and span, and what a report cannot answer is said on the budget.
//! The reports are written by tests/differential/budgets_sql.py (its generator needs only
//! Python's standard library).

use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

fn generate(dir: &Path, month: &str, seed: u32) -> PathBuf {
    let out = dir.join(month);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/budgets_sql.py");
    let status = Command::new(std::env::var("BILLWATCH_PYTHON").unwrap_or("python3".into()))
        .arg(script)
        .arg("generate")
        .arg(&out)
        .args([
            "--month",
            month,
            "--seed",
            &seed.to_string(),
            "--lines",
            "600",
        ])
        .status()
        .expect("python3 runs");
    assert!(status.success());
    out
}

fn billwatch(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> Vec<Value> {
    let (ok, out, err) = billwatch(args);
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn d(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("{v}"))).unwrap()
}

const BUDGETS: &str = r#"
[[budget]]
name = "team-quarter"
amount = "4000"
currency = "USD"
cost = "amortized"
exclude = ["credits", "refunds", "tax"]
period = "quarterly"
thresholds = ["25%", "50%", "80%", "100% forecast"]
[budget.filter]
tags = { team = ["data"] }

[[budget]]
name = "team-month"
amount = "2000"
currency = "USD"
cost = "amortized"
exclude = ["credits", "refunds", "tax"]
thresholds = ["50%"]
[budget.filter]
tags = { team = ["data"] }

[[budget]]
name = "plain"
amount = "1000"
currency = "USD"
thresholds = ["80%"]
"#;

#[test]
fn status_sums_a_quarter_and_replay_alerts_each_threshold_once() {
    let dir = tempfile::tempdir().unwrap();
    let (oct, nov) = (
        generate(dir.path(), "2026-10", 1),
        generate(dir.path(), "2026-11", 2),
    );
    let budgets = dir.path().join("budgets.toml");
    std::fs::write(&budgets, BUDGETS).unwrap();
    let b = budgets.to_str().unwrap();
    let (oct1, nov2, nov_focus) = (
        oct.join("cur1.csv"),
        nov.join("cur2.csv"),
        nov.join("focus.csv"),
    );
    let (oct1, nov2, nov_focus) = (
        oct1.to_str().unwrap(),
        nov2.to_str().unwrap(),
        nov_focus.to_str().unwrap(),
    );
    let status = |reports: &[&str]| -> Vec<Value> {
        let mut args = vec!["budgets", "status", "--json", "--budgets", b];
        for r in reports {
            args.extend(["--report", r]);
        }
        json(&args)
    };
    let by_name = |list: &[Value], name: &str| -> Value {
        list.iter().find(|v| v["name"] == name).unwrap().clone()
    };
    let october = status(&[oct1]);
    let november = status(&[nov2]);
    let both = status(&[oct1, nov2]);
    // The quarter is October's month plus November's; the monthly budget is November's alone.
    let quarter = by_name(&both, "team-quarter");
    assert_eq!(quarter["period"], "2026-Q4");
    assert_eq!(
        d(&quarter["spend"]),
        d(&by_name(&october, "team-month")["spend"])
            + d(&by_name(&november, "team-month")["spend"])
    );
    assert_eq!(by_name(&both, "team-month")["period"], "2026-11");
    assert_eq!(
        by_name(&both, "team-month")["spend"],
        by_name(&november, "team-month")["spend"]
    );
    // The forecast runs to the quarter's end: more than what is spent, the month to come added.
    assert!(d(&quarter["forecast"]) > d(&quarter["spend"]), "{quarter}");
    for field in [
        "name", "period", "cost", "currency", "amount", "spend", "forecast", "crossed",
    ] {
        assert!(quarter.get(field).is_some(), "{field}: {quarter}");
    }
    assert_eq!(quarter["cost"], "amortized");
    // A later report of November (FOCUS this time) replaces the earlier one.
    let replaced = status(&[oct1, nov2, nov_focus]);
    assert_eq!(
        by_name(&replaced, "team-month")["spend"],
        by_name(&status(&[nov_focus]), "team-month")["spend"]
    );
    // Only November: the quarter names the month it lacks.
    let alone = by_name(&november, "team-quarter");
    assert!(
        alone["notes"].to_string().contains("no report for 2026-10"),
        "{alone}"
    );

    // Replay: each threshold of each budget once per span, whatever is delivered again.
    let alerts = json(&[
        "budgets",
        "replay",
        "--json",
        "--budgets",
        b,
        oct1,
        nov2,
        nov2,
        oct1,
        nov_focus,
    ]);
    let mut seen = std::collections::HashSet::new();
    for a in &alerts {
        let key = format!("{}#{}#{}", a["budget"], a["period"], a["threshold"]);
        assert!(seen.insert(key.clone()), "{key} sent twice: {alerts:#?}");
        let delivery = a["delivery"].as_u64().unwrap();
        assert!(delivery == 1 || delivery == 2 || delivery == 5, "{a}");
    }
    // The quarter's alerts are under 2026-Q4 whichever month crossed; the monthly budget's
    // under each month.
    assert!(alerts
        .iter()
        .filter(|a| a["budget"] == "team-quarter")
        .all(|a| a["period"] == "2026-Q4"));
    let text = billwatch(&["budgets", "replay", "--budgets", b, oct1, nov2]);
    assert!(text.0, "{}", text.2);
    assert!(text.1.starts_with("delivery 1: "), "{}", text.1);
    assert!(
        text.1.contains("alert team-quarter: actual amortized"),
        "{}",
        text.1
    );
}

#[test]
fn a_budget_a_legacy_report_cannot_answer_says_so_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let budgets = dir.path().join("budgets.toml");
    std::fs::write(&budgets, BUDGETS).unwrap();
    let legacy =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/synthetic/monthly-estimated");
    let report = std::fs::read_dir(&legacy)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .expect("a legacy CSV fixture");
    let list = json(&[
        "budgets",
        "status",
        "--json",
        "--budgets",
        budgets.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let team = list.iter().find(|v| v["name"] == "team-month").unwrap();
    assert!(team["spend"].is_null(), "{team}");
    assert!(
        team["error"]
            .as_str()
            .unwrap()
            .contains("legacy-monthly report cannot answer amortized cost"),
        "{team}"
    );
    let plain = list.iter().find(|v| v["name"] == "plain").unwrap();
    assert!(plain["spend"].is_string(), "{plain}");
}
