//! `scripts/stack-output` (the CLI's environment from a deployed stack, `eval "$(scripts/stack-output
//! CliEnvironment)"`) works with AWS_REGION alone, as the README says. boto3, which it runs on
//! (and which the SAM CLI of `scripts/sam` runs on), reads only AWS_DEFAULT_REGION: the first
//! test shows that cause, the second that the script gets past it. Runs against the local
//! emulator (./scripts/test), where a small CloudFormation stack stands in for billwatch's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the repository")
        .to_path_buf()
}

/// The project's venv interpreter (boto3 comes with moto), else `python3` on PATH.
fn python() -> PathBuf {
    let venv = repo().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn stack_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test, which starts the local AWS stack")
    })
}

/// A command with the emulator's endpoint and credentials, no config files, and only the
/// region variables given.
fn aws_command(program: &Path, region: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL", stack_env("AWS_ENDPOINT_URL"))
        .env("AWS_ACCESS_KEY_ID", stack_env("AWS_ACCESS_KEY_ID"))
        .env("AWS_SECRET_ACCESS_KEY", stack_env("AWS_SECRET_ACCESS_KEY"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in region {
        cmd.env(k, v);
    }
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A stack with one output, created in the emulator's us-east-1; its name.
fn stack_with_output(value: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("bw-outputs-{}-{n}", std::process::id());
    let script = r#"
import json, sys
import boto3
template = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {"CliEnvironment": {"Value": sys.argv[2]}},
}
boto3.client("cloudformation").create_stack(StackName=sys.argv[1], TemplateBody=json.dumps(template))
"#;
    let out = aws_command(&python(), &[("AWS_DEFAULT_REGION", "us-east-1")])
        .args(["-c", script, &name, value])
        .output()
        .unwrap();
    assert!(out.status.success(), "creating the stack: {}", text(&out));
    name
}

#[test]
fn boto3_alone_ignores_aws_region() {
    let out = aws_command(&python(), &[("AWS_REGION", "us-east-1")])
        .args([
            "-c",
            "import boto3; boto3.client('cloudformation').describe_stacks()",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NoRegionError"),
        "{}",
        text(&out)
    );
}

#[test]
fn stack_output_works_with_aws_region_alone() {
    let value = "export BILLWATCH_TOTALS_TABLE=t BILLWATCH_REPORTS_TABLE=r";
    let stack = stack_with_output(value);
    let script = repo().join("scripts/stack-output");
    for region in [
        vec![("AWS_REGION", "us-east-1")],
        vec![("AWS_DEFAULT_REGION", "us-east-1")],
        // AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS CLI and the SDKs.
        vec![
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "eu-west-3"),
        ],
    ] {
        let out = aws_command(&script, &region)
            .args(["--stack-name", &stack, "CliEnvironment"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{region:?}: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{value}\n"));
    }
    let out = aws_command(&script, &[])
        .args(["--stack-name", &stack, "--region", "us-east-1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("CliEnvironment={value}\n")
    );
    let out = aws_command(&script, &[])
        .args(["--stack-name", &stack])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with(
            "error: no AWS region: pass --region, set AWS_REGION, or run `aws configure` to give \
             your profile one\n"
        ),
        "{}",
        text(&out)
    );
}

/// `scripts/sam` (the SAM CLI, on boto3) with AWS_REGION alone. Needs the SAM CLI's own venv,
/// which CI builds before the tests (`infra/local/venv.sh sam`, a large install); without it
/// the test says so and checks nothing.
#[test]
fn sam_works_with_aws_region_alone() {
    if !repo().join(".venv-sam/bin/sam").exists() {
        eprintln!("not run: .venv-sam is not built (infra/local/venv.sh sam; CI builds it)");
        return;
    }
    let value = "export BILLWATCH_ALERTS_TABLE=a";
    let stack = stack_with_output(value);
    let out = aws_command(&repo().join("scripts/sam"), &[("AWS_REGION", "us-east-1")])
        .env("SAM_CLI_TELEMETRY", "0")
        .args([
            "list",
            "stack-outputs",
            "--stack-name",
            &stack,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outputs[0]["OutputKey"], "CliEnvironment", "{outputs}");
    assert_eq!(outputs[0]["OutputValue"], value, "{outputs}");
}
