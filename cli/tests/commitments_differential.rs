//! The differential test of commitments (issue 21): on generated CUR 1.0 and CUR 2.0 files with
//! Reserved Instances and Savings Plans, `billwatch commitments --report FILE --json` must give
//! each commitment's commitment to date, use and unused cost, and each service family's coverage
//! sums, equal to the last digit to an independent SQL computation of the same definitions
//! (DuckDB, `tests/differential/budgets_sql.py commitments`, written from the reference's
//! definitions). DuckDB comes from the project's venv: run through ./scripts/test.

mod common;

use common::{differential_script as script, python_with_duckdb as python};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn d(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {v}")),
    )
    .unwrap()
}

type Figures = BTreeMap<String, Vec<Decimal>>;

/// billwatch's figures: per commitment [committed, used, unused cost], per family the coverage
/// sums, in the order the SQL gives them.
fn billwatch(file: &Path) -> (Figures, Figures, Value) {
    let text = run(Command::new(env!("CARGO_BIN_EXE_billwatch")).args([
        "commitments",
        "--json",
        "--report",
        file.to_str().unwrap(),
    ]));
    let j: Value = serde_json::from_str(&text).unwrap();
    let commitments = j["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            (
                id,
                vec![d(&c["committed"]), d(&c["used"]), d(&c["unused_cost"])],
            )
        })
        .collect();
    let coverage = j["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let f = c["family"].as_str().unwrap().to_string();
            let sums = [
                "covered_on_demand_cost",
                "on_demand_cost",
                "reserved_hours",
                "on_demand_hours",
            ]
            .map(|k| d(&c[k]))
            .to_vec();
            (f, sums)
        })
        .collect();
    (commitments, coverage, j)
}

fn sql(python: &str, file: &Path) -> (Figures, Figures) {
    let text = run(Command::new(python)
        .arg(script())
        .arg("commitments")
        .arg(file));
    let j: Value = serde_json::from_str(&text).unwrap();
    let figures = |key: &str| -> Figures {
        j[key]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_array().unwrap().iter().map(d).collect()))
            .collect()
    };
    (figures("commitments"), figures("coverage"))
}

#[test]
fn utilization_unused_cost_and_coverage_equal_an_independent_sql_computation() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for seed in [1, 2, 3] {
        let out = dir.path().join(format!("seed-{seed}"));
        run(Command::new(&python)
            .arg(script())
            .arg("generate")
            .arg(&out)
            .args(["--seed", &seed.to_string(), "--lines", "1500"]));
        for flavor in ["cur1.csv", "cur2.csv"] {
            let file = out.join(flavor);
            let (commitments, coverage, j) = billwatch(&file);
            let (want_commitments, want_coverage) = sql(&python, &file);
            assert!(!want_commitments.is_empty() && !want_coverage.is_empty());
            assert_eq!(
                commitments, want_commitments,
                "seed {seed}, {flavor}: commitments"
            );
            assert_eq!(coverage, want_coverage, "seed {seed}, {flavor}: coverage");
            // Utilization is used ÷ committed of those sums, never 0 for nothing committed.
            for c in j["commitments"].as_array().unwrap() {
                let (used, committed) = (d(&c["used"]), d(&c["committed"]));
                match committed.is_zero() {
                    true => assert!(c["utilization"].is_null()),
                    false => assert_eq!(d(&c["utilization"]), (used / committed).normalize()),
                }
            }
            compared += commitments.len() + coverage.len();
        }
    }
    assert!(compared > 50, "only {compared} figures compared");
}
