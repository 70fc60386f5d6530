//! Tables for people: money rounded to the cent (thousands separators) unless `--exact`, and
//! columns that stay aligned whatever the length of a name (FOCUS service names are long).

use std::process::Command;

fn billwatch(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(args)
        .envs(billwatch_tests::Principal::for_cli(args).env())
        .output()
        .expect("the billwatch binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const LONG: &str =
    "Amazon Elastic Container Service for Kubernetes – Extended Support for Legacy Clusters";

/// A FOCUS dataset with one short and two long service names, amounts of many digits.
fn focus_file(dir: &std::path::Path) -> String {
    let mut csv = String::from(
        "BilledCost,BillingAccountId,SubAccountId,ServiceName,BillingCurrency,BillingPeriodStart,ChargeCategory\n",
    );
    for (account, service, cost) in [
        ("111111111111", "S3", "0.0000025"),
        ("111111111111", LONG, "1234.5678901"),
        ("111111111111", LONG, "0.004"),
        (
            "222222222222",
            "Amazon Relational Database Service",
            "98765.4349",
        ),
        ("222222222222", "EC2", "0.005"),
    ] {
        csv +=
            &format!("{cost},111111111111,{account},\"{service}\",USD,2026-11-01 00:00:00,Usage\n");
    }
    let path = dir.join("focus-long-names.csv");
    std::fs::write(&path, csv).unwrap();
    path.to_str().unwrap().to_string()
}

/// The table's lines: from the header (starting with `first`) to the first blank line.
fn table_lines<'a>(out: &'a str, first: &str) -> Vec<&'a str> {
    out.lines()
        .skip_while(|l| !l.starts_with(first))
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn summarize_rounds_to_the_cent_and_keeps_long_names_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let input = focus_file(dir.path());
    let (code, out, err) = billwatch(&["summarize", &input]);
    assert_eq!(code, 0, "{err}");
    let lines = table_lines(&out, "ACCOUNT");
    assert_eq!(lines.len(), 1 + 4 + 2, "{out}");
    // COST is the last column, right-aligned: every line ends in the same column, the long
    // names and the "(account total)" rows included.
    let width = lines[0].chars().count();
    for line in &lines {
        assert_eq!(
            line.chars().count(),
            width,
            "misaligned line {line:?} in\n{out}"
        );
    }
    // The other columns start where their headers do.
    let at = |line: &str, needle: &str| line.find(needle).map(|b| line[..b].chars().count());
    let currency = at(lines[0], "CURRENCY").unwrap();
    for line in &lines[1..] {
        assert_eq!(at(line, "USD"), Some(currency), "{line:?} in\n{out}");
    }
    assert!(out.contains(LONG), "{out}");
    for amount in [
        "1,234.57",
        "98,765.43",
        "0.00",
        "0.01",
        "1,234.57\n",
        "Grand total USD: 100,000.01",
    ] {
        assert!(out.contains(amount), "{amount:?} missing in\n{out}");
    }
    assert!(!out.contains("1234.5678901"), "{out}");

    let (code, exact, err) = billwatch(&["summarize", "--exact", &input]);
    assert_eq!(code, 0, "{err}");
    for amount in [
        "1,234.5718901",
        "98,765.4349",
        "0.0000025",
        "Grand total USD: 100,000.0117926",
    ] {
        assert!(exact.contains(amount), "{amount:?} missing in\n{exact}");
    }
    let lines = table_lines(&exact, "ACCOUNT");
    let width = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() == width), "{exact}");

    // JSON keeps every digit whatever the table shows.
    let (code, json, _) = billwatch(&["summarize", "--output", "json", &input]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["grand_totals"][0]["cost"], "100000.0117926");
}
