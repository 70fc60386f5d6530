//! The differential test of budgets on cost types, charge kinds and filters (issue 20): on
//! generated CUR 1.0, CUR 2.0 and FOCUS files with every RI and Savings Plans line type,
//! `billwatch budgets status --json` must give each budget's spend equal, to the last digit, to
//! an independent SQL computation of the same definition (DuckDB, in
//! tests/differential/budgets_sql.py, written from the reference's definitions, not from
//! billwatch's code). DuckDB comes from the project's venv (infra/requirements.txt): run
//! through ./scripts/test, which puts it first on PATH.

mod common;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;

/// The budgets compared: every cost type, exclusions, each filter key and its `not_` form,
/// globs, untagged, cost categories, another currency, usage units.
fn budgets() -> Vec<Value> {
    vec![
        json!({"name": "unblended"}),
        json!({"name": "blended", "cost": "blended"}),
        json!({"name": "net-unblended", "cost": "net_unblended"}),
        json!({"name": "amortized", "cost": "amortized"}),
        json!({"name": "net-amortized", "cost": "net_amortized"}),
        json!({"name": "amortized-clean", "cost": "amortized", "exclude": ["credits", "refunds", "tax"]}),
        json!({"name": "no-support-discounts", "exclude": ["support", "discounts"]}),
        json!({"name": "net-no-commitment-fees", "cost": "net_amortized", "exclude": ["upfront", "recurring"]}),
        json!({"name": "usage-only", "cost": "amortized", "exclude": ["credits", "refunds", "tax", "support", "upfront", "recurring", "discounts"]}),
        json!({"name": "two-accounts", "cost": "amortized", "filter": {"accounts": ["111111111111", "222222222222"]}}),
        json!({"name": "ec2-east", "filter": {"services": ["AmazonEC2"], "regions": ["us-east-1"]}}),
        json!({"name": "use1-glob", "cost": "amortized", "filter": {"usage_types": ["USE1-*"]}}),
        json!({"name": "operations", "filter": {"operations": ["RunInstances*", "Invoke"]}}),
        json!({"name": "team-data-ml", "cost": "amortized", "exclude": ["credits"], "filter": {"tags": {"team": ["data", "ml"]}}}),
        json!({"name": "untagged", "filter": {"tags": {"team": [""]}}}),
        json!({"name": "not-data", "cost": "net_amortized", "filter": {"not_tags": {"team": ["data"]}}}),
        json!({"name": "analytics", "cost": "amortized", "filter": {"cost_categories": {"BusinessUnit": ["Analytics"]}}}),
        json!({"name": "no-support-service", "filter": {"not_services": ["AWSSupport*"]}}),
        json!({"name": "team-narrow", "cost": "amortized", "filter": {"accounts": ["111111111111", "333333333333"], "tags": {"team": ["data"]}, "not_regions": ["us-west-2"]}}),
        json!({"name": "euro", "currency": "EUR", "cost": "amortized"}),
        json!({"name": "s3-storage", "unit": "GB-Mo", "filter": {"services": ["AmazonS3"]}}),
        json!({"name": "ec2-hours", "unit": "Hrs", "filter": {"usage_types": ["*BoxUsage*"]}}),
    ]
}

/// The budgets above as a budgets file.
fn budgets_toml(budgets: &[Value]) -> String {
    let mut out = String::new();
    for b in budgets {
        out += "[[budget]]\n";
        out += &format!(
            "name = {}\namount = \"1000\"\nthresholds = [\"100%\"]\n",
            b["name"]
        );
        match b.get("unit") {
            Some(unit) => out += &format!("kind = \"usage\"\nunit = {unit}\n"),
            None => {
                let currency = b.get("currency").cloned().unwrap_or(json!("USD"));
                out += &format!("currency = {currency}\n");
            }
        }
        if let Some(cost) = b.get("cost") {
            out += &format!("cost = {cost}\n");
        }
        if let Some(exclude) = b.get("exclude") {
            out += &format!("exclude = {exclude}\n");
        }
        if let Some(filter) = b.get("filter").and_then(Value::as_object) {
            out += "[budget.filter]\n";
            for (key, values) in filter {
                match values {
                    Value::Array(_) => out += &format!("{key} = {values}\n"),
                    Value::Object(per_name) => {
                        let inner: Vec<String> =
                            per_name.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                        out += &format!("{key} = {{ {} }}\n", inner.join(", "));
                    }
                    _ => panic!("bad filter {values}"),
                }
            }
        }
        out += "\n";
    }
    out
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn each_budget_equals_an_independent_sql_sum_on_cur1_cur2_and_focus() {
    let python = common::python_with_duckdb();
    let script = common::differential_script();
    let list = budgets();
    let mut compared = 0;
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        run(Command::new(&python)
            .arg(&script)
            .arg("generate")
            .arg(dir.path())
            .args(["--seed", &seed.to_string(), "--lines", "4000"]));
        let toml = dir.path().join("budgets.toml");
        std::fs::write(&toml, budgets_toml(&list)).unwrap();
        let defs = dir.path().join("budgets.json");
        std::fs::write(&defs, Value::Array(list.clone()).to_string()).unwrap();
        for file in ["cur1.csv", "cur2.csv", "focus.csv"] {
            let report = dir.path().join(file);
            let expected: BTreeMap<String, Value> =
                serde_json::from_str(&run(Command::new(&python)
                    .arg(&script)
                    .arg("expect")
                    .arg(&report)
                    .arg(&defs)))
                .unwrap();
            let status: Vec<Value> =
                serde_json::from_str(&run(Command::new(env!("CARGO_BIN_EXE_billwatch"))
                    .args(["budgets", "status", "--json", "--budgets"])
                    .arg(&toml)
                    .arg("--report")
                    .arg(&report)))
                .unwrap();
            assert_eq!(status.len(), list.len());
            for got in status {
                let name = got["name"].as_str().unwrap().to_string();
                let want = &expected[&name];
                let at = format!("seed {seed}, {file}, budget {name}: {got}");
                match want {
                    Value::Null => assert!(
                        got["error"]
                            .as_str()
                            .is_some_and(|e| e.contains("FOCUS has no such column")),
                        "{at}: FOCUS cannot answer it, and must say so"
                    ),
                    Value::String(sum) => {
                        let spend = got["spend"].as_str().unwrap_or_else(|| panic!("{at}"));
                        assert_eq!(
                            Decimal::from_str(spend).unwrap().normalize(),
                            Decimal::from_str(sum).unwrap().normalize(),
                            "{at}: SQL says {sum}"
                        );
                        compared += 1;
                    }
                    other => panic!("{at}: unexpected {other}"),
                }
            }
        }
    }
    // 22 budgets × 3 formats × 3 seeds, less FOCUS's two it cannot answer.
    assert_eq!(compared, 3 * (22 * 3 - 2));
}
