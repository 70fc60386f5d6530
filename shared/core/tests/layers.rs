//! The core stays pure: no AWS SDK, Lambda runtime, HTTP stack or async runtime may enter its
//! dependency tree, directly or through another crate. The compiler then keeps AWS out of the
//! decisions, not habit.

use std::process::Command;

const FORBIDDEN: [&str; 6] = ["aws-", "aws_", "lambda", "hyper", "tokio", "smithy"];

#[test]
fn the_core_depends_on_no_aws_lambda_hyper_or_tokio_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "billwatch-core",
            "-e",
            "normal,build,dev",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).expect("utf-8");
    assert!(tree.contains("billwatch-core"), "unexpected tree: {tree}");
    let bad: Vec<&str> = tree
        .lines()
        .filter(|line| FORBIDDEN.iter().any(|f| line.starts_with(f)))
        .collect();
    assert!(bad.is_empty(), "billwatch-core depends on {bad:?}");
}
