//! The CLI as an AWS tool: where AWS is comes from --region/--profile/--endpoint-url over the
//! usual environment, table names follow --stack, and the common failures read plainly with
//! their exit codes (1 for AWS, 2 for bad input). The emulator tests run under ./scripts/test.

use std::process::Command;

/// Runs billwatch with only PATH and `env` in its environment (no AWS settings of the machine),
/// HOME pointing nowhere (no ~/.aws files).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_billwatch"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-billwatch-home")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stack_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test, which starts the local AWS stack")
    })
}

/// The emulator's endpoint and credentials, without any table variable.
fn emulator() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", stack_env("AWS_ACCESS_KEY_ID")),
        ("AWS_SECRET_ACCESS_KEY", stack_env("AWS_SECRET_ACCESS_KEY")),
    ]
}

fn with<'a>(
    base: &'a [(&'static str, String)],
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    out.extend_from_slice(more);
    out
}

#[test]
fn no_region_is_one_plain_sentence_and_exit_1() {
    let (code, stdout, stderr) = run(
        &["totals"],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: no AWS region: pass --region, set AWS_REGION, or run `aws configure` to give your profile one\n"
    );
}

#[test]
fn no_credentials_is_one_plain_sentence_and_exit_1() {
    let (code, _, stderr) = run(&["reports"], &[("AWS_REGION", "eu-west-1")]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        "error: no AWS credentials: run `aws configure`, or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n"
    );
    let (code, _, stderr) = run(
        &["alerts", "--profile", "dev"],
        &[("AWS_DEFAULT_REGION", "eu-west-1")],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: no AWS credentials for profile dev: run `aws configure --profile dev`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_bad_period_exits_2_with_a_plain_message() {
    for args in [
        ["totals", "--period", "2026-13"],
        ["reports", "--period", "nope"],
        ["alerts", "--period", "26-11"],
    ] {
        let (code, stdout, stderr) = run(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("is not a billing period: expected YYYY-MM"),
            "{stderr}"
        );
    }
}

#[test]
fn every_flag_has_help_text() {
    for command in [
        vec!["totals"],
        vec!["history"],
        vec!["reports"],
        vec!["alerts"],
        vec!["alerts", "test"],
        vec!["summarize"],
        vec!["generate"],
        vec!["budgets", "put"],
        vec!["budgets", "list"],
        vec!["budgets", "rm"],
        vec!["budgets", "apply"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let (code, help, _) = run(&args, &[]);
        assert_eq!(code, 0, "{command:?}");
        // An option or argument line is indented by at most 6 spaces; its help is on the
        // same line (after a gap) or on the next, indented by 10.
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let indent = line.len() - line.trim_start().len();
            let t = line.trim_start();
            if indent == 0
                || indent > 6
                || !(t.starts_with('-') || t.starts_with('<') || t.starts_with('['))
            {
                continue;
            }
            if t.starts_with("-h, --help") || t.starts_with("-V, --version") {
                continue;
            }
            let inline = t.contains("  ");
            let below = lines
                .get(i + 1)
                .is_some_and(|l| l.starts_with("          ") && !l.trim().is_empty());
            assert!(inline || below, "{command:?}: no help for {t:?}\n{help}");
        }
        for global in [
            "--region",
            "--profile",
            "--endpoint-url",
            "--stack",
            "--output",
        ] {
            assert!(help.contains(global), "{command:?} lacks {global}");
        }
    }
}

#[test]
fn a_missing_table_says_deployed_try_stack() {
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let base = emulator();
    let env = with(
        &base,
        &[("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", &endpoint)],
    );
    let (code, stdout, stderr) = run(
        &["totals", "--stack", "nosuchstack", "--period", "2026-11"],
        &env,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: nosuchstack-reports not found in us-east-1: is billwatch deployed there? try --stack NAME (now nosuchstack) or --region\n"
    );
}

#[test]
fn region_and_endpoint_flags_stand_in_for_the_environment() {
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let reports = stack_env("BILLWATCH_REPORTS_TABLE");
    let base = emulator();
    let env = with(&base, &[("BILLWATCH_REPORTS_TABLE", &reports)]);
    let (code, stdout, stderr) = run(
        &[
            "reports",
            "--region",
            &region,
            "--endpoint-url",
            &endpoint,
            "--period",
            "2031-01",
            "--output",
            "json",
        ],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["billing_period"], "2031-01");
    assert_eq!(v["reports"], serde_json::json!([]));
    // AWS_DEFAULT_REGION alone is enough too.
    let env = with(
        &base,
        &[
            ("BILLWATCH_REPORTS_TABLE", &reports),
            ("AWS_DEFAULT_REGION", &region),
            ("AWS_ENDPOINT_URL", &endpoint),
        ],
    );
    let (code, stdout, stderr) = run(&["reports", "--period", "2031-01"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "no reports ingested for 2031-01\n");
}
