//! The demo's scripts, offline: the budget `./scripts/demo FILE` sets for one's own report
//! (scripts/demo_budget.py), relative paths read from the caller's directory, step headings
//! without ANSI escapes off a terminal, and `deploy-code --dry`'s unchanged settings in words
//! (scripts/lib.sh).

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the repository")
        .to_path_buf()
}

/// `scripts/demo_budget.py` on this summary: its six words.
fn demo_budget(summary: serde_json::Value) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("summary.json");
    std::fs::write(&file, summary.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(repo().join("scripts/demo_budget.py"))
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn period(name: &str, rows: u64, cost: &str) -> serde_json::Value {
    json!({
        "billing_period": name, "rows_read": rows, "rows_summed": rows,
        "grand_totals": [{"currency": "USD", "cost": cost}],
        "totals": [{"account_id": "123456789012", "service": "AmazonEC2", "cost": cost}],
    })
}

fn percent(spend: &str, amount: &str) -> f64 {
    // (only to compare against the thresholds in the test)
    spend.parse::<f64>().unwrap() / amount.parse::<f64>().unwrap() * 100.0
}

#[test]
fn the_demo_budget_puts_the_spend_past_50_percent_plainly() {
    for spend in ["57.40", "0.30", "0.01", "114.80", "123456.78"] {
        let w = demo_budget(period("2026-11", 10, spend));
        assert_eq!(w[0], "2026-11");
        assert_eq!((w[1].as_str(), w[2].as_str()), (spend, "USD"));
        let p = percent(spend, &w[3]);
        assert!(
            (55.0..70.0).contains(&p),
            "{spend} of {}: {p}% (wants the 50% alert, not the 80%)",
            w[3]
        );
    }
}

#[test]
fn a_spend_of_zero_or_less_gets_a_budget_of_1_without_crashing() {
    for spend in ["0", "-12.5", "-0.01"] {
        let w = demo_budget(period("2026-11", 3, spend));
        assert_eq!(w[3], "1", "{spend}: {w:?}");
    }
}

#[test]
fn a_multi_period_focus_file_budgets_its_main_period() {
    let w = demo_budget(json!({
        "source": "f.csv", "format": "focus",
        "periods": [period("2026-10", 5000, "900"), period("2026-11", 1, "0.02")],
    }));
    assert_eq!(w[0], "2026-10", "{w:?}");
    assert_eq!(w[1], "900");
}

/// bash with scripts/lib.sh sourced, running `script` in `dir`; stdout (a pipe: no terminal).
fn lib(dir: &Path, script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". '{}'; {script}",
            repo().join("scripts/lib.sh").display()
        ))
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn relative_paths_are_read_from_the_callers_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.csv"), "x").unwrap();
    std::fs::create_dir(dir.path().join("parts")).unwrap();
    let out = lib(
        dir.path(),
        "caller_paths report.csv parts /abs/x missing.csv; printf '%s\\n' \"${args[@]}\"",
    );
    let here = dir.path().canonicalize().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            here.join("report.csv").to_str().unwrap(),
            here.join("parts").to_str().unwrap(),
            "/abs/x",
            "missing.csv",
        ]
    );
    // scripts/demo and scripts/shell resolve them before they cd to the repository.
    for script in ["scripts/demo", "scripts/shell"] {
        let text = std::fs::read_to_string(repo().join(script)).unwrap();
        let resolve = text.find("caller_paths \"$@\"").expect(script);
        let cd = text.find("\ncd ").expect(script);
        assert!(resolve < cd, "{script} must resolve paths before its cd");
    }
}

#[test]
fn step_headings_have_no_escapes_off_a_terminal() {
    let out = lib(Path::new("/"), "step 'Building billwatch'");
    assert_eq!(out, "\n== Building billwatch\n");
    // demo-flow.sh uses this step, not an escape of its own.
    let flow = std::fs::read_to_string(repo().join("scripts/demo-flow.sh")).unwrap();
    assert!(
        !flow.contains("\\033"),
        "demo-flow.sh writes escapes itself"
    );
}

#[test]
fn deploy_codes_dry_run_says_unchanged_instead_of_none() {
    let out = lib(
        Path::new("/"),
        "printf 'function: x\\ntimeout: None, memory: None\\nrole: r\\n' | unchanged_settings",
    );
    assert_eq!(
        out,
        "function: x\ntimeout: unchanged (kept as deployed), memory: unchanged (kept as deployed)\nrole: r\n"
    );
}
